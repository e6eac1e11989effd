"""The patient pages in Canadian French: each page asked for in French (Accept-Language:
fr-ca) shows its French wording, choices and messages and none of its English; the
figures people read take the decimal comma while the chart's drawing keeps its dots."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from patients.models import Measurement, Patient, Photo
from tests.dates import days_from_today
from tests.factories import make_photo
from tests.uploads import upload

pytestmark = pytest.mark.django_db
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-ca"}
NEW_PATIENT = {
    "first_name": "Marie",
    "last_name": "Côté",
    "date_of_birth": "1984-05-17",
    "sex": "F",
    "phone": "",
    "email": "",
    "address": "",
    "phototype": "3",
    "allergy_status": "none_known",
    "allergies": "",
    "current_medications": "",
    "medical_history": "",
    "contraindication_notes": "",
}


def _assert_french(page: str, french: list[str], english: list[str]) -> None:
    for text in french:
        assert text in page, text
    for text in english:
        assert text not in page, text


def test_the_chart_in_french(client_for, practitioner, patient, sign_consent):
    Patient.objects.filter(pk=patient.pk).update(
        allergy_status="listed", allergies="Lidocaïne", anticoagulant_treatment=True
    )
    sign_consent(patient)
    page = client_for(practitioner).get(patient.get_absolute_url(), **FRENCH).content.decode()
    _assert_french(
        page,
        [
            '<html lang="fr-ca">',
            "Phototype cutané",
            "II — claire\N{NO-BREAK SPACE}: brûle habituellement, bronze difficilement",
            "Aiguille par défaut",
            "Allergies\N{NO-BREAK SPACE}:",
            "Traitement anticoagulant",  # a contraindication's label, from its verbose name
            "Plans de traitement",
            "Aucune séance consignée pour l’instant.",
            "Consentements",
            "Consentement\N{NO-BREAK SPACE}: Photographie, version 1",
            "En vigueur",
            "Manquant",
            'placeholder="Motif du retrait"',
            "Aucune photo.",
            "Aucune mesure.",
            "Qui a consulté ou modifié ce dossier",
        ],
        [
            "Skin phototype",
            "Default needle",
            "Anticoagulant treatment",
            "Treatment maps",
            "No sessions recorded yet",
            "In force",
            "Reason for withdrawal",
            "No photos.",
            "Who saw or changed",
        ],
    )
    # What people typed stays as typed.
    assert "Lidocaïne" in page and "Gagnon, Hélène" in page


def test_the_chart_stays_english_without_a_language(client_for, practitioner, patient):
    page = client_for(practitioner).get(patient.get_absolute_url()).content.decode()
    assert '<html lang="en">' in page
    _assert_french(
        page,
        ["Skin phototype", "Treatment maps", "No sessions recorded yet.", "Consents"],
        ["Plans de traitement", "Phototype cutané", "Consentements"],
    )


def test_the_patient_list_in_french(client_for, practitioner, patient):
    client = client_for(practitioner)
    found = client.get(reverse("patients:list") + "?q=gagnon", **FRENCH).content.decode()
    _assert_french(
        found,
        [
            "Trouver un patient",
            'placeholder="Nom, numéro de dossier, téléphone ou date de naissance"',
            ">Naissance",
            ">Alertes<",
            "Gagnon",
        ],
        ["Find a patient", "chart number, phone or date of birth", "Include archived", ">Born"],
    )
    none = client.get(reverse("patients:list") + "?q=zzzz", **FRENCH).content.decode()
    assert "Aucun patient ne correspond à « zzzz »." in none


def test_a_new_patient_form_its_errors_and_its_message_in_french(client_for, practitioner):
    client = client_for(practitioner)
    blank = client.get(reverse("patients:create"), **FRENCH).content.decode()
    _assert_french(
        blank,
        [
            "Nouveau patient",
            "Identité et coordonnées",
            "Prénom",
            "Date de naissance",
            "Non divulgué",
            "Grossesse ou allaitement",
            "Enregistrer",
            "Annuler",
        ],
        ["New patient", "Identity and contact", "First name", "Not disclosed", "Save<"],
    )
    future = days_from_today(3).isoformat()
    refused = client.post(
        reverse("patients:create"),
        {**NEW_PATIENT, "first_name": "  ", "date_of_birth": future, "phone": "12"},
        **FRENCH,
    ).content.decode()
    _assert_french(
        refused,
        [
            "Ce champ est obligatoire.",
            "La date de naissance ne peut pas être dans le futur.",
            "Un numéro de téléphone compte de 7 à 15 chiffres.",
        ],
        ["This field is required.", "cannot be in the future", "7 to 15 digits"],
    )
    assert not Patient.objects.exists()
    created = client.post(reverse("patients:create"), NEW_PATIENT, **FRENCH)
    patient = Patient.objects.get()
    flashed = [str(m) for m in get_messages(created.wsgi_request)]
    assert flashed == [f"Marie Côté a été ajouté sous le numéro de dossier {patient.chart_number}."]


def test_archiving_and_the_model_rule_it_sets_in_french(client_for, practitioner, patient):
    client = client_for(practitioner)
    response = client.post(
        reverse("patients:archive", args=[patient.pk]), {"version": patient.version}, **FRENCH
    )
    chart = client.get(response.url, **FRENCH).content.decode()
    _assert_french(
        chart,
        ["Le dossier de Hélène Gagnon a été archivé.", "Archivé", "Restaurer"],
        ["was archived", ">Archived<", ">Restore<"],
    )
    # The model's rule (check_writable) refuses in French, from the measurement form.
    refused = client.post(
        reverse("patients:measurement_new", args=[patient.pk]),
        {
            "site": "Cuisse",
            "value": "50",
            "unit": "cm",
            "posture": "standing",
            "measured_on": days_from_today(-1).isoformat(),
        },
        **FRENCH,
    ).content.decode()
    _assert_french(
        refused,
        ["Ce patient est archivé\N{NO-BREAK SPACE}: le dossier est en lecture seule."],
        ["This patient is archived"],
    )


def test_a_photo_refused_by_the_service_in_french(client_for, practitioner, patient, templates):
    client = client_for(practitioner)
    url = reverse("patients:photo_new", args=[patient.pk])
    form = client.get(url, **FRENCH).content.decode()
    _assert_french(
        form,
        [
            "Ajouter une photo",
            "Aucun consentement à la photographie n’est au dossier",
            "Côté gauche",
            "Avant le traitement",
            "Téléverser",
        ],
        ["Add a photo", "No photography consent is on file", "Left side", "Upload<"],
    )
    refused = client.post(
        url,
        {
            "taken_at": f"{days_from_today(-1).isoformat()}T09:00",
            "region": "Cuisse",
            "view": "front",
            "posture": "standing",
            "phase": "before",
            "notes": "",
            "upload": upload(),
        },
        **FRENCH,
    ).content.decode()
    # patients.services.check_photo_allowed, said in French.
    _assert_french(
        refused,
        ["Aucun consentement à la photographie n’est en vigueur pour ce patient"],
        ["No photography consent is in force"],
    )
    assert not Photo.objects.exists()


def test_an_unreadable_image_is_refused_in_french(client_for, practitioner, patient, sign_consent):
    sign_consent(patient)
    refused = (
        client_for(practitioner)
        .post(
            reverse("patients:photo_new", args=[patient.pk]),
            {
                "taken_at": f"{days_from_today(-1).isoformat()}T09:00",
                "region": "Cuisse",
                "view": "front",
                "posture": "standing",
                "phase": "before",
                "notes": "",
                "upload": upload("x.jpg", b"GIF89a not really", "image/jpeg"),
            },
            **FRENCH,
        )
        .content.decode()
    )
    _assert_french(
        refused,
        ["Le fichier n’est pas une image JPEG ou PNG lisible."],
        ["not a readable JPEG or PNG"],
    )


def test_consent_form_withdrawal_and_its_messages_in_french(
    client_for, practitioner, patient, sign_consent
):
    client = client_for(practitioner)
    form = client.get(reverse("patients:consent_new", args=[patient.pk]), **FRENCH)
    _assert_french(
        form.content.decode(),
        [
            "Consigner un consentement",
            "Photographie (version 1)",
            "Signé à l’écran",
            "Signature tracée à l’écran",
            "Effacer",
            "Le patient, ou son représentant légal.",
        ],
        ["Record a consent", "Signed on screen", "Signature drawn on screen", ">Clear<"],
    )
    drawn = client.post(
        reverse("patients:consent_new", args=[patient.pk]),
        {
            "template": form.context["form"].fields["template"].queryset.first().pk,
            "signed_on": days_from_today(0).isoformat(),
            "signed_by": "Hélène Gagnon",
            "method": "drawn",
            "signature_data": "",
        },
        **FRENCH,
    ).content.decode()
    assert "Tracez la signature dans le cadre, ou choisissez le formulaire numérisé." in drawn
    consent = sign_consent(patient)
    url = reverse("patients:consent_withdraw", args=[patient.pk, consent.pk])
    first = client.post(url, {"reason": "Changé d’avis"}, **FRENCH)
    again = client.post(url, {"reason": "Encore"}, **FRENCH)
    assert [str(m) for m in get_messages(first.wsgi_request)] == [
        "Le consentement est retiré; l’exemplaire signé est conservé."
    ]
    # withdraw_consent's ValidationError (patients.services), shown as the flash message.
    assert [str(m) for m in get_messages(again.wsgi_request)][-1] == (
        "Ce consentement a déjà été retiré."
    )


def test_measurements_keep_a_dot_in_the_drawing_and_a_comma_for_people(
    client_for, practitioner, patient
):
    for days, value in ((40, "60.5"), (2, "58.0")):
        Measurement.objects.create(
            patient=patient,
            site="Cuisse droite",
            value=Decimal(value),
            measured_on=days_from_today(-days),
            recorded_by=practitioner,
        )
    client = client_for(practitioner)
    chart = client.get(patient.get_absolute_url(), **FRENCH).content.decode()
    trend = chart.split('data-testid="trend"')[1].split("</figure>")[0]
    assert "58,0 cm" in trend and "-2,5 cm" in trend and "depuis le" in trend
    svg = trend.split("<svg")[1].split("</svg>")[0]
    numbers = re.findall(r'(?:cx|cy|x1|y1|x2|y2|x|y|points|viewBox)="([^"]*)"', svg)
    assert numbers and not any("," in n and " " not in n for n in numbers)
    assert all(re.fullmatch(r"[-0-9. ,]+", n) for n in numbers)
    assert 'aria-label="Cuisse droite dans le temps"' in svg
    form = client.get(reverse("patients:measurement_new", args=[patient.pk]), **FRENCH)
    _assert_french(
        form.content.decode(),
        ["Ajouter une mesure", "Repère", "Mesuré le", "Enregistrer et en ajouter une autre"],
        ["Add a measurement", "Landmark", "Measured on", "Save and add another"],
    )
    future = client.post(
        reverse("patients:measurement_new", args=[patient.pk]),
        {
            "site": "Cuisse droite",
            "value": "57.5",
            "unit": "cm",
            "posture": "standing",
            "measured_on": days_from_today(2).isoformat(),
        },
        **FRENCH,
    ).content.decode()
    assert "Cette date est dans le futur." in future
    saved = client.post(
        reverse("patients:measurement_new", args=[patient.pk]),
        {
            "site": "Cuisse droite",
            "value": "57.5",
            "unit": "cm",
            "posture": "standing",
            "measured_on": days_from_today(-1).isoformat(),
        },
        **FRENCH,
    )
    [message] = [str(m) for m in get_messages(saved.wsgi_request)]
    assert message.startswith(
        "Mesure consignée\N{NO-BREAK SPACE}: Cuisse droite\N{NO-BREAK SPACE}: 57,5 cm le "
    )


def test_photo_comparison_and_history_pages_in_french(client_for, practitioner, patient):
    make_photo(patient, practitioner, days_ago=10)
    make_photo(patient, practitioner, days_ago=3, phase="after")
    client = client_for(practitioner)
    compare = client.get(
        reverse("patients:photo_compare", args=[patient.pk]) + "?region=Right+thigh&view=front",
        **FRENCH,
    ).content.decode()
    _assert_french(
        compare,
        ["7 jours d’écart", "Gauche", "Droite", "Avant le traitement", "Après le traitement"],
        ["days apart", "Before treatment", "After treatment", ">Show<"],
    )
    history = client.get(reverse("patients:access", args=[patient.pk]), **FRENCH).content.decode()
    _assert_french(
        history,
        [
            "Qui a consulté ou modifié ce dossier",
            "Provenance",
            "Consulté",
            "création",
            "(système)",
            "Les 200 dernières modifications",
        ],
        ["Who saw or changed", ">From<", ">Viewed<", ">insert<", "(system)"],
    )


def test_an_edit_conflict_names_the_fields_in_french(client_for, practitioner, patient):
    client = client_for(practitioner)
    url = reverse("patients:edit", args=[patient.pk])
    opened_at = patient.version
    client.post(url, {**NEW_PATIENT, "last_name": "Tremblay", "version": opened_at})
    page = client.post(
        url, {**NEW_PATIENT, "last_name": "Lefebvre", "version": opened_at}, **FRENCH
    ).content.decode()
    _assert_french(
        page,
        [
            "Quelqu’un d’autre a enregistré ce dossier",
            "<strong>Nom</strong>\N{NO-BREAK SPACE}: Gagnon → Tremblay",
        ],
        ["Someone else saved", "Last name"],
    )
