"""The dashboard's sections: what the day holds and what needs someone, per role.

Each section is one bounded query (a list of at most LIMIT rows, and whether more
wait), whatever the size of the clinic; the patients shown are access-logged by the
view. The domain queries are the QuerySet methods the rest of the application uses.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from clinic.access import VIEW_CLINICAL, VIEW_LOTS, VIEW_SESSION_LIST
from treatments.models import CompoundLot, SideEffect, TreatmentMap, TreatmentSession

LIMIT = 20
UPCOMING_DAYS = 7  # the appointments section looks a week ahead
STALE_DRAFT = timedelta(days=1)  # a draft left longer than this is flagged
EXPIRY_WARNING_DAYS = 30


@dataclass
class Section:
    rows: list
    more: bool  # more rows than shown: the count reads "20+"

    @classmethod
    def of(cls, queryset, limit: int = LIMIT) -> "Section":
        rows = list(queryset[: limit + 1])
        return cls(rows=rows[:limit], more=len(rows) > limit)

    @property
    def count(self) -> str:
        return f"{len(self.rows)}+" if self.more else str(len(self.rows))


@dataclass
class Dashboard:
    sections: dict[str, Section] = field(default_factory=dict)
    stale_drafts: int = 0

    def patients(self) -> list:
        """Every patient a section names, for the access log."""
        shown = []
        for name in ("today", "appointments", "drafts"):
            shown += [s.patient for s in self.sections[name].rows] if name in self else []
        if "due" in self:
            shown += [plan.patient for plan in self.sections["due"].rows]
        if "flagged" in self:
            shown += [effect.session.patient for effect in self.sections["flagged"].rows]
        return shown

    def __contains__(self, name: str) -> bool:
        return name in self.sections


def lot_sections(dashboard: Dashboard, today) -> None:
    """Lots that need the catalogue's attention: usable lots expiring soon, and lots
    quarantined while still in date (in stock, to be set aside or returned)."""
    lots = CompoundLot.objects.select_related("compound")
    dashboard.sections["expiring_lots"] = Section.of(
        lots.not_quarantined().expiring_within(today, EXPIRY_WARNING_DAYS)
    )
    dashboard.sections["quarantined_lots"] = Section.of(
        lots.quarantined().usable_on(today).order_by("-quarantined_at", "id")
    )


def build(user: AbstractBaseUser, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_of_day = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    dashboard = Dashboard()
    sections = dashboard.sections
    if user.has_perm(VIEW_SESSION_LIST):
        # Each section joins only what its lines show: fewer joins to plan and rows to build.
        sessions = TreatmentSession.objects.select_related("patient")
        sections["today"] = Section.of(sessions.on_day(today).order_by("performed_at", "id"))
        sections["appointments"] = Section.of(
            sessions.booked_between(start_of_day, start_of_day + timedelta(days=UPCOMING_DAYS))
            .select_related("treatment_map__indication")
            .order_by("next_appointment", "id")
        )
        sections["due"] = Section.of(
            TreatmentMap.objects.due_before(
                start_of_day + timedelta(days=1), now=now
            ).select_related("patient", "indication")
        )
        sections["drafts"] = Section.of(
            sessions.drafts().select_related("practitioner").order_by("performed_at", "id")
        )
        for draft in sections["drafts"].rows:
            draft.stale = draft.performed_at < now - STALE_DRAFT
        dashboard.stale_drafts = sum(draft.stale for draft in sections["drafts"].rows)
    if user.has_perm(VIEW_CLINICAL):
        sections["flagged"] = Section.of(
            SideEffect.objects.needing_attention(now)
            .select_related("session__patient")
            .order_by("onset", "id")
        )
    if user.has_perm(VIEW_LOTS):
        lot_sections(dashboard, today)
    return dashboard
