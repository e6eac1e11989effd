"""Which lots were usable at a moment: one rule (CompoundLot.unusable_at), asked by the
session form's choices, the session service and the console, for the session's own
date and time, not today's."""

import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dates import datetime_input, days_from_today, local
from tests.factories import CompoundLotFactory
from tests.treatments.session_helpers import session_post
from treatments.models import CompoundLot, Unusable
from treatments.services.lots import quarantine_lot

pytestmark = pytest.mark.django_db

THREE_WEEKS_AGO = -21


def _quarantine(lot, user, at):
    """Quarantined at a moment in the past (the service quarantines from now on)."""
    lot.quarantine(by=user, reason="recall", at=at)
    lot.save()


@pytest.fixture
def compound(lots):
    return lots["Phosphatidylcholine"].compound  # in the planned map's mixture


def test_the_rule_and_the_console_filter_agree_on_every_kind_of_lot(compound, practitioner):
    """Received before/after, expiring before/after, quarantined before/after/never: the
    instance rule and the queryset the console filters with give the same answer."""
    session = local(days_from_today(THREE_WEEKS_AGO))
    for n, (received, expiry, quarantined) in enumerate(
        itertools.product((-60, -7, 0), (-30, -21, 30), (None, -40, -10))
    ):
        lot = CompoundLotFactory(
            compound=compound,
            lot_number=f"GRID-{n}",
            received_on=days_from_today(received),
            expiry_date=days_from_today(expiry),
        )
        if quarantined is not None:
            _quarantine(lot, practitioner, timezone.now() + timedelta(days=quarantined))
    lots = CompoundLot.objects.filter(lot_number__startswith="GRID-")
    for moment in (session, session + timedelta(days=14), timezone.now()):
        by_rule = {lot.pk for lot in lots if lot.unusable_at(moment) is None}
        assert by_rule == set(lots.usable_at(moment).values_list("pk", flat=True)), moment
        assert by_rule  # the grid holds usable lots at every moment tried


def test_each_reason_is_named(compound, practitioner):
    session = local(days_from_today(THREE_WEEKS_AGO))
    late = CompoundLotFactory(compound=compound, received_on=days_from_today(-7))
    expired = CompoundLotFactory(
        compound=compound, expiry_date=days_from_today(-30), received_on=days_from_today(-400)
    )
    quarantined = CompoundLotFactory(compound=compound)
    _quarantine(quarantined, practitioner, session - timedelta(days=1))
    after = CompoundLotFactory(compound=compound)
    after = quarantine_lot(lot=after, user=practitioner, reason="recall")
    assert late.unusable_at(session) == Unusable.NOT_RECEIVED
    assert late.unusable_at(timezone.now()) is None
    assert expired.unusable_at(session) == Unusable.EXPIRED
    assert quarantined.unusable_at(session) == Unusable.QUARANTINED
    # Quarantined after the session: it was usable then, not now.
    assert after.unusable_at(session) is None
    assert after.unusable_at(timezone.now()) == Unusable.QUARANTINED


def _lot_options(html: str, compound) -> list[str]:
    import re

    select = re.search(rf'<select name="form-0-lot_{compound.pk}".*?</select>', html, re.S)
    return re.findall(r'<option value="(\d+)"', select.group(0))


def test_a_session_logged_late_offers_the_lots_of_its_own_day(
    client_for, practitioner, planned_map, lots, compound
):
    """Dated three weeks back: the lot in use that day (quarantined since) is offered, a
    lot received after it is not; on today's date it is the other way round."""
    in_use = lots["Phosphatidylcholine"]
    # A week ago: after the day of the session, before today.
    _quarantine(in_use, practitioner, local(days_from_today(-7)))
    delivered = CompoundLotFactory(
        compound=compound, lot_number="NEW-1", received_on=days_from_today(-7)
    )
    client = client_for(practitioner)
    url = reverse("treatments:injection_lots")
    params = {
        "prefix": "form-0",
        "formula": planned_map.zones.first().formula_id,
        "location": planned_map.location_id,
    }
    then = client.get(
        url, {**params, "date": datetime_input(local(days_from_today(THREE_WEEKS_AGO)))}
    )
    assert _lot_options(then.content.decode(), compound) == [str(in_use.pk)]
    today = client.get(url, {**params, "date": datetime_input(timezone.now())})
    assert _lot_options(today.content.decode(), compound) == [str(delivered.pk)]


def test_the_service_refuses_a_lot_received_after_the_session(
    client_for, practitioner, planned_map, lots, compound
):
    delivered = CompoundLotFactory(
        compound=compound, lot_number="NEW-2", received_on=days_from_today(-7)
    )
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, {**lots, "Phosphatidylcholine": delivered}),  # six weeks ago
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f"Lot NEW-2 of Phosphatidylcholine was received on {delivered.received_on:%Y-%m-%d}, "
        "after the session date."
    ) in page
    assert not delivered.uses.exists()


def test_the_console_column_follows_the_rule(client_for, catalogue_admin, compound):
    CompoundLotFactory(compound=compound, lot_number="SOON-1", received_on=days_from_today(3))
    page = client_for(catalogue_admin).get(
        reverse("admin:treatments_compoundlot_changelist"), {"status": "usable"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "PHOS-26" in html and "SOON-1" not in html


def test_a_lot_needs_a_received_date(compound):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    lot = CompoundLot(compound=compound, lot_number="NO-DATE", expiry_date=days_from_today(90))
    with pytest.raises(ValidationError) as refused:
        lot.full_clean()
    assert "received_on" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        lot.save()
