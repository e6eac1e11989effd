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
from django.utils.translation import gettext, ngettext

from clinic.concurrency import StaleEdit, what_changed
from clinic.i18n import in_patient_language
from clinic.numbers import format_amount
from patients.models import ConsentKind
from patients.services import has_consent
from treatments import formulary
from treatments.models import (
    Acknowledgement,
    Amendment,
    Checklist,
    CompoundLot,
    Injection,
    InjectionLot,
    SideEffect,
    TreatmentSession,
    Unusable,
)
from treatments.services.signature import alert_snapshot, changes_since_treatment

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


def formulary_rules(*, session: TreatmentSession, injections: list[PlannedInjection]) -> dict:
    """The rules of the session's jurisdiction on every compound of these injections, in
    one query: pass them to injection_problems for each (it asks once per injection)."""
    if session.location_id is None:
        return {}
    return formulary.rules_for(
        session.location.jurisdiction,
        (
            ingredient.compound_id
            for planned in injections
            if planned.injection.formula_id is not None
            for ingredient in planned.injection.formula.ingredients.all()
        ),
    )


def injection_problems(
    *, session: TreatmentSession, planned: PlannedInjection, rules: dict | None = None
) -> dict:
    """What the formulary and the lots say of one injection in this session.

    Keyed by what the problem is about: "formula", or "lot_<compound id>" for the lot
    of one compound (the session form names its lot fields the same way). `rules`: from
    formulary_rules, when checking several injections; else queried here.
    """
    injection, problems = planned.injection, defaultdict(list)
    if injection.formula_id is None or session.location_id is None:
        return {}
    compounds = formulary.formula_compounds(injection.formula)
    try:
        formulary.check(
            compounds,
            session.location.jurisdiction,
            acknowledged=injection.restricted_acknowledged,
            note=injection.restricted_note,
            rules=rules,
        )
    except ValidationError as error:
        problems["formula"] += error.messages
    lots = {lot.compound_id: lot for lot in planned.lots}
    for compound in compounds:
        lot = lots.pop(compound.pk, None)
        if lot is None:
            problems[f"lot_{compound.pk}"].append(
                gettext("Choose the lot of %(compound)s used.") % {"compound": compound.name}
            )
        elif session.performed_at is not None and (
            message := lot_unusable_message(lot, session.performed_at)
        ):
            problems[f"lot_{compound.pk}"].append(message)
    for lot in lots.values():  # a lot of a compound the mixture does not contain
        problems["formula"].append(
            gettext("Lot %(number)s is of %(compound)s, which is not in %(formula)s.")
            % {
                "number": lot.lot_number,
                "compound": lot.compound.name,
                "formula": injection.formula.name,
            }
        )
    return dict(problems)


def lot_unusable_message(lot: CompoundLot, when) -> str | None:
    """What is said of a lot chosen for an injection at `when` that the rule refuses
    (CompoundLot.unusable_at), or None."""
    reason = lot.unusable_at(when)
    names = {"number": lot.lot_number, "compound": lot.compound.name}
    if reason == Unusable.NOT_RECEIVED:
        return gettext(
            "Lot %(number)s of %(compound)s was received on %(date)s, after the session date."
        ) % {**names, "date": f"{lot.received_on:%Y-%m-%d}"}
    if reason == Unusable.EXPIRED:
        return gettext(
            "Lot %(number)s of %(compound)s expired on %(date)s, before the session date."
        ) % {**names, "date": f"{lot.expiry_date:%Y-%m-%d}"}
    if reason == Unusable.QUARANTINED:
        since = timezone.localtime(lot.quarantined_at)
        return gettext(
            "Lot %(number)s of %(compound)s is quarantined since %(since)s "
            "(%(reason)s): choose another lot."
        ) % {**names, "since": f"{since:%Y-%m-%d %H:%M}", "reason": lot.quarantine_reason}
    return None


@transaction.atomic
def save_session(
    *,
    session: TreatmentSession,
    injections: list[PlannedInjection],
    expected_version: int | None,
) -> TreatmentSession:
    """Create or replace a draft with its injections: everything is written, or nothing."""
    session.patient.check_writable()
    if session.pk is not None:
        current = TreatmentSession.objects.select_for_update().get(pk=session.pk)
        if current.is_signed:
            raise ValidationError(gettext("This session is signed: record an amendment instead."))
        if current.version != expected_version:
            changed = what_changed(current, expected_version, SESSION_FIELDS_SHOWN_ON_CONFLICT)
            if _injection_summary(current) != _injection_summary_of(injections):
                changed["injections"] = (gettext("as you saw them"), _injection_summary(current))
            raise StaleEdit(current, changed)
        session.version = current.version + 1
        Injection.objects.filter(session=session).delete()  # lots go with them (cascade)
    if not injections:
        raise ValidationError(gettext("Record at least one treated zone."))
    regions = [planned.injection.region_id for planned in injections]
    if len(regions) != len(set(regions)):
        raise ValidationError(gettext("Each zone can be recorded once per session."))
    session.alerts_at_save = alert_snapshot(session.patient)
    session.full_clean()
    session.save()
    problems = []
    rules = formulary_rules(session=session, injections=injections)
    for planned in injections:
        injection = planned.injection
        injection.pk = None
        injection.session = session
        injection.region_label = injection.region.label
        injection.formula_name = injection.formula.name
        try:
            # That the zone, region and mixture exist is asked below for all the
            # injections at once; the session was saved just above.
            injection.full_clean(exclude=REFERENCES)
        except ValidationError as error:
            problems += [_about(injection, m) for m in error.messages]
            continue
        found = injection_problems(session=session, planned=planned, rules=rules)
        problems += [_about(injection, m) for ms in found.values() for m in ms]
    problems += _missing_references(injections)
    if problems:
        raise ValidationError(problems)  # the transaction is rolled back: nothing saved
    # One INSERT for the injections and one for their lots, however many zones.
    Injection.objects.bulk_create(planned.injection for planned in injections)
    InjectionLot.objects.bulk_create(
        _lot_used(planned.injection, lot) for planned in injections for lot in planned.lots
    )
    return session


# The foreign keys of an injection besides its session. Model.full_clean would ask for
# each injection and each of them whether the row exists: _missing_references asks once.
REFERENCES = ["session", "map_zone", "region", "formula"]


def _missing_references(injections: list[PlannedInjection]) -> list[str]:
    """Model.full_clean's check that each referenced row exists, one query per kind."""
    problems = []
    for name in REFERENCES[1:]:
        field = Injection._meta.get_field(name)
        wanted = {getattr(p.injection, field.attname) for p in injections} - {None}
        found = set(
            field.related_model._base_manager.filter(pk__in=wanted).values_list("pk", flat=True)
        )
        for planned in injections:
            value = getattr(planned.injection, field.attname)
            if value is not None and value not in found:
                error = field.error_messages["invalid"] % {
                    "model": field.related_model._meta.verbose_name,
                    "pk": value,
                    "field": field.remote_field.field_name,
                    "value": value,
                }
                problems.append(_about(planned.injection, error))
    return problems


def _about(injection: Injection, message: str) -> str:
    """A problem of one injection, named by its zone in the language of the page."""
    return gettext("%(zone)s: %(problem)s") % {
        "zone": injection.shown_region_label,
        "problem": message,
    }


def _lot_used(injection: Injection, lot) -> InjectionLot:
    """The lot of one compound of the injection, with what the record keeps of it."""
    ingredient = next(
        i for i in injection.formula.ingredients.all() if i.compound_id == lot.compound_id
    )
    return InjectionLot(
        injection=injection,
        compound=lot.compound,
        lot=lot,
        compound_name=lot.compound.name,
        lot_number=lot.lot_number,
        lot_expiry=lot.expiry_date,
        amount_per_ml=ingredient.amount_per_ml,
        amount_unit=ingredient.unit,
    )


def _injection_summary(session: TreatmentSession) -> str:
    rows = session.injections.select_related("region").order_by("region__label")
    return "; ".join(
        f"{i.region.shown_label()} {format_amount(i.volume_ml)} mL" for i in rows
    ) or gettext("none")


def _injection_summary_of(injections: list[PlannedInjection]) -> str:
    rows = sorted(injections, key=lambda p: p.injection.region.label)
    return "; ".join(
        f"{p.injection.region.shown_label()} {format_amount(p.injection.volume_ml)} mL"
        for p in rows
    ) or gettext("none")


def signing_problems(session: TreatmentSession) -> list[str]:
    """Everything that stands between this draft and a signature: the rules of a save
    again (the catalogue, the consents or the rules may have changed since), and what
    only a signature needs."""
    problems = checklist_problems(session)
    try:
        session.full_clean()
    except ValidationError as error:
        problems += error.messages
    if not has_consent(session.patient, ConsentKind.TREATMENT, at=session.performed_at):
        problems.append(
            gettext(
                "No treatment consent is in force for this session: it must be signed on or "
                "before the session date, on the current wording, and not withdrawn. Record the "
                "patient's signed consent first."
            )
        )
    injections = list(session.injections.prefetch_related("lots__compound"))
    off_label = sorted(
        {used.compound.name for i in injections for used in i.lots.all() if used.compound.off_label}
    )
    if off_label and not has_consent(
        session.patient, ConsentKind.OFF_LABEL, at=session.performed_at
    ):
        problems.append(
            ngettext(
                "%(compounds)s is used off-label: an off-label consent must be in force for "
                "this session before it is signed.",
                "%(compounds)s are used off-label: an off-label consent must be in force for "
                "this session before it is signed.",
                len(off_label),
            )
            % {"compounds": ", ".join(off_label)}
        )
    rules = formulary.rules_for(
        session.location.jurisdiction,
        (used.compound_id for injection in injections for used in injection.lots.all()),
    )
    for injection in injections:
        problems += [_about(injection, m) for m in injection.needle_errors().values()]
        try:
            formulary.check(
                [used.compound for used in injection.lots.all()],
                session.location.jurisdiction,
                acknowledged=injection.restricted_acknowledged,
                note=injection.restricted_note,
                rules=rules,
            )
        except ValidationError as error:
            problems += [_about(injection, message) for message in error.messages]
    if not injections:
        problems.append(gettext("Record at least one injection before signing."))
    return problems


def checklist_problems(session: TreatmentSession) -> list[str]:
    return [
        gettext("Checklist: confirm “%(item)s” or give the reason it was not done.")
        % {"item": label}
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
    acknowledgements: dict[str, str] | None = None,
) -> TreatmentSession:
    """Freeze the session: check it, render its PDF once, store it with its SHA-256.

    `render_pdf(session) -> bytes` draws the summary as signed. `acknowledgements`:
    the signer's note on each change since the treatment (signature.Change.key -> note);
    every change must have one, and they are stored and printed with the signature.
    """
    current = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "treatment_map", "location__jurisdiction")
        .get(pk=session.pk)
    )
    current.patient.check_writable()
    if current.is_signed:
        raise ValidationError(gettext("This session is already signed."))
    if expected_version is not None and current.version != expected_version:
        raise ValidationError(
            gettext("The draft changed after you opened it: review the new version before signing.")
        )
    problems = signing_problems(current)
    # Stored, and printed, in the patient's language, like the rest of the summary.
    with in_patient_language(current.patient):
        changes = changes_since_treatment(current)
    notes = {key: note.strip() for key, note in (acknowledgements or {}).items()}
    problems += [
        gettext("Acknowledge this change, with a note, before signing: %(change)s")
        % {"change": change.statement}
        for change in changes
        if not notes.get(change.key)
    ]
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    Acknowledgement.objects.bulk_create(
        Acknowledgement(
            session=current,
            key=change.key,
            statement=change.statement,
            note=notes[change.key],
            acknowledged_by=user,
            acknowledged_at=now,
        )
        for change in changes
    )
    current.status = TreatmentSession.Status.SIGNED
    current.signed_at = now
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
    *,
    session: TreatmentSession,
    author: AbstractBaseUser,
    reason: str,
    text: str,
    render_pdf,
) -> Amendment:
    """Record a correction beneath the signed original, with the summary as amended.

    `render_pdf(session, amendments) -> bytes` draws the signed summary followed by
    `amendments` (the earlier ones and this one). The PDF and its SHA-256 are set before
    the single INSERT: the table is append-only. The signed PDF is left as it is.
    """
    # Amendments of one session one at a time: each PDF holds every earlier one.
    current = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=session.pk)
    )
    current.patient.check_writable()
    if not current.is_signed:
        raise ValidationError(
            gettext("A draft is corrected by editing it; amendments are for signed sessions.")
        )
    amendment = Amendment(
        session=current, author=author, reason=reason, text=text, created_at=timezone.now()
    )
    amendment.full_clean()
    earlier = list(current.amendments.select_related("author"))
    pdf = render_pdf(current, [*earlier, amendment])
    amendment.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    amendment.pdf.save(
        f"session-{current.pk}-amended-{amendment.pdf_sha256[:12]}.pdf",
        ContentFile(pdf),
        save=False,
    )
    amendment.save()
    return amendment


@transaction.atomic
def add_side_effect(*, side_effect: SideEffect, user: AbstractBaseUser) -> SideEffect:
    side_effect.session.patient.check_writable()
    side_effect.recorded_by = user
    side_effect.full_clean()
    side_effect.save()
    return side_effect


@transaction.atomic
def resolve_side_effect(*, side_effect: SideEffect, resolved_at) -> SideEffect:
    current = _locked_side_effect(side_effect)
    if current.resolved_at is not None:
        raise ValidationError(gettext("This follow-up is already marked resolved."))
    current.resolved_at = resolved_at
    current.full_clean()
    current.save(update_fields=["resolved_at"])
    return current


@transaction.atomic
def review_side_effect(*, side_effect: SideEffect, user: AbstractBaseUser, note: str) -> SideEffect:
    """A practitioner has seen a flagged follow-up: it leaves the dashboard and the chart's
    list, and stays on the session with who reviewed it, when and why (history keeps it)."""
    current = _locked_side_effect(side_effect)
    if current.reviewed_at is not None:
        raise ValidationError(gettext("This follow-up was already reviewed."))
    if not SideEffect.objects.with_attention().filter(pk=current.pk, needs_attention=True).exists():
        raise ValidationError(
            gettext("This follow-up is within its expected course: nothing to review.")
        )
    if not note.strip():
        raise ValidationError(
            {"review_note": gettext("Say what was decided (seen, called, treated…).")}
        )
    current.reviewed_at = timezone.now()
    current.reviewed_by = user
    current.review_note = note.strip()
    current.full_clean()
    current.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    return current


def _locked_side_effect(side_effect: SideEffect) -> SideEffect:
    current = (
        SideEffect.objects.select_for_update(of=("self",))
        .select_related("session__patient")
        .get(pk=side_effect.pk)
    )
    current.session.patient.check_writable()
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
