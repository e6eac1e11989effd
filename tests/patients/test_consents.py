import base64

import pytest
from django.urls import reverse

from clinic.models import AccessLog
from patients.models import Consent
from tests.dates import days_from_today
from tests.factories import ConsentTemplateFactory
from tests.uploads import image_bytes, upload

pytestmark = pytest.mark.django_db


def _post(templates, kind="treatment", **changes):
    data = {
        "template": templates[kind].pk,
        "signed_on": days_from_today(-1).isoformat(),
        "signed_by": "Hélène Gagnon",
        "method": "drawn",
        "signature_data": "data:image/png;base64," + base64.b64encode(image_bytes()).decode(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _statuses(client, patient):
    response = client.get(patient.get_absolute_url())
    return {s.kind: s.state for s in response.context["consent_statuses"]}


@pytest.mark.parametrize("media", ["local", "s3"], indirect=True)
def test_a_drawn_signature_is_recorded_as_an_image(
    media, client_for, practitioner, patient, templates
):
    client = client_for(practitioner)
    response = client.post(reverse("patients:consent_new", args=[patient.pk]), _post(templates))
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.template == templates["treatment"] and consent.template.version == 1
    assert consent.recorded_by == practitioner
    assert consent.signature.name.startswith("consents/")
    signature = client.get(reverse("patients:consent_signature", args=[patient.pk, consent.pk]))
    assert signature.status_code == 200
    assert b"".join(signature.streaming_content).startswith(b"\x89PNG")
    assert AccessLog.objects.filter(action="download", object_id=str(consent.pk)).exists()


def test_a_scanned_paper_form_is_accepted(client_for, practitioner, patient, templates):
    post = _post(templates, method="scan", signature_data=None)
    post["scan"] = upload("form.jpg", image_bytes("JPEG"), "image/jpeg")
    response = client_for(practitioner).post(
        reverse("patients:consent_new", args=[patient.pk]), post
    )
    assert response.status_code == 302
    assert Consent.objects.get().signature.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signature_data": ""}, "Draw the signature in the box"),
        ({"signature_data": "data:image/png;base64,!!!"}, "could not be read"),
        ({"signature_data": "javascript:alert(1)"}, "could not be read"),
        (
            {"signature_data": "data:image/png;base64," + base64.b64encode(b"<svg/>").decode()},
            "not a readable JPEG or PNG",
        ),
        ({"method": "scan", "signature_data": None}, "Attach the scan"),
        ({"signed_on": days_from_today(365).isoformat()}, "in the future"),
        ({"signed_by": ""}, "This field is required"),
    ],
)
def test_invalid_consents_are_refused_with_a_message(
    client_for, practitioner, patient, templates, changes, message
):
    response = client_for(practitioner).post(
        reverse("patients:consent_new", args=[patient.pk]), _post(templates, **changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_chart_shows_missing_current_superseded_and_withdrawn(
    client_for, practitioner, patient, templates, sign_consent
):
    client = client_for(practitioner)
    assert _statuses(client, patient) == {
        "treatment": "missing",
        "photography": "missing",
        "off_label": "missing",
    }
    sign_consent(patient, "treatment")
    photography = sign_consent(patient, "photography")
    sign_consent(patient, "off_label")
    ConsentTemplateFactory(kind="off_label", text="New wording")  # version 2
    client.post(
        reverse("patients:consent_withdraw", args=[patient.pk, photography.pk]),
        {"reason": "Patient asked to stop photos"},
    )
    assert _statuses(client, patient) == {
        "treatment": "current",
        "photography": "withdrawn",
        "off_label": "superseded",
    }
    photography.refresh_from_db()
    assert photography.withdrawn_by == practitioner
    assert photography.withdrawal_reason == "Patient asked to stop photos"
    assert Consent.objects.count() == 3  # withdrawing keeps the record
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "Superseded by version 2" in page and "Withdrawn" in page


def test_only_the_newest_wording_can_be_signed(client_for, practitioner, patient, templates):
    newer = ConsentTemplateFactory(kind="treatment", text="Revised")
    assert newer.version == 2
    client = client_for(practitioner)
    old = client.post(reverse("patients:consent_new", args=[patient.pk]), _post(templates))
    assert old.status_code == 200
    assert "Select a valid choice" in old.content.decode()
    post = _post(templates, template=newer.pk)
    assert client.post(reverse("patients:consent_new", args=[patient.pk]), post).status_code == 302


def test_withdrawal_needs_a_reason(client_for, practitioner, patient, sign_consent):
    consent = sign_consent(patient)
    client = client_for(practitioner)
    client.post(reverse("patients:consent_withdraw", args=[patient.pk, consent.pk]), {"reason": ""})
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


def test_a_consent_of_another_patient_cannot_be_withdrawn_here(
    client_for, practitioner, patient, sign_consent
):
    from tests.factories import PatientFactory

    other_consent = sign_consent(PatientFactory())
    response = client_for(practitioner).post(
        reverse("patients:consent_withdraw", args=[patient.pk, other_consent.pk]), {"reason": "x"}
    )
    assert response.status_code == 404


def test_consent_template_versions_are_never_edited_in_the_console(
    client_for, catalogue_admin, templates
):
    client = client_for(catalogue_admin)
    template = templates["treatment"]
    change = reverse("admin:patients_consenttemplate_change", args=[template.pk])
    assert client.get(change).status_code == 200  # readable
    client.post(change, {"kind": "treatment", "title": "Changed", "text": "Changed"})
    template.refresh_from_db()
    assert template.title != "Changed"
    response = client.post(
        reverse("admin:patients_consenttemplate_add"),
        {
            "kind": "treatment",
            "title": "Treatment consent",
            "text": "Second wording",
            "title_fr": "Consentement au traitement",
            "text_fr": "Deuxième libellé",
        },
    )
    assert response.status_code == 302
    assert template.__class__.objects.filter(kind="treatment").count() == 2
    assert template.__class__.objects.get(text="Second wording").version == 2


def test_form_preselects_the_missing_kind_and_the_patient(
    client_for, practitioner, patient, templates
):
    response = client_for(practitioner).get(
        reverse("patients:consent_new", args=[patient.pk]), {"kind": "photography"}
    )
    form = response.context["form"]
    assert form["template"].value() == templates["photography"].pk
    assert form["signed_by"].value() == patient.full_name
    assert "" not in [value for value, _ in form.fields["method"].choices]


def test_a_transparent_drawing_is_stored_on_white(client_for, practitioner, patient, templates):
    import io

    from PIL import Image, ImageDraw

    drawing = Image.new("RGBA", (120, 40), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).line([(5, 20), (115, 20)], fill=(0, 0, 0, 255), width=3)
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    client_for(practitioner).post(
        reverse("patients:consent_new", args=[patient.pk]),
        _post(templates, signature_data=data_url),
    )
    stored = Image.open(Consent.objects.get().signature.open("rb"))
    assert stored.mode == "RGB"
    assert stored.getpixel((2, 2)) == (255, 255, 255)  # background is paper white
    assert stored.getpixel((60, 20))[0] < 60  # the stroke stays dark
