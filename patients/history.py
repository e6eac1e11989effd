"""A patient's history: every change to the rows of the record, and who made it."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.translation import pgettext_lazy
from pghistory.models import Events

from patients.models import Patient

# Columns that say nothing to a reader (bookkeeping, stored file names, hashes).
HIDDEN_FIELDS = {"version", "search_vector", "updated_at"}
# pghistory's event labels, as the history page names them.
LABELS = {
    "insert": pgettext_lazy("history event", "insert"),
    "update": pgettext_lazy("history event", "update"),
    "delete": pgettext_lazy("history event", "delete"),
}


@dataclass
class Change:
    at: datetime
    what: str  # "Patient 12", "Measurement 40"
    label: str  # insert, update, delete
    user: str  # who, from the request that made it ("" for a script or a migration)
    fields: list[tuple[str, object, object]]  # (field, before, after); after only on insert

    @property
    def label_display(self) -> str:
        return str(LABELS.get(self.label, self.label))


# The record's rows that others point at, below the patient: a zone points at its map, an
# injection or a follow-up at its session, a lot used at its injection. Each level's
# events are found by what they reference (pghistory queries one model at a time).
RECORD_LEVELS = [
    ("treatments.TreatmentMap", "patient"),
    ("treatments.TreatmentSession", "patient"),
    ("treatments.Injection", "session__patient"),
]


def _events(patient: Patient, limit: int) -> list:
    levels = [[patient]] + [
        list(apps.get_model(model).objects.filter(**{path: patient}).order_by("pk"))
        for model, path in RECORD_LEVELS
    ]
    found = {}
    for rows in levels:
        if rows:
            for event in Events.objects.references(rows).order_by("-pgh_created_at")[:limit]:
                found[(event.pgh_model, event.pgh_id)] = event  # a session's own events twice
    return sorted(found.values(), key=lambda event: event.pgh_created_at, reverse=True)[:limit]


def record_changes(patient: Patient, *, limit: int) -> list[Change]:
    """The newest `limit` events of the patient and of every tracked row of its record:
    those pointing at it, and those pointing at its maps, sessions and injections."""
    events = _events(patient, limit)
    user_ids = {
        (event.pgh_context or {}).get("user")
        for event in events
        if isinstance((event.pgh_context or {}).get("user"), int)
    }
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    changes = []
    for event in events:
        context = event.pgh_context or {}
        if event.pgh_diff:
            fields = [(name, old, new) for name, (old, new) in sorted(event.pgh_diff.items())]
        else:
            fields = [(name, None, value) for name, value in sorted(event.pgh_data.items())]
        changes.append(
            Change(
                at=event.pgh_created_at,
                what=f"{event.pgh_obj_model.rpartition('.')[2]} {event.pgh_obj_id}",
                label=event.pgh_label,
                user=names.get(context.get("user"), ""),
                fields=[
                    field
                    for field in fields
                    if field[0] not in HIDDEN_FIELDS and not field[0].startswith("pgh_")
                ],
            )
        )
    return changes
