"""Flags where the plan stands: zones whose needle is off the patient's current default
(a phototype changed since the plan), put right for all of them at once; off-label
compounds marked on the map, the session form and the PDF."""

from decimal import Decimal

import pytest
from django.urls import reverse

from patients.services import save_patient
from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    FormulaFactory,
    list_on_formulary,
)
from tests.pdf import pdf_text
from tests.treatments.session_helpers import session_post
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db


def _darker(patient):
    """Phototype V: the default needle becomes 6 mm (the map's zones were planned at 4)."""
    patient.phototype = 5
    save_patient(patient=patient, fields=["phototype"], expected_version=patient.version)


def test_the_map_flags_zones_off_the_new_default(client_for, practitioner, planned_map):
    client = client_for(practitioner)
    page = client.get(planned_map.get_absolute_url()).content.decode()
    assert 'data-testid="needle-panel"' not in page
    _darker(planned_map.patient)
    page = client.get(planned_map.get_absolute_url()).content.decode()
    assert 'data-testid="needle-panel"' in page
    assert page.count('data-testid="needle-off-default"') == 2
    assert "2 zones' needles are not the default for phototype V (6 mm 30G)" in page


def test_the_default_applied_to_every_zone_at_once(client_for, practitioner, planned_map):
    _darker(planned_map.patient)
    client = client_for(practitioner)
    url = reverse("treatments:map_needles", args=[planned_map.pk])
    response = client.post(url, {"action": "apply", "version": planned_map.version})
    assert response.status_code == 302
    zones = planned_map.zones.all()
    assert {zone.needle_length_mm for zone in zones} == {Decimal("6.0")}
    assert not any(zone.needle_off_default() for zone in zones)
    page = client.get(planned_map.get_absolute_url()).content.decode()
    assert "2 zones updated." in page and 'data-testid="needle-panel"' not in page


def test_or_one_reason_for_all_of_them(client_for, practitioner, planned_map):
    _darker(planned_map.patient)
    client = client_for(practitioner)
    url = reverse("treatments:map_needles", args=[planned_map.pk])
    refused = client.post(url, {"action": "keep", "reason": " ", "version": planned_map.version})
    assert refused.status_code == 302
    assert {zone.needle_override_reason for zone in planned_map.zones.all()} == {""}
    client.post(
        url, {"action": "keep", "reason": "Thin skin on the thighs", "version": planned_map.version}
    )
    zones = planned_map.zones.all()
    assert {zone.needle_length_mm for zone in zones} == {Decimal("4.0")}
    assert {zone.needle_override_reason for zone in zones} == {"Thin skin on the thighs"}


def test_a_stale_page_changes_nothing(client_for, practitioner, planned_map):
    _darker(planned_map.patient)
    url = reverse("treatments:map_needles", args=[planned_map.pk])
    client_for(practitioner).post(url, {"action": "apply", "version": planned_map.version - 1})
    assert {zone.needle_length_mm for zone in planned_map.zones.all()} == {Decimal("4")}


def test_only_those_who_change_clinical_records(client_for, assistant, planned_map):
    _darker(planned_map.patient)
    url = reverse("treatments:map_needles", args=[planned_map.pk])
    response = client_for(assistant).post(url, {"action": "apply", "version": planned_map.version})
    assert response.status_code in (403, 404)
    assert {zone.needle_length_mm for zone in planned_map.zones.all()} == {Decimal("4")}


@pytest.fixture
def off_label_map(planned_map, location, lots):
    """The map's mixture gains an off-label compound, with a lot."""
    compound = CompoundFactory(name="Lipolytic X", off_label=True)
    list_on_formulary(compound, location.jurisdiction)
    permitted = lots["Phosphatidylcholine"].compound
    formula = FormulaFactory(name="Lipolysis X", compounds=[permitted, compound])
    planned_map.zones.update(formula=formula)
    return planned_map, {**lots, "Lipolytic X": CompoundLotFactory(compound=compound)}


def test_off_label_is_marked_on_the_map_and_the_session_form(
    client_for, practitioner, off_label_map
):
    planned_map, _ = off_label_map
    client = client_for(practitioner)
    page = client.get(planned_map.get_absolute_url()).content.decode()
    assert page.count('data-testid="off-label"') == 2  # one per zone
    form = client.get(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        {"map": planned_map.pk},
    ).content.decode()
    assert "Lot of Lipolytic X (off-label) *" in form
    assert "Lot of Phosphatidylcholine *" in form


def test_off_label_is_marked_on_the_pdf(client_for, practitioner, off_label_map):
    from treatments.summary import render_pdf, with_summary_data

    planned_map, lots = off_label_map
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),
    )
    assert response.status_code == 302
    session = with_summary_data(TreatmentSession.objects.all()).get()
    text = pdf_text(render_pdf(session))
    assert text.count("off-label") == 2  # Lipolytic X in each zone, not Phosphatidylcholine
