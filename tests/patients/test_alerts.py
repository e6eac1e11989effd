"""Alerts that cannot be missed (issue 22, item 3): allergies are an answer, and every field
a practitioner must read before injecting reaches the alerts; green only when all is empty."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients.models import AlertLevel, AllergyStatus, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

GREEN = "No known allergies; no contraindications, medical history or medications recorded."


def _alerts(html: str) -> tuple[str, str]:
    """(the classes of the alerts element, its text with tags and spaces folded). The box
    closes at a line start; the green line is one element on one line."""
    match = re.search(r'<div class="([^"]*)"[^>]*data-testid="alerts"[^>]*>', html)
    assert match, "no alerts on the page"
    rest = html[match.end() :]
    end = "</div>" if 'data-level="clear"' in match.group(0) else "\n</div>"
    text = " ".join(re.sub(r"<[^>]+>", " ", rest.split(end, 1)[0]).split())
    return match.group(1), text


def _chart(client, patient) -> tuple[str, str]:
    return _alerts(client.get(patient.get_absolute_url()).content.decode())


@pytest.mark.parametrize(
    ("status", "allergies", "css", "text"),
    [
        (AllergyStatus.NOT_ASKED, "", "alert-warning", "Allergies not recorded yet."),
        (AllergyStatus.NONE_KNOWN, "", "alert-success", GREEN),
        (AllergyStatus.LISTED, "Lidocaine", "alert-danger", "Allergies: Lidocaine"),
        # Listed text is shown as typed, never read: "none known" typed is still a list.
        (AllergyStatus.LISTED, "Aucune connue", "alert-danger", "Allergies: Aucune connue"),
    ],
    ids=["not-asked", "none-known", "listed", "listed-text-not-interpreted"],
)
def test_each_allergy_answer_has_its_colour_and_words(
    client_for, practitioner, status, allergies, css, text
):
    patient = PatientFactory(allergy_status=status, allergies=allergies)
    classes, shown = _chart(client_for(practitioner), patient)
    assert css in classes.split()
    assert text in shown
    assert (GREEN in shown) is (css == "alert-success")


def test_listed_needs_the_allergies(db):
    patient = PatientFactory.build(allergy_status=AllergyStatus.LISTED, allergies="  ")
    with pytest.raises(ValidationError) as refused:
        patient.full_clean()
    assert refused.value.message_dict["allergies"] == [
        "List the allergies, or answer “No known allergies” or “Not asked yet”."
    ]


@pytest.mark.parametrize("status", [AllergyStatus.NOT_ASKED, AllergyStatus.NONE_KNOWN])
def test_allergies_typed_need_the_answer_listed(db, status):
    patient = PatientFactory.build(allergy_status=status, allergies="Latex")
    with pytest.raises(ValidationError) as refused:
        patient.full_clean()
    (message,) = refused.value.message_dict["allergies"]
    assert "choose “Allergies listed”, or clear the text" in message


def test_blank_allergies_are_no_list(db):
    patient = PatientFactory.build(allergy_status=AllergyStatus.NONE_KNOWN, allergies=" \n ")
    patient.full_clean()
    assert patient.allergies == ""


def test_the_database_refuses_what_clean_refuses(patient):
    """Writes that skip full_clean() (a script, an import, .update()) meet the same rule."""
    for changes in (
        {"allergy_status": AllergyStatus.LISTED, "allergies": ""},
        {"allergy_status": AllergyStatus.NONE_KNOWN, "allergies": "Latex"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Patient.objects.filter(pk=patient.pk).update(**changes)


def test_medical_history_reaches_the_alerts(client_for, practitioner):
    patient = PatientFactory(
        allergy_status=AllergyStatus.NONE_KNOWN, medical_history="pregnant, 12 weeks"
    )
    assert patient.alerts.level == AlertLevel.WARNING
    classes, shown = _chart(client_for(practitioner), patient)
    assert "alert-warning" in classes.split()
    assert "Medical history: pregnant, 12 weeks" in shown
    assert "No known allergies." in shown
    assert GREEN not in shown


@pytest.mark.parametrize(
    ("field", "value", "level"),
    [
        ("medical_history", "Appendectomy 1998", AlertLevel.WARNING),
        ("current_medications", "Levothyroxine", AlertLevel.WARNING),
        ("contraindication_notes", "Keloid scars", AlertLevel.DANGER),
        ("anticoagulant_treatment", True, AlertLevel.DANGER),
        ("pregnant_or_breastfeeding", True, AlertLevel.DANGER),
        ("active_skin_infection", True, AlertLevel.DANGER),
        ("compound_allergy", True, AlertLevel.DANGER),
    ],
)
def test_green_only_when_every_field_is_empty(client_for, practitioner, field, value, level):
    quiet = PatientFactory(allergy_status=AllergyStatus.NONE_KNOWN)
    assert quiet.alerts.level == AlertLevel.CLEAR
    one_thing = PatientFactory(allergy_status=AllergyStatus.NONE_KNOWN, **{field: value})
    assert one_thing.alerts.level == level
    client = client_for(practitioner)
    assert _chart(client, quiet)[1] == GREEN
    classes, shown = _chart(client, one_thing)
    assert GREEN not in shown
    assert {"alert-warning": AlertLevel.WARNING, "alert-danger": AlertLevel.DANGER}[
        next(c for c in classes.split() if c in ("alert-warning", "alert-danger"))
    ] == level


def test_medications_are_shown_as_typed(client_for, practitioner):
    patient = PatientFactory(
        allergy_status=AllergyStatus.NONE_KNOWN, current_medications="<b>Isotretinoin</b>"
    )
    page = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Isotretinoin&lt;/b&gt;" in page and "<b>Isotretinoin</b>" not in page
    assert (
        "Current medications: &lt;b&gt;Isotretinoin&lt;/b&gt;"
        in _chart(client_for(practitioner), patient)[1]
    )


FORM = {
    "first_name": "Marie",
    "last_name": "Côté",
    "date_of_birth": "1984-05-17",
    "sex": "F",
    "phone": "",
    "email": "",
    "address": "",
    "phototype": "3",
    "allergy_status": "listed",
    "allergies": "",
    "current_medications": "",
    "medical_history": "",
    "contraindication_notes": "",
}


def test_the_form_shows_the_models_refusal(client_for, practitioner):
    client = client_for(practitioner)
    response = client.post(reverse("patients:create"), FORM)
    assert response.status_code == 200
    assert "List the allergies, or answer" in response.content.decode()
    assert not Patient.objects.exists()
    response = client.post(reverse("patients:create"), {**FORM, "allergy_status": "none_known"})
    patient = Patient.objects.get()
    assert (patient.allergy_status, patient.allergies) == ("none_known", "")


def test_the_list_badge_flags_an_unasked_patient(client_for, practitioner):
    PatientFactory(last_name="Asked", allergy_status=AllergyStatus.NONE_KNOWN)
    PatientFactory(
        last_name="Unasked", medical_history="pregnant, 12 weeks", current_medications="Iron"
    )
    listing = client_for(practitioner).get(reverse("patients:list")).content.decode()
    (badge,) = re.findall(
        r'<span class="badge ([^"]*)" data-testid="alert-badge" title="([^"]*)"', listing
    )
    assert badge == (
        "text-bg-warning",
        "Allergies not recorded yet. Medical history: pregnant, 12 weeks Medications: Iron",
    )
