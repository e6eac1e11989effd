from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import CONTRAINDICATION_FLAGS, Patient, chart_number_for
from patients.services import save_patient
from tests.dates import days_from_today
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Marie",
    "last_name": "Côté",
    "date_of_birth": "1984-05-17",
    "sex": "F",
    "phone": "+1 (514) 555-0199",
    "email": "Marie.Cote@Example.org",
    "address": "12 rue Principale",
    "phototype": "5",
    "allergy_status": "listed",
    "allergies": "Lidocaine",
    "current_medications": "",
    "medical_history": "",
    "contraindication_notes": "",
}


def test_practitioner_creates_a_patient(client_for, practitioner):
    response = client_for(practitioner).post(reverse("patients:create"), VALID)
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response.url == patient.get_absolute_url()
    assert patient.chart_number.startswith("MC-")
    assert patient.email == "marie.cote@example.org"
    assert patient.phototype == 5
    assert patient.version == 1
    chart = client_for(practitioner).get(response.url).content.decode()
    assert 'data-testid="needle">6 mm<' in chart


def test_chart_numbers_are_unique_and_sequential(db):
    first, second = PatientFactory(), PatientFactory()
    assert first.chart_number != second.chart_number
    assert int(second.chart_number[3:]) == int(first.chart_number[3:]) + 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": "   "}, "first_name", "This field is required."),
        ({"last_name": ""}, "last_name", "This field is required."),
        ({"date_of_birth": ""}, "date_of_birth", "This field is required."),
        ({"date_of_birth": "31/02/1990"}, "date_of_birth", "Enter a valid date."),
        (
            {"date_of_birth": days_from_today(365).isoformat()},
            "date_of_birth",
            "cannot be in the future",
        ),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "older than 120"),
        ({"email": "marie@"}, "email", "Enter a valid email address."),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
        ({"phone": "12-34"}, "phone", "7 to 15 digits"),
        ({"phone": "+1 514 555 0199 0199 99"}, "phone", "7 to 15 digits"),
        ({"phototype": "9"}, "phototype", "Select a valid choice"),
        ({"phototype": ""}, "phototype", "This field is required."),
    ],
)
def test_each_validation_error_is_shown(client_for, practitioner, changes, field, message):
    response = client_for(practitioner).post(reverse("patients:create"), {**VALID, **changes})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(message in text for text in errors[field]), errors[field]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": " \t "}, "first_name", "This field is required."),
        ({"date_of_birth": days_from_today(1)}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": date(1850, 1, 1)}, "date_of_birth", "older than 120"),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
        ({"phone": "12-34"}, "phone", "7 to 15 digits"),
    ],
)
def test_identity_rules_hold_outside_the_form(practitioner, changes, field, message):
    """The rules are the model's (validators, Patient.clean): a service, an import or
    the shell is refused as the form is, and nothing is written."""
    patient = PatientFactory.build(allergy_status="not_asked", **changes)
    with pytest.raises(ValidationError) as raised:
        save_patient(patient=patient, fields=[], expected_version=None)
    assert any(message in text for text in raised.value.message_dict[field])
    assert not Patient.objects.exists()


def test_names_are_kept_tidy_whichever_way_they_come(client_for, practitioner):
    form = {**VALID, "first_name": "Marie   Ève", "last_name": "Côté"}
    client_for(practitioner).post(reverse("patients:create"), form)
    by_service = save_patient(
        patient=PatientFactory.build(first_name=" Jean\t Paul ", phone=" 514 555 0199 "),
        fields=[],
        expected_version=None,
    )
    assert Patient.objects.get(last_name="Côté").first_name == "Marie Ève"
    by_service.refresh_from_db()
    assert (by_service.first_name, by_service.phone) == ("Jean Paul", "514 555 0199")


def test_assistant_registers_demographics_without_clinical_fields(client_for, assistant):
    client = client_for(assistant)
    page = client.get(reverse("patients:create")).content.decode()
    assert 'name="first_name"' in page
    assert 'name="phototype"' not in page
    assert 'name="allergies"' not in page
    data = {**VALID, "allergies": "injected by a crafted post"}
    assert client.post(reverse("patients:create"), data).status_code == 302
    patient = Patient.objects.get()
    assert patient.phototype is None
    assert patient.allergies == ""


def test_outsider_cannot_create_or_list(client_for, outsider):
    client = client_for(outsider)
    assert client.get(reverse("patients:create")).status_code == 403
    assert client.post(reverse("patients:create"), VALID).status_code == 403
    assert client.get(reverse("patients:list")).status_code == 403
    assert not Patient.objects.exists()


def test_edit_saves_and_bumps_the_version(client_for, practitioner, patient):
    client = client_for(practitioner)
    data = {**VALID, "version": patient.version}
    response = client.post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.last_name, patient.version) == ("Côté", 2)
    assert patient.events.count() == 2  # history: insert and update


def test_a_stale_edit_is_refused_and_shows_what_changed(client_for, practitioner, patient):
    client = client_for(practitioner)
    opened_at = patient.version
    # Someone else saves first.
    client.post(
        reverse("patients:edit", args=[patient.pk]),
        {**VALID, "last_name": "Tremblay", "version": opened_at},
    )
    # The second editor started from the same version.
    response = client.post(
        reverse("patients:edit", args=[patient.pk]),
        {**VALID, "last_name": "Lefebvre", "version": opened_at},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else saved this record" in page
    assert "Gagnon → Tremblay" in page
    assert 'value="Lefebvre"' in page  # their typing is kept in the form
    patient.refresh_from_db()
    assert patient.last_name == "Tremblay"
    # Saving again from the refreshed form is a deliberate overwrite.
    response = client.post(
        reverse("patients:edit", args=[patient.pk]),
        {**VALID, "last_name": "Lefebvre", "version": patient.version},
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Lefebvre"


def test_archive_hides_from_the_list_and_keeps_the_record(client_for, practitioner, patient):
    client = client_for(practitioner)
    response = client.post(
        reverse("patients:archive", args=[patient.pk]), {"version": patient.version}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.archived and patient.archived_at is not None
    link = f'href="{patient.get_absolute_url()}"'
    listing = client.get(reverse("patients:list")).content.decode()
    assert link not in listing
    with_archived = client.get(reverse("patients:list"), {"archived": "on"}).content.decode()
    assert link in with_archived and "Archived</span>" in with_archived
    assert client.get(patient.get_absolute_url()).status_code == 200
    client.post(reverse("patients:archive", args=[patient.pk]), {"version": 0, "restore": "1"})
    patient.refresh_from_db()
    assert not patient.archived


def test_assistant_cannot_archive(client_for, assistant, patient):
    response = client_for(assistant).post(
        reverse("patients:archive", args=[patient.pk]), {"version": patient.version}
    )
    assert response.status_code == 403
    patient.refresh_from_db()
    assert not patient.archived


def test_the_database_refuses_to_delete_a_patient(patient):
    with pytest.raises(DatabaseError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).delete()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_age_is_computed_from_the_birth_date(db):
    today = timezone.localdate()
    born = date(today.year - 40, today.month, today.day) + timedelta(days=1)
    assert PatientFactory(date_of_birth=born).age == 39


def test_each_contraindication_flag_is_asked_and_shown(client_for, practitioner):
    """CONTRAINDICATION_FLAGS is the one list: the form asks each, the alerts show it."""
    client = client_for(practitioner)
    form = client.get(reverse("patients:create")).context["form"]
    assert [name for name in form.fields if name in CONTRAINDICATION_FLAGS] == list(
        CONTRAINDICATION_FLAGS
    )
    response = client.post(
        reverse("patients:create"), {**VALID, **dict.fromkeys(CONTRAINDICATION_FLAGS, "on")}
    )
    patient = Patient.objects.get()
    chart = client.get(response.url).content.decode()
    for name in CONTRAINDICATION_FLAGS:
        assert getattr(patient, name)
        label = str(Patient._meta.get_field(name).verbose_name).capitalize()
        assert label in patient.contraindications and label in chart


def test_the_search_finds_a_chart_number_as_saving_writes_it(client_for, practitioner):
    patient = PatientFactory()
    number = int(patient.chart_number.removeprefix("MC-"))
    assert patient.chart_number == chart_number_for(number)
    found = client_for(practitioner).get(reverse("patients:list"), {"q": str(number)})
    assert list(found.context["patients"]) == [patient]
