"""Lots: who may quarantine one, quarantine it or lift its quarantine (from its recall
page or the console), and what a recall reads (every patient who received a lot, and
how much of the compound)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation

from clinic.access import LIFT_LOT_QUARANTINE, QUARANTINE_LOT
from patients.models import Patient
from patients.search import NAME_ORDER
from treatments.models import (
    BodyRegion,
    CompoundLot,
    FormulaIngredient,
    InjectionLot,
    LotAmount,
    LotSession,
    LotTotal,
    TreatmentSession,
)


def may_change_quarantine(user: AbstractBaseUser, *, lifting: bool) -> bool:
    """Who may quarantine a lot (a practitioner or the catalogue administrator) and who
    may lift a quarantine (the catalogue administrator): the recall page, the lot's
    form in the console and the writes below all ask here."""
    return user.has_perm(LIFT_LOT_QUARANTINE if lifting else QUARANTINE_LOT)


def check_quarantine_change(
    *, lot: CompoundLot, user: AbstractBaseUser, reason: str, lifting: bool
) -> None:
    """PermissionDenied or ValidationError if `user` may not quarantine the lot (or lift
    its quarantine) now, for this reason; the lot's own rule says what the lot allows."""
    if not may_change_quarantine(user, lifting=lifting):
        raise PermissionDenied
    if lifting:
        lot.check_lift_quarantine(reason)
    else:
        lot.check_quarantine(reason)


@transaction.atomic
def change_quarantine(
    *, lot: CompoundLot, user: AbstractBaseUser, reason: str, lifting: bool
) -> CompoundLot:
    """Quarantine the lot or lift its quarantine, on the row locked: two clicks at once
    quarantine it once, and the second is refused as already done."""
    current = CompoundLot.objects.select_for_update().get(pk=lot.pk)
    check_quarantine_change(lot=current, user=user, reason=reason, lifting=lifting)
    if lifting:
        current.lift_quarantine(by=user, reason=reason)
    else:
        current.quarantine(by=user, reason=reason)
    current.full_clean()
    current.save()
    return current


def quarantine_lot(*, lot: CompoundLot, user: AbstractBaseUser, reason: str) -> CompoundLot:
    return change_quarantine(lot=lot, user=user, reason=reason, lifting=False)


def lift_lot_quarantine(*, lot: CompoundLot, user: AbstractBaseUser, reason: str) -> CompoundLot:
    return change_quarantine(lot=lot, user=user, reason=reason, lifting=True)


def recipients(lot: CompoundLot) -> QuerySet:
    """The patients who received the lot, drafts included, in name order (archived ones
    too: they were injected). Walks the patients' name index and asks LotSession's
    (lot, patient) index of each: the first page of a lot used 235,000 times reads a
    few hundred index entries, not every use."""
    received = LotSession.objects.filter(lot=lot, patient=OuterRef("pk"))
    return Patient.objects.filter(Exists(received)).order_by(*NAME_ORDER)


@dataclass
class RecalledSession:
    """A session in which the patient received the lot: read as plain values (a recall
    of 30,000 patients makes no model instance per use)."""

    id: int
    performed_at: datetime
    status: str
    location: str
    zones: list[str] = field(default_factory=list)
    volume_ml: Decimal = Decimal("0")  # of the mixture, in the zones that used the lot
    # Amount of the lot's compound per unit, as recorded: the injected volume of the
    # mixture times the compound's amount per mL of that mixture.
    amounts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def amount_list(self) -> list[tuple[Decimal, str]]:
        return _amounts(self.amounts)

    def get_status_display(self) -> str:
        return TreatmentSession.Status(self.status).label

    def get_absolute_url(self) -> str:
        return session_url_pattern().replace(ANY_SESSION, str(self.id))


# A session's address but for its id: reversed once, each session's id put in its place
# (a recall page links 150 sessions, the most-used lot's CSV 70,000).
ANY_SESSION = "987654321"


def session_url_pattern() -> str:
    """The session page's address with ANY_SESSION for the id."""
    return _session_url(get_script_prefix(), get_urlconf())


@lru_cache(maxsize=4)
def _session_url(prefix: str, urlconf) -> str:
    """Per script prefix and URL configuration, as reverse() would read them."""
    return reverse("treatments:session", args=[ANY_SESSION], urlconf=urlconf)


@dataclass
class RecalledPatient:
    patient: Patient
    sessions: list[RecalledSession] = field(default_factory=list)

    def amount_list(self) -> list[tuple[Decimal, str]]:
        total: dict[str, Decimal] = defaultdict(Decimal)
        for row in self.sessions:
            for unit, amount in row.amounts.items():
                total[unit] += amount
        return _amounts(total)


def _amounts(by_unit: dict[str, Decimal]) -> list[tuple[Decimal, str]]:
    """(amount, unit as shown): one pair per unit, as a lot may be dosed in mg in one
    mixture and in µg in another."""
    labels = _unit_labels(translation.get_language())
    return [
        (amount.quantize(Decimal("0.001")), labels.get(unit, unit))
        for unit, amount in sorted(by_unit.items())
    ]


@lru_cache(maxsize=8)
def _unit_labels(language: str | None) -> dict[str, str]:
    """The units' labels in one language, made once (a recall CSV asks 70,000 times)."""
    with translation.override(language):
        return {unit: str(label) for unit, label in FormulaIngredient.Unit.choices}


def recall_rows(lot: CompoundLot, patients: list[Patient]) -> list[RecalledPatient]:
    """For each of `patients` (a page, or all of them), the sessions in which they
    received the lot, the zones, and the amount of the lot's compound, in one query
    (and one for the body regions, a few dozen rows)."""
    # The sessions from LotSession's (lot, patient) index, then their injections' lots:
    # a page of patients never walks the lot's every use.
    sessions = LotSession.objects.filter(lot=lot, patient__in=patients).values("session_id")
    uses = (
        InjectionLot.objects.filter(lot=lot, injection__session__in=sessions)
        .order_by(
            "injection__session__performed_at",
            "injection__session_id",
            "injection__region__sort_order",
        )
        .values_list(
            "injection__session_id",
            "injection__session__patient_id",
            "injection__session__performed_at",
            "injection__session__status",
            "injection__session__location__name",
            "injection__region_id",
            "injection__region_label",
            "injection__volume_ml",
            "amount_per_ml",
            "amount_unit",
        )
    )
    regions = BodyRegion.objects.in_bulk()
    labels: dict[tuple[int, str], str] = {}  # a region's label, in the language drawn
    by_patient = {patient.pk: RecalledPatient(patient) for patient in patients}
    by_session: dict[int, RecalledSession] = {}
    for session_id, patient_id, at, status, location, region, label, volume, per_ml, unit in uses:
        row = by_session.get(session_id)
        if row is None:
            row = by_session[session_id] = RecalledSession(session_id, at, status, location)
            by_patient[patient_id].sessions.append(row)
        if (region, label) not in labels:
            labels[region, label] = regions[region].shown_label(label)
        row.zones.append(labels[region, label])
        row.volume_ml += volume
        row.amounts[unit] += volume * per_ml
    return list(by_patient.values())


@dataclass(frozen=True)
class QuarantineChange:
    at: datetime
    by: object  # User, or None
    reason: str
    lifted: bool


def quarantine_history(lot: CompoundLot) -> list[QuarantineChange]:
    """Each quarantine of the lot and each lift, oldest first, read from the lot's
    history (pghistory keeps every state; the lot itself holds only the latest)."""
    events = lot.events.select_related("quarantined_by", "quarantine_lifted_by").order_by("pgh_id")
    changes, was_quarantined = [], False
    for event in events:
        quarantined = event.quarantined_at is not None
        if quarantined and not was_quarantined:
            changes.append(
                QuarantineChange(
                    event.quarantined_at, event.quarantined_by, event.quarantine_reason, False
                )
            )
        elif was_quarantined and not quarantined:
            changes.append(
                QuarantineChange(
                    event.quarantine_lifted_at,
                    event.quarantine_lifted_by,
                    event.quarantine_lift_reason,
                    True,
                )
            )
        was_quarantined = quarantined
    return changes


@dataclass(frozen=True)
class RecallTotals:
    patients: int
    sessions: int
    injections: int
    amounts: list[tuple[Decimal, str]]


def recall_totals(lot: CompoundLot) -> RecallTotals:
    """What the whole recall counts (every page): the lot's LotTotal row and its
    LotAmount rows, kept by the database as uses are recorded, in two queries whatever
    the lot's uses (a count over the 235,000 uses of the most-used lot took 45 ms)."""
    total = LotTotal.objects.filter(lot=lot).first()
    # A unit whose uses were all taken back (a draft's lot changed) keeps a row at zero.
    amounts = _amounts(
        dict(LotAmount.objects.filter(lot=lot).exclude(amount=0).values_list("unit", "amount"))
    )
    if total is None:  # never used
        return RecallTotals(patients=0, sessions=0, injections=0, amounts=amounts)
    return RecallTotals(
        patients=total.patients,
        sessions=total.sessions,
        injections=total.injections,
        amounts=amounts,
    )
