from datetime import timedelta

import pytest
from django.urls import reverse

from clinic.models import AccessLog
from patients.images import clean_image
from patients.models import Measurement, Photo
from tests.dates import days_from_today, local
from tests.factories import PatientFactory
from tests.uploads import upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("phototype", "needle"), [(1, 4), (2, 4), (3, 4), (4, 4), (5, 6), (6, 6)])
def test_header_shows_phototype_and_the_needle_it_implies(
    client_for, practitioner, phototype, needle
):
    patient = PatientFactory(phototype=phototype)
    page = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    assert f'data-testid="needle">{needle} mm<' in page
    assert patient.get_phototype_display() in page


def test_unassessed_phototype_is_flagged(client_for, practitioner):
    patient = PatientFactory(phototype=None)
    page = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    assert "Not assessed: no default needle length" in page


def test_allergies_and_contraindications_cannot_be_missed(client_for, practitioner):
    patient = PatientFactory(
        allergies="Lidocaine",
        anticoagulant_treatment=True,
        pregnant_or_breastfeeding=True,
        contraindication_notes="Warfarin since 2024",
    )
    page = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    alert = page.split('data-testid="alerts"')[1].split("</header>")[0]
    assert "alert-danger" in page.split('data-testid="alerts"')[0][-80:]
    for text in ("Lidocaine", "Anticoagulant treatment", "Pregnancy or breastfeeding"):
        assert text in alert


def test_every_chart_view_is_logged(client_for, practitioner, patient):
    client = client_for(practitioner)
    client.get(patient.get_absolute_url())
    client.get(patient.get_absolute_url())
    rows = AccessLog.objects.filter(patient_id=patient.pk, action="view")
    assert rows.count() == 2
    assert {row.user for row in rows} == {practitioner}
    assert rows.first().path == patient.get_absolute_url()


def test_assistant_sees_demographics_but_no_clinical_sections(client_for, assistant, patient):
    response = client_for(assistant).get(patient.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert patient.chart_number in page
    assert 'data-testid="needle"' not in page
    assert "Consents" not in page and "Photos" not in page
    assert "visible to practitioners only" in page


@pytest.mark.parametrize("user_fixture", ["outsider", "catalogue_admin"])
def test_no_role_no_chart(request, client_for, patient, user_fixture):
    response = client_for(request.getfixturevalue(user_fixture)).get(patient.get_absolute_url())
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_unknown_patient_is_404(client_for, practitioner):
    assert client_for(practitioner).get(reverse("patients:chart", args=[999999])).status_code == 404


def test_user_content_is_escaped(client_for, practitioner):
    patient = PatientFactory(
        first_name="<script>alert(1)</script>", allergies="<img src=x onerror=alert(2)>"
    )
    page = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def _add_records(patient, user, count):
    image = clean_image(upload())
    first_day = days_from_today(-count)
    for i in range(count):
        photo = Photo(
            patient=patient,
            taken_at=local(first_day),
            region=f"Zone {i % 3}",
            view="front",
            phase="before",
            uploaded_by=user,
            sha256=image.sha256,
        )
        photo.image.save("i.png", image.content, save=False)
        photo.thumbnail.save("t.jpg", image.thumbnail, save=False)
        photo.save()
        Measurement.objects.create(
            patient=patient,
            site=f"Site {i % 4}",
            value=50 + i,
            measured_on=first_day + timedelta(days=i),
            recorded_by=user,
        )


def test_chart_query_count_does_not_grow_with_records(
    client_for, practitioner, patient, sign_consent, django_assert_num_queries
):
    client = client_for(practitioner)
    sign_consent(patient, "treatment")
    _add_records(patient, practitioner, 2)
    client.get(patient.get_absolute_url())  # warm the content-type cache
    # Session, user, the second-factor device and permissions (4); patient, needle
    # rule, maps, sessions, flagged
    # follow-ups, consents with their templates, the consents in force (the one
    # definition, as a query), newest templates, the latest photos and the photos per
    # region, measurements (11); the access-log row (1); no session save
    # (clinic/session_store.py).
    with django_assert_num_queries(16) as few:
        client.get(patient.get_absolute_url())
    sign_consent(patient, "photography")
    sign_consent(patient, "off_label")
    _add_records(patient, practitioner, 12)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(patient.get_absolute_url())
    assert len(response.context["photos"]) == 12  # the latest; all 14 counted by region
    assert response.context["photo_total"] == 14
    assert len(response.context["trends"]) == 4


def test_opening_the_edit_form_is_logged(client_for, practitioner, patient):
    client_for(practitioner).get(reverse("patients:edit", args=[patient.pk]))
    assert AccessLog.objects.filter(patient_id=patient.pk, action="view").count() == 1


def test_the_default_needle_is_written_the_readers_way(client_for, practitioner):
    from treatments.models import NeedleRule

    NeedleRule.objects.filter(phototype=3).update(length_mm="4.5")
    patient = PatientFactory(phototype=3)
    client = client_for(practitioner)
    english = client.get(patient.get_absolute_url()).content.decode()
    french = client.get(patient.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr-ca").content.decode()
    assert 'data-testid="needle">4.5 mm<' in english
    assert 'data-testid="needle">4,5 mm<' in french
