"""The treatment pages, the printed summary and the services' messages in Canadian French
(issue 13): a French page shows French words, the body regions' French labels and decimal
commas, and none of the English it replaced. English stays the default."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from tests.factories import CompoundLotFactory, PatientFactory
from tests.pdf import pdf_text
from tests.responses import body
from tests.treatments.session_helpers import session_at, session_post
from treatments import formulary
from treatments.diagram import all_region_codes
from treatments.models import BodyRegion, Compound, Injection, TreatmentSession
from treatments.summary import render_pdf, summary, with_summary_data

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-ca"}


def _page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return body(response)


def test_every_shipped_region_has_a_french_label_and_shows_it_only_in_french():
    regions = BodyRegion.objects.filter(code__in=all_region_codes())
    assert regions.count() == len(all_region_codes())
    assert not regions.filter(label_fr="").exists()
    thigh = BodyRegion.objects.get(code="thigh_outer_right")
    with translation.override("fr-ca"):
        assert str(thigh) == "Cuisse droite, face externe"
    with translation.override("en"):
        assert str(thigh) == "Right thigh, outer side"


def test_a_region_without_a_french_label_falls_back_to_english():
    region = BodyRegion.objects.create(
        code="ankle_right", label="Right ankle", view="front", side="right"
    )
    with translation.override("fr-ca"):
        assert region.shown_label() == "Right ankle"


def test_the_new_map_page_in_french(client_for, practitioner, location):
    patient = PatientFactory(first_name="Marie", last_name="Côté")
    page = _page(
        client_for(practitioner), reverse("treatments:map_new", args=[patient.pk]), **FRENCH
    )
    for french in (
        "Nouveau plan de traitement",
        "Zones à traiter",
        "Cuisse droite, face externe",  # the diagram's and the list's region labels
        "Contour de l&#x27;œil gauche",
        "Vue\N{NO-BREAK SPACE}: Devant",  # the diagram's views
        "Visage et cou",
        "Passer le schéma corporel",
        "Enregistrer et planifier les zones",
        "Séances prévues",  # a form label
        "La région a été cartographiée et mesurée avec le patient debout",
    ):
        assert french in page, french
    # The patient's sides on the diagram: D (droite) and G (gauche).
    assert ">D</text>" in page and ">G</text>" in page
    # The shapes' numbers stay as SVG reads them (the navel's radius is 2.5).
    assert 'rx="2.5"' in page and 'rx="2,5"' not in page
    for english in (
        "New treatment map",
        "Right thigh, outer side",
        "Face and neck",
        "Skip the body diagram",
        "Save and plan the zones",
        ">R</text>",
    ):
        assert english not in page, english


def test_the_new_map_page_stays_english_by_default(client_for, practitioner, location):
    patient = PatientFactory()
    page = _page(client_for(practitioner), reverse("treatments:map_new", args=[patient.pk]))
    assert "New treatment map" in page and "Right thigh, outer side" in page
    assert "Nouveau plan de traitement" not in page and "Cuisse droite" not in page


def test_the_zone_plan_and_its_script_messages_in_french(client_for, practitioner, planned_map):
    page = _page(
        client_for(practitioner), reverse("treatments:map_plan", args=[planned_map.pk]), **FRENCH
    )
    assert "Planifier les zones" in page and "Appliquer à plusieurs zones" in page
    assert "Calibre (G)" in page and "Profondeur (mm)" in page
    # What static/js/apply-to-zones.js says comes from the page, translated.
    assert (
        'data-say-filled-many-many="{fields} champs remplis dans {zones} zones. '
        'Ajustez au besoin, puis enregistrez."' in page
    )
    assert "Filled" not in page and "Apply to several zones" not in page


def test_the_session_form_in_french_shows_a_service_error_needle_too_long(
    client_for, practitioner, planned_map, lots, treatment_consent
):
    """Phototype II's default needle is 4 mm: 6 mm without a reason is refused by the
    rule (FollowsNeedleRule), in French."""
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, rows={0: {"needle_length_mm": "6"}}),
        **FRENCH,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "L&#x27;aiguille par défaut pour le phototype II est de 4 mm\N{NO-BREAK SPACE}: "
        "indiquez le motif pour 6 mm." in page
    )
    assert "Avant l'intervention" in page and "Enregistrer le brouillon" in page
    assert "Peau nettoyée au peroxyde" in page  # the checklist
    assert "Cuisse droite, face externe" in page  # the zone's legend
    assert "The default needle" not in page and "Save draft" not in page
    assert not TreatmentSession.objects.exists()


def test_the_session_form_bulk_box_in_french_with_a_machine_readable_needle(
    client_for, practitioner, planned_map, lots
):
    """The box, its script's messages and the default-needle button in French; the
    needle the button puts in the zones stays a number the field accepts ("6.0")."""
    patient = planned_map.patient
    patient.phototype = 5
    patient.save()
    page = _page(
        client_for(practitioner),
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        **FRENCH,
    )
    assert "Appliquer à plusieurs zones" in page and "Les six faits" in page
    assert "Utiliser 6 mm, 30G dans ces zones" in page
    assert 'data-length="6.0"' in page and 'data-length="6,0"' not in page
    assert "2 zones\N{NO-BREAK SPACE}: aiguille autre que celle par défaut" in page
    assert "Apply to" not in page and "All six done" not in page


def test_an_expired_lot_is_refused_in_french(
    client_for, practitioner, planned_map, lots, treatment_consent
):
    """A lot that expired before the session date (but is still offered: sessions are
    logged late) is refused by the session service, in French."""
    compound = Compound.objects.get(name="Phosphatidylcholine")
    late = CompoundLotFactory(
        compound=compound,
        lot_number="PHOS-OLD",
        expiry_date=session_at().date() - timedelta(days=3),
    )
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, rows={0: {f"lot_{compound.pk}": late.pk}}),
        **FRENCH,
    )
    assert response.status_code == 200
    page = response.content.decode()
    expiry = late.expiry_date.strftime("%Y-%m-%d")
    assert (
        f"Le lot PHOS-OLD de Phosphatidylcholine est périmé depuis le {expiry}, "
        "avant la date de la séance." in page
    )
    assert "expired on" not in page


def test_a_compound_not_on_the_formulary_is_refused_in_french(catalogue, location):
    unlisted = Compound.objects.get(name="Collagenase")
    with translation.override("fr-ca"), pytest.raises(Exception) as refused:
        formulary.check([unlisted], location.jurisdiction, acknowledged=False, note="")
    assert refused.value.messages == [
        "Collagenase n'est pas inscrit au formulaire thérapeutique de Québec (CA-QC); "
        "un administrateur du catalogue doit d'abord l'y inscrire."
    ]
    with translation.override("en"), pytest.raises(Exception) as refused:
        formulary.check([unlisted], location.jurisdiction, acknowledged=False, note="")
    assert "is not on the formulary of Québec (CA-QC)" in refused.value.messages[0]


def test_the_session_page_in_french(client_for, practitioner, draft):
    page = _page(client_for(practitioner), reverse("treatments:session", args=[draft.pk]), **FRENCH)
    for french in (
        "Brouillon",
        "Version imprimable",
        "Signer et verrouiller…",
        "Consigner un suivi",
        "Résumé de séance de mésothérapie",
        "BROUILLON, NON SIGNÉ",
        "Cuisse gauche, face externe",
        "2,5 mL",  # decimal comma
        "Aucun suivi consigné.",
        "À quoi s'attendre",
    ):
        assert french in page, french
    for english in ("Print view", "Mesotherapy session summary", "2.5 mL", "Left thigh"):
        assert english not in page, english


def test_the_printed_summary_under_override_has_french_words_regions_and_decimal_commas(
    signed,
):
    session = with_summary_data(TreatmentSession.objects.all()).get(pk=signed.pk)
    context = {**summary(session), "regions": list(BodyRegion.objects.all())}
    # The PDF is drawn in the patient's language; the template follows the active one.
    session.patient.preferred_language = "fr-ca"

    with translation.override("fr-ca"):
        html = render_to_string("treatments/session_summary.html", context)
    text = pdf_text(render_pdf(session))
    assert '<html lang="fr-ca">' in html
    for french in (
        "Résumé de séance de mésothérapie",
        "Cuisse droite, face externe",
        "2,5 mL",
        "5 mL",
        "Signée électroniquement par",
        "Brûlure ou démangeaison\N{NO-BREAK SPACE}: 15 à 20 minutes",
        "Peau nettoyée au peroxyde",
        "Nappage",
        "pér.",
    ):
        assert french in html, french
    assert (
        "2.5 mL" not in html and "Right thigh" not in html and "Signed electronically" not in html
    )
    # The PDF is drawn from the same template: French words, decimal comma, page footer.
    flat = " ".join(text.split())
    assert "Résumé de séance de mésothérapie" in flat
    assert "2,5 mL" in flat and "Cuisse gauche, face externe" in flat
    assert "page 1 de 1" in flat


def test_the_english_summary_keeps_the_region_label_as_recorded(draft):
    """In English an injection shows the label it was recorded with (catalogue edits do
    not rewrite the record); in French the region's French label."""
    Injection.objects.filter(session=draft).update(region_label="Outer thigh (as recorded)")
    BodyRegion.objects.filter(code="thigh_outer_right").update(label="Renamed later")
    session = with_summary_data(TreatmentSession.objects.all()).get(pk=draft.pk)
    injection = next(i for i in session.injections.all() if i.region.code == "thigh_outer_right")
    with translation.override("en"):
        assert injection.shown_region_label == "Outer thigh (as recorded)"
    with translation.override("fr-ca"):
        assert injection.shown_region_label == "Cuisse droite, face externe"


def test_the_lot_recall_pages_in_french(client_for, practitioner, signed, lots):
    lot = lots["Phosphatidylcholine"]
    client = client_for(practitioner)
    page = _page(client, reverse("treatments:lot_recall", args=[lot.pk]), **FRENCH)
    assert "Lot PHOS-26 de Phosphatidylcholine" in page
    assert "1 patient, 1 séance, 2 injections" in page
    assert "Liste de contacts à imprimer" in page and "5 mL de mélange" in page
    assert "Cuisse droite, face externe, Cuisse gauche, face externe" in page
    assert "Printable contact list" not in page and "of mixture" not in page
    printed = _page(client, reverse("treatments:lot_recall_print", args=[lot.pk]), **FRENCH)
    assert "Liste de contacts du rappel — lot PHOS-26 de Phosphatidylcholine" in printed
    assert "confidentiel" in printed and "confidential" not in printed
    csv = _page(client, reverse("treatments:lot_recall_csv", args=[lot.pk]), **FRENCH)
    header, row = csv.lstrip("\ufeff").splitlines()[:2]
    assert header.startswith("Numéro de dossier,Nom,Prénom,Date de naissance")
    assert ",Brouillon," not in row and ",Signée," in row and ",5," in row  # plain amounts
    search = _page(client, reverse("treatments:lots") + "?q=PHOS", **FRENCH)
    assert "Rappel de lot" in search and "Phosphatidylcholine lot PHOS-26 (pér." in search


def test_the_booklet_and_session_list_in_french(client_for, practitioner, signed):
    # The booklet is handed to the patient: it follows the patient's language.
    signed.patient.preferred_language = "fr-ca"
    signed.patient.save(update_fields=["preferred_language"])
    client = client_for(practitioner)
    booklet = _page(client, reverse("treatments:booklet", args=[signed.patient_id]), **FRENCH)
    assert "<title>Carnet de traitement · " in booklet
    assert "Carnet de traitement — <bdi>Côté</bdi>, <bdi>Marie</bdi>" in booklet
    assert "1 séance signée, de la plus ancienne à la plus récente." in booklet
    assert "Treatment booklet" not in booklet
    sessions = _page(client, reverse("treatments:session_list"), **FRENCH)
    assert "Brouillons non signés" in sessions and "Signée" in sessions
    assert "Unsigned drafts" not in sessions


def test_a_view_message_in_french(client_for, practitioner, draft):
    """What the view says after a save (messages framework), in the page's language."""
    client = client_for(practitioner)
    response = client.post(
        reverse("treatments:side_effect_new", args=[draft.pk]),
        {"kind": "swelling", "onset": "", "severity": "mild"},
        **FRENCH,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Consigner un suivi" in page and "Enflure" in page and "Léger" in page
    assert "Record a follow-up" not in page
