"""What a signature must acknowledge: the facts that changed after the treatment.

A treatment already given is signed on what was true when it was given (consent and
lots are judged at the session's time, elsewhere). What changed since is not hidden:
a consent withdrawn or superseded, a lot quarantined, an alert recorded on the patient
after the draft was saved. Each is a Change; the sign page lists them and asks for an
acknowledgement of each, sign_session refuses a signature that misses one and stores
them, and the summary prints their statements. This module is the one place that
decides what they are.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext

from patients.models import ALERT_FIELDS, Consent, ConsentKind, ConsentTemplate, Patient
from treatments.models import CompoundLot, TreatmentSession


@dataclass(frozen=True)
class Change:
    key: str  # stable while the fact stands: the sign page posts it back
    statement: str  # the fact, as printed on the summary, in the language active now
    at: datetime  # when it changed


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def changes_since_treatment(session: TreatmentSession) -> list[Change]:
    """Every fact that changed after this session's treatment, oldest first."""
    if session.performed_at is None:
        return []
    changes = [
        *_consent_changes(session),
        *_lot_changes(session),
        *_alert_changes(session),
    ]
    return sorted(changes, key=lambda change: (change.at, change.key))


CONSENT_NAMES = {
    ConsentKind.TREATMENT: lambda: gettext("Treatment consent"),
    ConsentKind.OFF_LABEL: lambda: gettext("Off-label consent"),
}


def _consent_kinds(session: TreatmentSession) -> list[str]:
    used_off_label = CompoundLot.objects.filter(
        uses__injection__session=session, compound__off_label=True
    ).exists()
    return [ConsentKind.TREATMENT, *([ConsentKind.OFF_LABEL] if used_off_label else [])]


def _consent_changes(session: TreatmentSession) -> list[Change]:
    """A consent in force at the time of treatment, of a kind that has none in force now:
    withdrawn since, or on a wording that a newer one has replaced."""
    changes = []
    consents = Consent.objects.filter(patient_id=session.patient_id).select_related("template")
    for kind in _consent_kinds(session):
        if consents.in_force(kind=kind).exists():
            continue
        for consent in consents.in_force(kind=kind, at=session.performed_at).order_by("pk"):
            name = CONSENT_NAMES[kind]()
            then = gettext("%(consent)s v%(version)s in force at the time of treatment") % {
                "consent": name,
                "version": consent.template.version,
            }
            if consent.withdrawn_at is not None:
                changes.append(
                    Change(
                        key=f"consent:{consent.pk}:withdrawn",
                        statement=gettext("%(then)s; withdrawn %(when)s")
                        % {"then": then, "when": _when(consent.withdrawn_at)},
                        at=consent.withdrawn_at,
                    )
                )
                continue
            newer = (
                ConsentTemplate.objects.filter(kind=kind, version__gt=consent.template.version)
                .order_by("version")
                .first()
            )
            if newer is not None:
                changes.append(
                    Change(
                        key=f"consent:{consent.pk}:superseded:{newer.version}",
                        statement=gettext(
                            "%(then)s; superseded by the wording v%(version)s of %(when)s"
                        )
                        % {"then": then, "version": newer.version, "when": _when(newer.created_at)},
                        at=newer.created_at,
                    )
                )
    return changes


def _lot_changes(session: TreatmentSession) -> list[Change]:
    """A lot used in the session and quarantined after the treatment."""
    lots = (
        CompoundLot.objects.filter(
            uses__injection__session=session, quarantined_at__gt=session.performed_at
        )
        .select_related("compound")
        .distinct()
        .order_by("quarantined_at", "pk")
    )
    return [
        Change(
            key=f"lot:{lot.pk}:quarantined:{lot.quarantined_at.timestamp():.0f}",
            statement=gettext(
                "Lot %(number)s of %(compound)s quarantined %(when)s, after this treatment "
                "(%(reason)s)"
            )
            % {
                "number": lot.lot_number,
                "compound": lot.compound.name,
                "when": _when(lot.quarantined_at),
                "reason": lot.quarantine_reason,
            },
            at=lot.quarantined_at,
        )
        for lot in lots
    ]


def alert_snapshot(patient: Patient) -> dict:
    """The alert fields as the practitioner saw them: kept with each save of the draft."""
    return {name: getattr(patient, name) for name in ALERT_FIELDS}


def _alert_changes(session: TreatmentSession) -> list[Change]:
    """The alert fields of the patient that differ now from what they were when the draft
    was last saved (TreatmentSession.alerts_at_save; none before it was kept)."""
    seen = session.alerts_at_save
    if not seen:
        return []
    patient = Patient.objects.get(pk=session.patient_id)
    changes = []
    for name, now in alert_snapshot(patient).items():
        if name not in seen or seen[name] == now:
            continue
        field = Patient._meta.get_field(name)
        label = str(field.verbose_name)
        if field.choices:
            shown = str(dict(field.flatchoices).get(now, now))
        elif isinstance(now, bool):
            shown = gettext("yes") if now else gettext("no")
        else:
            shown = now.strip() or gettext("nothing recorded")
        digest = hashlib.sha256(repr(now).encode()).hexdigest()[:12]
        changes.append(
            Change(
                # Stands while the value does: changed again, it is asked about again.
                key=f"patient:{name}:{digest}",
                statement=gettext(
                    "%(field)s changed %(when)s, after the draft was saved: now “%(value)s”"
                )
                % {
                    "field": label[:1].upper() + label[1:],
                    "when": _when(patient.updated_at),
                    "value": shown,
                },
                at=patient.updated_at,
            )
        )
    return changes
