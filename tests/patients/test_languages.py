"""Issue 13: the user's own language, the patient's language for consent wording."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.models import UserProfile
from patients.models import ConsentKind, ConsentTemplate
from tests.factories import ConsentTemplateFactory


def test_a_user_picks_french_and_every_page_follows(client_for, practitioner):
    client = client_for(practitioner)
    page = reverse("account_language")
    assert client.get(page).status_code == 200
    response = client.post(page, {"language": "fr-ca"})
    assert response.status_code == 302
    assert UserProfile.objects.get(user=practitioner).language == "fr-ca"
    home = client.get(reverse("home"))
    assert home["Content-Language"] == "fr-ca"
    assert ">Langue</a>" in home.content.decode()
    # Back to the browser's language: English here (no Accept-Language).
    client.post(page, {"language": ""})
    home = client.get(reverse("home"))
    assert home["Content-Language"] == "en"
    assert ">Language</a>" in home.content.decode()


def test_the_choice_is_read_at_sign_in(client_for, practitioner):
    UserProfile.objects.create(user=practitioner, language="fr-ca")
    response = client_for(practitioner).get(reverse("home"))
    assert response["Content-Language"] == "fr-ca"


def test_an_unknown_language_is_refused(client_for, practitioner):
    response = client_for(practitioner).post(reverse("account_language"), {"language": "xx"})
    assert response.status_code == 200
    assert not UserProfile.objects.filter(user=practitioner).exists()


def test_a_new_consent_version_needs_the_french_wording(db):
    template = ConsentTemplate(kind=ConsentKind.TREATMENT, title="T", text="English only")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert set(error.value.message_dict) == {"title_fr", "text_fr"}


def test_the_consent_form_shows_the_patients_language_and_records_it(
    client_for, practitioner, patient
):
    old = ConsentTemplateFactory(kind=ConsentKind.PHOTOGRAPHY, text="Photos allowed.")
    both = ConsentTemplateFactory(
        kind=ConsentKind.TREATMENT, title_fr="Consentement", text_fr="Je consens au traitement."
    )
    patient.preferred_language = "fr-ca"
    patient.save()
    page = client_for(practitioner).get(reverse("patients:consent_new", args=[patient.pk]))
    body = page.content.decode()
    assert "Je consens au traitement." in body
    assert both.text not in body
    assert old.text in body  # no French for this version: the English, with a note
    assert 'data-testid="wording-fallback"' in body
    assert old.wording_in("fr-ca").language == "en"


def test_record_consent_notes_the_language_of_the_wording(client_for, practitioner, patient):
    import io

    from PIL import Image

    template = ConsentTemplateFactory(
        kind=ConsentKind.TREATMENT, title_fr="Consentement", text_fr="Je consens."
    )
    patient.preferred_language = "fr-ca"
    patient.save()
    buffer = io.BytesIO()
    Image.new("RGB", (400, 200), "white").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "scan.png"
    response = client_for(practitioner).post(
        reverse("patients:consent_new", args=[patient.pk]),
        {
            "template": template.pk,
            "signed_on": patient.created_at.date().isoformat(),
            "signed_by": patient.full_name,
            "method": "scan",
            "scan": buffer,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert patient.consents.get().wording_language == "fr-ca"


def test_the_chart_shows_the_preferred_language(client_for, practitioner, patient):
    patient.preferred_language = "fr-ca"
    patient.save()
    body = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    assert 'data-testid="preferred-language">Français<' in body
