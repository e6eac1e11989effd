"""Query budgets: a page's number of queries must not grow with the data behind it.

    small = page_queries(client, url)          # after building a small history
    ...build more of the same data...
    large = page_queries(client, url)
    assert_no_growth("chart", small, large)

Counting rather than timing: a test can say this on any machine, and an N+1 (a query
per session, per use of a lot) shows as a count that follows the data.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.responses import read


@dataclass
class PageQueries:
    url: str
    status: int
    statements: list[str]

    @property
    def count(self) -> int:
        return len(self.statements)


def page_queries(client, url: str, method: str = "get", **kwargs) -> PageQueries:
    """The SQL statements one request runs; the page must answer 200, or 302 after a write."""
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
        read(response)  # a streamed response runs its queries as it is read
    assert response.status_code in (200, 302), f"{url} answered {response.status_code}"
    return PageQueries(url, response.status_code, [q["sql"] for q in captured.captured_queries])


def _shape(sql: str) -> str:
    """A statement without its literal values, so repeats of one query group together."""
    import re

    return re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:160]


def assert_no_growth(page: str, small: PageQueries, large: PageQueries) -> None:
    """The larger data set runs no more queries than the smaller; on failure, name the
    statements that repeat more often."""
    if large.count <= small.count:
        return
    before, after = Counter(map(_shape, small.statements)), Counter(map(_shape, large.statements))
    grown = [f"  {after[s] - before[s]:+d}× {s}" for s in after if after[s] > before[s]]
    raise AssertionError(
        f"{page}: {small.count} queries on the small data, {large.count} on the large:\n"
        + "\n".join(grown)
    )
