from decimal import Decimal

import pytest
from django.urls import reverse

from clinic.models import AccessLog
from tests.treatments.session_helpers import session_post
from treatments.models import InjectionLot, TreatmentSession

pytestmark = pytest.mark.django_db


def _new(client, planned_map, lots, **kwargs):
    return client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, **kwargs),
    )


def test_new_session_is_prefilled_from_the_map(client_for, practitioner, planned_map, lots):
    response = client_for(practitioner).get(
        reverse("treatments:session_new", args=[planned_map.patient_id])
    )
    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert [f.zone.region.code for f in forms] == ["thigh_outer_right", "thigh_outer_left"]
    assert forms[0]["volume_ml"].value() == Decimal("2.50")
    assert forms[0]["formula"].value() == planned_map.zones.first().formula_id
    assert forms[0].lot_fields  # one lot choice per compound of the formula


def test_record_a_session_with_its_lots(client_for, practitioner, planned_map, lots):
    response = _new(client_for(practitioner), planned_map, lots)
    assert response.status_code == 302, response.content.decode()[:3000]
    session = TreatmentSession.objects.get()
    assert session.status == "draft" and session.practitioner == practitioner
    assert session.injections.count() == 2
    lot_numbers = set(InjectionLot.objects.values_list("lot__lot_number", flat=True))
    assert lot_numbers == {"PHOS-26"}
    response = client_for(practitioner).get(session.get_absolute_url())
    # Totals computed, never typed: 2 × 2.5 mL and 2 × 40 points, in the table's footer.
    assert (response.context["total_volume"], response.context["total_points"]) == (5, 80)
    footer = response.content.decode().split("<tfoot>")[1].split("</tfoot>")[0]
    assert '<td class="num">5 mL</td><td class="num">80</td>' in footer


def test_totals_per_compound_are_computed(client_for, practitioner, planned_map, lots):
    _new(client_for(practitioner), planned_map, lots, rows={1: {"volume_ml": "1.5"}})
    session = TreatmentSession.objects.get()
    response = client_for(practitioner).get(session.get_absolute_url())
    assert response.context["total_volume"] == Decimal("4.00")
    (total,) = response.context["per_compound"]
    assert total.name == "Phosphatidylcholine"
    assert total.amount == Decimal("4.000") and total.unit == "mg"
    assert total.lots == ("PHOS-26",)


def test_session_view_is_logged(client_for, practitioner, planned_map, lots):
    client = client_for(practitioner)
    _new(client, planned_map, lots)
    session = TreatmentSession.objects.get()
    client.get(session.get_absolute_url())
    assert AccessLog.objects.filter(action="view", object_id=str(session.pk)).exists()
