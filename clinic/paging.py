"""A page of rows without counting them all: one extra row says whether a next page exists.

Django's Paginator runs COUNT(*) over the whole result; on a browse list of every
patient that count costs more than the page itself.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

MAX_PAGE = 100_000  # beyond any list a clinic has; keeps OFFSET within bigint


@dataclass
class OffsetPage:
    number: int
    object_list: list = field(default_factory=list)
    has_next: bool = False
    paginator = None  # no total known

    @classmethod
    def of(cls, queryset: QuerySet, number: str | int | None, size: int) -> "OffsetPage":
        try:
            page = min(max(int(number or 1), 1), MAX_PAGE)
        except (TypeError, ValueError):
            page = 1
        start = (page - 1) * size
        rows = list(queryset[start : start + size + 1])
        return cls(number=page, object_list=rows[:size], has_next=len(rows) > size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
