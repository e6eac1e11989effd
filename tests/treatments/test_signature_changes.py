"""Signing tells the truth: what changed after the treatment (a consent withdrawn or
superseded, a lot quarantined, an alert recorded) is shown, must be acknowledged with a
note, is stored with the signature, and the signed PDF states it."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import ConsentTemplate
from patients.services import save_patient, withdraw_consent
from tests.dates import shown
from tests.pdf import pdf_text
from treatments.models import Acknowledgement, TreatmentSession
from treatments.services.lots import quarantine_lot
from treatments.services.signature import changes_since_treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(lots):
    return lots["Phosphatidylcholine"]  # PHOS-26, used by every zone of the draft


def _sign(client, draft, notes=None):
    """POST the sign page, acknowledging `notes` {key: note} (ticked boxes)."""
    data = {"version": draft.version, "acknowledge": list(notes or {})}
    data |= {f"note:{key}": note for key, note in (notes or {}).items()}
    return client.post(reverse("treatments:session_sign", args=[draft.pk]), data)


def test_nothing_changed_nothing_to_acknowledge(draft):
    assert changes_since_treatment(draft) == []


def test_a_withdrawn_consent_and_a_quarantined_lot_must_be_acknowledged(
    client_for, practitioner, draft, treatment_consent, lot
):
    withdrawn = withdraw_consent(consent=treatment_consent, user=practitioner, reason="Asked to")
    quarantined = quarantine_lot(lot=lot, user=practitioner, reason="Supplier recall 7")
    changes = changes_since_treatment(draft)
    version = treatment_consent.template.version
    assert [c.statement for c in changes] == [
        f"Treatment consent v{version} in force at the time of treatment; "
        f"withdrawn {shown(withdrawn.withdrawn_at)}",
        f"Lot PHOS-26 of Phosphatidylcholine quarantined {shown(quarantined.quarantined_at)}, "
        "after this treatment (Supplier recall 7)",
    ]
    client = client_for(practitioner)

    # The draft's own page says so before anyone signs.
    page = client.get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="draft-changes"' in page and "Supplier recall 7" in page

    # Not acknowledged, or one without a note: refused, nothing written.
    for notes in ({}, {changes[0].key: "Patient informed", changes[1].key: "  "}):
        response = _sign(client, draft, notes)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="sign-refused"' in html
        assert "Acknowledge this change, with a note, before signing" in html
        draft.refresh_from_db()
        assert not draft.is_signed and not Acknowledgement.objects.exists()
    # The notes typed are kept on the page that refused.
    assert "Patient informed" in html

    notes = {changes[0].key: "Patient informed", changes[1].key: "Recall list checked"}
    assert _sign(client, draft, notes).status_code == 302
    draft.refresh_from_db()
    assert draft.is_signed
    stored = list(draft.acknowledgements.values_list("statement", "note", "acknowledged_by"))
    assert stored == [
        (changes[0].statement, "Patient informed", practitioner.pk),
        (changes[1].statement, "Recall list checked", practitioner.pk),
    ]
    text = pdf_text(draft.pdf.open("rb").read())
    assert "Changed after the treatment, acknowledged at signing" in text
    assert f"withdrawn {shown(withdrawn.withdrawn_at)}" in text
    assert "quarantined" in text and "after this treatment" in text
    assert "Acknowledged by" in text and "Recall list checked" in text
    # The checklist states what was true at the table, never "current".
    assert "in force at the time of treatment" in text
    assert "current" not in text.lower()


def test_a_superseded_wording_is_a_change(draft, treatment_consent):
    newer = ConsentTemplate.objects.create(kind="treatment", title="Treatment", text="v2 text")
    (change,) = changes_since_treatment(draft)
    assert change.statement == (
        f"Treatment consent v{treatment_consent.template.version} in force at the time of "
        f"treatment; superseded by the wording v{newer.version} of {shown(newer.created_at)}"
    )


def test_an_alert_recorded_after_the_draft_was_saved(client_for, practitioner, draft):
    patient = draft.patient
    patient.allergy_status, patient.allergies = "listed", "Latex"
    save_patient(
        patient=patient, fields=["allergy_status", "allergies"], expected_version=patient.version
    )
    changes = {change.key.split(":")[1]: change for change in changes_since_treatment(draft)}
    assert set(changes) == {"allergy_status", "allergies"}
    answer, listed = changes["allergy_status"], changes["allergies"]
    assert answer.statement.startswith("Allergies changed ")
    assert answer.statement.endswith("after the draft was saved: now “Allergies listed”")
    assert listed.statement.startswith("List of allergies changed ")
    assert listed.statement.endswith("after the draft was saved: now “Latex”")
    client = client_for(practitioner)
    assert _sign(client, draft).status_code == 200  # refused without them
    # Changed again while the page was open: the old acknowledgement of the list is not
    # enough (the answer, unchanged since, keeps its key).
    patient.refresh_from_db()
    patient.allergies = "Latex, nickel"
    save_patient(patient=patient, fields=["allergies"], expected_version=patient.version)
    seen = {answer.key: "Seen", listed.key: "Seen"}
    assert _sign(client, draft, seen).status_code == 200
    draft.refresh_from_db()
    assert not draft.is_signed
    again = {change.key: "Seen, noted" for change in changes_since_treatment(draft)}
    assert answer.key in again and listed.key not in again
    assert _sign(client, draft, again).status_code == 302


def test_saving_the_draft_again_takes_in_the_alerts_as_they_are(
    client_for, practitioner, draft, planned_map, lots
):
    from tests.treatments.session_helpers import session_post

    patient = draft.patient
    patient.medical_history = "Pregnant, 12 weeks"
    save_patient(patient=patient, fields=["medical_history"], expected_version=patient.version)
    assert len(changes_since_treatment(draft)) == 1
    response = client_for(practitioner).post(
        reverse("treatments:session_edit", args=[draft.pk]),
        session_post(planned_map, lots, version=draft.version),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert changes_since_treatment(draft) == []


def test_acknowledgements_are_stored_in_the_patients_language(
    practitioner, draft, treatment_consent
):
    from treatments.services.sessions import sign_session

    patient = draft.patient
    patient.preferred_language = "fr-ca"
    patient.save(update_fields=["preferred_language"])
    withdraw_consent(consent=treatment_consent, user=practitioner, reason="x")
    (change,) = changes_since_treatment(draft)
    signed = sign_session(
        session=draft,
        user=practitioner,
        render_pdf=lambda s: b"%PDF-1.7 stand-in",
        acknowledgements={change.key: "Vu"},
    )
    (stored,) = signed.acknowledgements.all()
    assert "retiré" in stored.statement, stored.statement


def test_acknowledgements_cannot_be_changed_or_added_after_signing(
    practitioner, draft, treatment_consent
):
    from treatments.services.sessions import sign_session

    withdraw_consent(consent=treatment_consent, user=practitioner, reason="x")
    (change,) = changes_since_treatment(draft)
    sign_session(
        session=draft,
        user=practitioner,
        render_pdf=lambda s: b"%PDF-1.7 stand-in",
        acknowledgements={change.key: "Seen"},
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Acknowledgement.objects.update(note="Rewritten")
    with pytest.raises(DatabaseError, match="session is signed"), transaction.atomic():
        Acknowledgement.objects.create(
            session=TreatmentSession.objects.get(pk=draft.pk),
            key="late",
            statement="added later",
            note="x",
            acknowledged_by=practitioner,
            acknowledged_at=timezone.now(),
        )
    assert list(Acknowledgement.objects.values_list("note", flat=True)) == ["Seen"]
