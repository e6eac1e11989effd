"""Findings of an attacker's pass, each kept fixed: NUL bytes in parameters, pages with
patient data cached by the browser, truncated images accepted once WeasyPrint is loaded,
and the phototype shown to assistants."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from patients.images import clean_image
from tests.factories import PatientFactory
from tests.uploads import upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "query"),
    [("treatments:lots", "q=a%00"), ("patients:list", "q=%00"), ("patients:list", "sort%00=x")],
)
def test_a_nul_byte_in_a_parameter_is_a_400_not_a_500(client_for, practitioner, name, query):
    response = client_for(practitioner).get(f"{reverse(name)}?{query}")
    assert response.status_code == 400


def test_a_nul_byte_in_a_form_is_a_400(client_for, practitioner):
    patient = PatientFactory()
    response = client_for(practitioner).post(
        reverse("patients:measurement_new", args=[patient.pk]), {"site": "Thigh\x00"}
    )
    assert response.status_code == 400
    assert not patient.measurements.exists()


def test_the_photo_comparison_refuses_a_nul_byte(client_for, practitioner):
    patient = PatientFactory()
    url = reverse("patients:photo_compare", args=[patient.pk])
    assert client_for(practitioner).get(f"{url}?region=%00&view=front").status_code == 400


@pytest.mark.parametrize("name", ["patients:list", "patients:chart", "patients:edit"])
def test_pages_with_patient_data_are_not_kept_by_the_browser(client_for, practitioner, name):
    patient = PatientFactory()
    args = [] if name == "patients:list" else [patient.pk]
    response = client_for(practitioner).get(reverse(name, args=args))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_truncated_jpeg_is_refused_even_after_a_pdf_was_drawn():
    from weasyprint import HTML

    HTML(
        string="<p>A PDF first: importing WeasyPrint loosens Pillow for the process.</p>"
    ).write_pdf()
    buffer = io.BytesIO()
    Image.effect_noise((800, 600), 64).convert("RGB").save(buffer, format="JPEG", quality=95)
    whole = buffer.getvalue()
    assert clean_image(upload("whole.jpg", whole, "image/jpeg")).width == 800
    with pytest.raises(ValidationError, match="not a readable JPEG or PNG"):
        clean_image(upload("half.jpg", whole[: len(whole) // 2], "image/jpeg"))


def test_assistants_do_not_see_the_phototype_in_the_list(client_for, assistant, practitioner):
    PatientFactory(phototype=5)
    page = client_for(assistant).get(reverse("patients:list")).content.decode()
    assert "Phototype" not in page
    page = client_for(practitioner).get(reverse("patients:list")).content.decode()
    assert "Phototype" in page and "<td>V</td>" in page
