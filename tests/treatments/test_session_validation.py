"""Every validation path of the session log, and the all-or-nothing save."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.urls import reverse

from tests.dates import datetime_input
from tests.factories import list_on_formulary
from tests.treatments.session_helpers import session_at, session_post
from treatments.models import CompoundLot, Injection, InjectionLot, TreatmentSession
from treatments.services.sessions import PlannedInjection, save_session

pytestmark = pytest.mark.django_db


def _post(client, planned_map, data):
    return client.post(reverse("treatments:session_new", args=[planned_map.patient_id]), data)


def _lot_field(planned_map):
    compound_id = planned_map.zones.first().formula.ingredients.first().compound_id
    return f"lot_{compound_id}"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"volume_ml": "0"}, "greater than or equal to 0.01"),
        ({"volume_ml": "-1"}, "greater than or equal to 0.01"),
        ({"volume_ml": "12"}, "At most 10 mL in one zone per session."),
        ({"volume_ml": ""}, "This field is required."),
        ({"points": "0"}, "greater than or equal to 1"),
        ({"depth_mm": "6"}, "The depth cannot exceed the needle length (4"),
        ({"technique": "laser"}, "Select a valid choice"),
        ({"formula": ""}, "This field is required."),
    ],
)
def test_injection_rows(client_for, practitioner, planned_map, lots, row, message):
    response = _post(
        client_for(practitioner), planned_map, session_post(planned_map, lots, rows={1: row})
    )
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not TreatmentSession.objects.exists()


def test_expired_lot_on_the_session_date(client_for, practitioner, planned_map, lots):
    expired = lots["Phosphatidylcholine expired"]
    expired.expiry_date = session_at().date() - timedelta(days=15)  # still offered: < a year
    expired.save()
    data = session_post(planned_map, lots, rows={0: {_lot_field(planned_map): expired.pk}})
    response = _post(client_for(practitioner), planned_map, data)
    assert (
        f"Lot PHOS-19 of Phosphatidylcholine expired on {expired.expiry_date:%Y-%m-%d}, "
        "before the session date."
    ) in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_long_expired_lots_are_not_offered(client_for, practitioner, planned_map, lots):
    expired = lots["Phosphatidylcholine expired"]  # two years ago
    page = client_for(practitioner).get(
        reverse("treatments:session_new", args=[planned_map.patient_id])
    )
    form = page.context["formset"].forms[0]
    offered = [value for value, _label in form.fields[_lot_field(planned_map)].choices]
    assert expired.pk not in offered and lots["Phosphatidylcholine"].pk in offered
    assert form[_lot_field(planned_map)].value() == lots["Phosphatidylcholine"].pk  # the only one
    data = session_post(planned_map, lots, rows={0: {_lot_field(planned_map): expired.pk}})
    assert (
        "Select a valid choice"
        in _post(client_for(practitioner), planned_map, data).content.decode()
    )


def test_a_lot_valid_on_the_session_date_is_accepted_even_if_expired_since(
    client_for, practitioner, planned_map, lots
):
    lot = lots["Phosphatidylcholine expired"]
    lot.expiry_date = session_at().date() + timedelta(days=29)
    lot.save()
    assert lot.is_expired  # today, but not on the session date
    data = session_post(planned_map, lots, rows={0: {_lot_field(planned_map): lot.pk}})
    assert _post(client_for(practitioner), planned_map, data).status_code == 302


def test_the_lot_must_belong_to_the_compound(client_for, practitioner, planned_map, lots):
    other = lots["Aminophylline"]
    data = session_post(planned_map, lots, rows={0: {_lot_field(planned_map): other.pk}})
    response = _post(client_for(practitioner), planned_map, data)
    assert "Select a valid choice" in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_a_lot_is_required_for_each_compound(client_for, practitioner, planned_map, lots):
    data = session_post(planned_map, lots, rows={0: {_lot_field(planned_map): ""}})
    response = _post(client_for(practitioner), planned_map, data)
    assert "Choose the lot of Phosphatidylcholine used." in response.content.decode()


def test_formulary_at_the_sessions_location(client_for, practitioner, planned_map, lots, catalogue):
    data = session_post(planned_map, lots, rows={0: {"formula": catalogue["prohibited"].pk}})
    compounds = catalogue["prohibited"].ingredients.all()
    for ingredient in compounds:
        data[f"form-0-lot_{ingredient.compound_id}"] = lots[ingredient.compound.name].pk
    response = _post(client_for(practitioner), planned_map, data)
    assert "Aminophylline is prohibited in Québec (CA-QC)." in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_same_session_elsewhere_follows_that_formulary(
    client_for, practitioner, planned_map, lots, catalogue
):
    from tests.factories import JurisdictionFactory, LocationFactory

    florida = LocationFactory(
        name="Miami", jurisdiction=JurisdictionFactory(code="US-FL", name="Florida")
    )
    data = session_post(planned_map, lots, location=florida.pk)
    response = _post(client_for(practitioner), planned_map, data)
    assert (
        "Phosphatidylcholine is not on the formulary of Florida (US-FL)"
        in response.content.decode()
    )
    list_on_formulary(catalogue["permitted"].ingredients.first().compound, florida.jurisdiction)
    assert _post(client_for(practitioner), planned_map, data).status_code == 302


def test_restricted_needs_acknowledgement_in_the_session(
    client_for, practitioner, planned_map, lots, catalogue
):
    data = session_post(planned_map, lots, rows={0: {"formula": catalogue["restricted"].pk}})
    for ingredient in catalogue["restricted"].ingredients.all():
        data[f"form-0-lot_{ingredient.compound_id}"] = lots[ingredient.compound.name].pk
    client = client_for(practitioner)
    response = _post(client, planned_map, data)
    assert "Deoxycholate is restricted" in response.content.decode()
    data.update({"form-0-restricted_acknowledged": "on", "form-0-restricted_note": "3 mL only"})
    assert _post(client, planned_map, data).status_code == 302


def test_no_session_in_the_future(client_for, practitioner, planned_map, lots):
    response = _post(
        client_for(practitioner),
        planned_map,
        session_post(
            planned_map, lots, performed_at=datetime_input(session_at() + timedelta(days=365))
        ),
    )
    assert "This date is in the future." in response.content.decode()


def test_next_appointment_after_the_session(client_for, practitioner, planned_map, lots):
    data = session_post(planned_map, lots, next_appointment=datetime_input(session_at(-1)))
    response = _post(client_for(practitioner), planned_map, data)
    assert "The next appointment must come after this session." in response.content.decode()


def test_no_session_for_an_archived_patient(client_for, practitioner, planned_map, lots):
    patient = planned_map.patient
    patient.archived = True
    patient.save()
    response = _post(client_for(practitioner), planned_map, session_post(planned_map, lots))
    assert "This patient is archived" in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_at_least_one_zone_treated(client_for, practitioner, planned_map, lots):
    data = session_post(planned_map, lots, rows={0: {"treated": None}, 1: {"treated": None}})
    response = _post(client_for(practitioner), planned_map, data)
    assert "Record at least one treated zone." in response.content.decode()


def test_a_zone_not_treated_today_is_left_out(client_for, practitioner, planned_map, lots):
    data = session_post(planned_map, lots, rows={1: {"treated": None, "volume_ml": "garbage"}})
    assert _post(client_for(practitioner), planned_map, data).status_code == 302
    assert Injection.objects.count() == 1


def test_assistant_cannot_record(client_for, assistant, planned_map, lots):
    response = _post(client_for(assistant), planned_map, session_post(planned_map, lots))
    assert response.status_code == 403


def test_the_last_injection_failing_leaves_nothing(practitioner, planned_map, lots):
    """All or nothing: the second injection names its compound twice (unique per injection)."""
    zones = list(planned_map.zones.select_related("region"))
    lot = lots["Phosphatidylcholine"]

    def injection(zone):
        return Injection(
            map_zone=zone,
            region=zone.region,
            formula=zone.formula,
            volume_ml=Decimal("2"),
            points=20,
            depth_mm=Decimal("4"),
            needle_length_mm=Decimal("4"),
            gauge=30,
            technique="nappage",
        )

    session = TreatmentSession(
        patient=planned_map.patient,
        treatment_map=planned_map,
        location=planned_map.location,
        practitioner=practitioner,
        performed_at=session_at(),
    )
    with pytest.raises(IntegrityError):
        save_session(
            session=session,
            injections=[
                PlannedInjection(injection(zones[0]), [lot]),
                PlannedInjection(injection(zones[1]), [lot, lot]),
            ],
            expected_version=None,
        )
    assert TreatmentSession.objects.count() == 0
    assert Injection.objects.count() == 0
    assert InjectionLot.objects.count() == 0
    assert CompoundLot.objects.filter(pk=lot.pk).exists()


def test_a_zone_cannot_be_recorded_twice(client_for, practitioner, planned_map, lots):
    first_zone = planned_map.zones.order_by("region__sort_order").first()
    data = session_post(planned_map, lots, rows={1: {"map_zone": first_zone.pk}})
    response = _post(client_for(practitioner), planned_map, data)
    assert "Each zone can be recorded once per session." in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_later_today_is_the_future(now, client_for, practitioner, planned_map, lots):
    later = now + timedelta(hours=2)  # noon + 2 h: still today
    data = session_post(planned_map, lots, performed_at=datetime_input(later))
    response = _post(client_for(practitioner), planned_map, data)
    assert "This date is in the future." in response.content.decode()
