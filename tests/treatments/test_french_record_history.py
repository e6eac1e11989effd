"""Issue 22, item 7: "who saw or changed this record" and the indications speak the reader's
language: field names are the models' verbose names, values are what people read (choice
labels, regions and indications by their label, yes/no), never attribute names or codes."""

import pytest
from django.urls import reverse
from django.utils import translation

from clinic.models import UserProfile
from tests.pdf import pdf_text
from treatments.models import Indication, TreatmentMap, TreatmentSession
from treatments.summary import render_pdf, with_summary_data

NBSP = "\N{NO-BREAK SPACE}"
# What the page showed before: attribute names and stored codes.
RAW = [
    "status:",
    "check_consent_current",
    "region_id",
    "indication_id",
    "gauge:",
    "thigh_outer_right",
    ">draft<",
    "True",
    "False",
]


@pytest.fixture
def history(client_for, practitioner, signed):
    """The access page of a patient whose map changed indication and whose session was
    signed, read by `language`."""
    fat = Indication.objects.get(code="localized_fat")
    TreatmentMap.objects.filter(pk=signed.treatment_map_id).update(indication=fat)

    def read(language: str) -> str:
        UserProfile.objects.update_or_create(user=practitioner, defaults={"language": language})
        page = client_for(practitioner).get(reverse("patients:access", args=[signed.patient_id]))
        assert page.status_code == 200
        return page.content.decode()

    return read


def test_the_history_in_french_names_fields_and_values_in_french(history):
    html = history("fr-ca")
    assert f"<strong>Statut</strong>{NBSP}: Brouillon → Signée" in html
    assert f"<strong>Indication</strong>{NBSP}: Cellulite → Dépôts graisseux localisés" in html
    assert f"<strong>Région</strong>{NBSP}: Cuisse droite, face externe" in html
    assert f"<strong>Calibre (G)</strong>{NBSP}: 30" in html
    assert f"<strong>Consentement au dossier et à jour</strong>{NBSP}: Oui" in html
    assert f"<strong>Prénom</strong>{NBSP}: Marie" in html
    assert "séance de traitement" in html and "zone du plan" in html
    for raw in RAW + ["Localized fat deposits", "Right thigh", "Yes<", ">No<", "TreatmentSession"]:
        assert raw not in html, raw


def test_the_history_in_english_uses_the_same_names_and_labels(history):
    html = history("en")
    assert "<strong>Status</strong>: Draft → Signed" in html
    assert "<strong>Indication</strong>: Cellulite → Localized fat deposits" in html
    assert "<strong>Region</strong>: Right thigh, outer" in html
    assert "<strong>Consent on file and current</strong>: Yes" in html
    for raw in RAW:
        assert raw not in html, raw


def test_an_indication_is_shown_in_the_active_language(db):
    fat = Indication.objects.get(code="localized_fat")
    assert fat.label_fr == "Dépôts graisseux localisés"  # filled by migration 0016
    with translation.override("fr-ca"):
        assert str(fat) == "Dépôts graisseux localisés"
    with translation.override("en"):
        assert str(fat) == "Localized fat deposits"
    # One the clinic added without a French label keeps its name in French.
    added = Indication.objects.create(code="scars", name="Scars")
    with translation.override("fr-ca"):
        assert str(added) == "Scars"
    expected = {
        "cellulite": "Cellulite",
        "weight_loss": "Perte de poids",
        "anti_aging": "Anti-âge",
        "wrinkles_face_lift": "Rides et lifting du visage",
        "chronic_pain": "Douleur chronique",
        "injury_repair": "Réparation des blessures",
    }
    shipped = Indication.objects.filter(code__in=expected).values_list("code", "label_fr")
    assert dict(shipped) == expected


def test_the_map_and_the_pdf_show_the_indication_in_the_readers_language(
    client_for, practitioner, draft
):
    fat = Indication.objects.get(code="localized_fat")
    TreatmentMap.objects.filter(pk=draft.treatment_map_id).update(indication=fat)
    UserProfile.objects.create(user=practitioner, language="fr-ca")
    page = client_for(practitioner).get(draft.treatment_map.get_absolute_url())
    assert "Dépôts graisseux localisés" in page.content.decode()
    assert "Localized fat deposits" not in page.content.decode()

    session = with_summary_data(TreatmentSession.objects.all()).get(pk=draft.pk)
    for language, shown, hidden in [
        ("fr-ca", "Dépôts graisseux localisés", "Localized fat deposits"),
        ("en", "Localized fat deposits", "Dépôts graisseux localisés"),
    ]:
        session.patient.preferred_language = language
        text = pdf_text(render_pdf(session))
        assert shown in text and hidden not in text


def test_the_console_edits_the_french_label(client_for, catalogue_admin):
    client = client_for(catalogue_admin)
    listing = client.get(reverse("admin:treatments_indication_changelist")).content.decode()
    assert "Dépôts graisseux localisés" in listing
    fat = Indication.objects.get(code="localized_fat")
    change = client.get(reverse("admin:treatments_indication_change", args=[fat.pk]))
    assert 'name="label_fr"' in change.content.decode()
