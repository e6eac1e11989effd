"""What the apps built on patients add to a patient's pages.

patients sits below them and cannot import them, so each registers its part here from
its AppConfig.ready() (treatments/record.py): sections of the chart, and the rows of the
record that the history page follows below the patient.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.http import HttpRequest

# The chart's clinical sections: each returns the context its part of the chart reads.
ChartSection = Callable[[HttpRequest, models.Model], dict]


@dataclass
class History:
    """How the history page follows the record below the patient."""

    # (model label, lookup from it to the patient): the rows whose events are the record's,
    # found by what they reference (a zone points at its map, an injection at its session).
    levels: list[tuple[str, str]] = field(default_factory=list)
    # Rows pointed at that are shown by their name, by model label; others as their kind
    # and number ("treatment map 3").
    named: dict[str, Callable[[models.Model], str]] = field(default_factory=dict)
    # Labels copied onto a row when it was written (column -> the column of the row they
    # copy), shown through that row in the reader's language.
    snapshots: dict[str, str] = field(default_factory=dict)


CHART_SECTIONS: dict[str, ChartSection] = {}
HISTORY = History()


def add_chart_section(name: str, section: ChartSection) -> None:
    CHART_SECTIONS[name] = section  # by name: registering twice changes nothing


def add_history(
    *,
    levels: list[tuple[str, str]],
    named: dict[str, Callable[[models.Model], str]],
    snapshots: dict[str, str],
) -> None:
    HISTORY.levels.extend(level for level in levels if level not in HISTORY.levels)
    HISTORY.named.update(named)
    HISTORY.snapshots.update(snapshots)
