"""Writes to session logs: save a draft, sign it, amend it, follow it up.

A session and all its injections and lots are saved in one transaction. A save
names the version it was edited from; a stale save changes nothing.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from clinic.concurrency import StaleEdit, what_changed
from clinic.numbers import plain
from patients.models import Consent, ConsentKind
from treatments import formulary
from treatments.models import (
    Amendment,
    Checklist,
    Injection,
    InjectionLot,
    SideEffect,
    TreatmentSession,
)

SESSION_FIELDS_SHOWN_ON_CONFLICT = [
    "location",
    "performed_at",
    "immediate_reactions",
    "aftercare",
    "next_appointment",
    "notes",
]


@dataclass
class PlannedInjection:
    """An injection to save with the lot chosen for each compound of its formula."""

    injection: Injection
    lots: list = field(default_factory=list)  # CompoundLot rows


@transaction.atomic
def save_session(
    *,
    session: TreatmentSession,
    injections: list[PlannedInjection],
    expected_version: int | None,
) -> TreatmentSession:
    """Create or replace a draft with its injections: everything is written, or nothing."""
    if session.patient.archived:
        raise ValidationError("This patient is archived: no session can be recorded.")
    if session.pk is not None:
        current = TreatmentSession.objects.select_for_update().get(pk=session.pk)
        if current.is_signed:
            raise ValidationError("This session is signed: record an amendment instead.")
        if current.version != expected_version:
            changed = what_changed(current, expected_version, SESSION_FIELDS_SHOWN_ON_CONFLICT)
            if _injection_summary(current) != _injection_summary_of(injections):
                changed["injections"] = ("as you saw them", _injection_summary(current))
            raise StaleEdit(current, changed)
        session.version = current.version + 1
        Injection.objects.filter(session=session).delete()  # lots go with them (cascade)
    session.full_clean()
    session.save()
    for planned in injections:
        injection = planned.injection
        injection.pk = None
        injection.session = session
        injection.region_label = injection.region.label
        injection.formula_name = injection.formula.name
        injection.full_clean(exclude=["session"])
        injection.save()
        ingredients = {i.compound_id: i for i in injection.formula.ingredients.all()}
        InjectionLot.objects.bulk_create(
            InjectionLot(
                injection=injection,
                compound=lot.compound,
                lot=lot,
                compound_name=lot.compound.name,
                lot_number=lot.lot_number,
                lot_expiry=lot.expiry_date,
                amount_per_ml=ingredients[lot.compound_id].amount_per_ml,
                amount_unit=ingredients[lot.compound_id].unit,
            )
            for lot in planned.lots
        )
    return session


def _injection_summary(session: TreatmentSession) -> str:
    rows = session.injections.select_related("region").order_by("region__label")
    return "; ".join(f"{i.region.label} {plain(i.volume_ml)} mL" for i in rows) or "none"


def _injection_summary_of(injections: list[PlannedInjection]) -> str:
    rows = sorted(injections, key=lambda p: p.injection.region.label)
    return (
        "; ".join(f"{p.injection.region.label} {plain(p.injection.volume_ml)} mL" for p in rows)
        or "none"
    )


def signing_problems(session: TreatmentSession) -> list[str]:
    """Everything that stands between this draft and a signature."""
    problems = checklist_problems(session)
    if session.check_consent_current and not has_treatment_consent(session.patient):
        problems.append(
            "“Consent on file and current” is ticked, but no treatment consent is in force "
            "for this patient: record the signed consent, or untick the item and give the reason."
        )
    problems += _formulary_problems(session)
    if not session.injections.exists():
        problems.append("Record at least one injection before signing.")
    return problems


def _formulary_problems(session: TreatmentSession) -> list[str]:
    """The formulary again at signing: the catalogue may have changed since the draft."""
    problems = []
    injections = session.injections.prefetch_related("lots__compound")
    for injection in injections:
        try:
            formulary.check(
                [used.compound for used in injection.lots.all()],
                session.location.jurisdiction,
                acknowledged=injection.restricted_acknowledged,
                note=injection.restricted_note,
            )
        except ValidationError as error:
            problems += [f"{injection.region_label}: {message}" for message in error.messages]
    return problems


def has_treatment_consent(patient) -> bool:
    return (
        Consent.objects.in_force()
        .filter(patient=patient, template__kind=ConsentKind.TREATMENT)
        .exists()
    )


def checklist_problems(session: TreatmentSession) -> list[str]:
    return [
        f"Checklist: confirm “{label}” or give the reason it was not done."
        for name, label in Checklist.ITEMS
        if not getattr(session, f"check_{name}")
        and not getattr(session, f"check_{name}_reason").strip()
    ]


@transaction.atomic
def sign_session(
    *,
    session: TreatmentSession,
    user: AbstractBaseUser,
    render_pdf,
    expected_version: int | None = None,
) -> TreatmentSession:
    """Freeze the session: check it, render its PDF once, store it with its SHA-256.

    `render_pdf(session) -> bytes` draws the summary as signed.
    """
    current = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    if current.is_signed:
        raise ValidationError("This session is already signed.")
    if expected_version is not None and current.version != expected_version:
        raise ValidationError(
            "The draft changed after you opened it: review the new version before signing."
        )
    problems = signing_problems(current)
    if problems:
        raise ValidationError(problems)
    current.status = TreatmentSession.Status.SIGNED
    current.signed_at = timezone.now()
    current.signed_by = user
    current.version += 1
    pdf = render_pdf(current)
    current.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    current.pdf.save(
        f"session-{current.pk}-{current.pdf_sha256[:12]}.pdf", ContentFile(pdf), save=False
    )
    # One UPDATE from draft to signed: after it the database refuses any change.
    current.save()
    return current


@transaction.atomic
def add_amendment(
    *, session: TreatmentSession, author: AbstractBaseUser, reason: str, text: str
) -> Amendment:
    if not session.is_signed:
        raise ValidationError(
            "A draft is corrected by editing it; amendments are for signed sessions."
        )
    amendment = Amendment(session=session, author=author, reason=reason, text=text)
    amendment.full_clean()
    amendment.save()
    return amendment


@transaction.atomic
def add_side_effect(*, side_effect: SideEffect, user: AbstractBaseUser) -> SideEffect:
    side_effect.recorded_by = user
    if side_effect.resolved_at and side_effect.resolved_at < side_effect.onset:
        raise ValidationError({"resolved_at": "It cannot resolve before it began."})
    side_effect.full_clean()
    side_effect.save()
    return side_effect


@transaction.atomic
def resolve_side_effect(*, side_effect: SideEffect, resolved_at) -> SideEffect:
    current = SideEffect.objects.select_for_update().get(pk=side_effect.pk)
    if current.resolved_at is not None:
        raise ValidationError("This follow-up is already marked resolved.")
    if resolved_at < current.onset:
        raise ValidationError("It cannot resolve before it began.")
    if resolved_at > timezone.now():
        raise ValidationError("The time it resolved cannot be in the future.")
    current.resolved_at = resolved_at
    current.save(update_fields=["resolved_at"])
    return current


@dataclass(frozen=True)
class CompoundTotal:
    name: str
    amount: Decimal
    unit: str
    lots: tuple[str, ...]


def totals(injections: list[Injection]) -> tuple[Decimal, int, list[CompoundTotal]]:
    """Total volume, total points and the amount of each compound, computed, never typed,
    from what the injections recorded (not from today's catalogue).

    Expects injections with their lots prefetched.
    """
    volume = sum((i.volume_ml for i in injections), Decimal("0"))
    points = sum(i.points for i in injections)
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    lots: dict[tuple[str, str], set[str]] = defaultdict(set)
    for injection in injections:
        for used in injection.lots.all():
            key = (used.compound_name, used.amount_unit)
            amounts[key] += used.amount_per_ml * injection.volume_ml
            lots[key].add(used.lot_number)
    per_compound = [
        CompoundTotal(
            name, amount.quantize(Decimal("0.001")), unit, tuple(sorted(lots[name, unit]))
        )
        for (name, unit), amount in sorted(amounts.items())
    ]
    return volume, points, per_compound
