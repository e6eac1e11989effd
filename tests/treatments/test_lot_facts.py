"""LotSession, what a recall reads, is kept by the database itself: every write of an
injection's lot (the session form, the service, a factory, raw SQL) moves it, and the
application's role can neither write it nor switch its trigger off."""

from decimal import Decimal

import pgtrigger
import pytest
from django.db.models import Count, F, Sum
from django.urls import reverse

from tests.database import DENIED, refusal
from tests.factories import make_session
from tests.treatments.session_helpers import session_post
from treatments.models import InjectionLot, LotAmount, LotSession, LotTotal, TreatmentSession
from treatments.services.lots import recall_totals, recipients

pytestmark = pytest.mark.django_db


def _totals(rows: set[tuple]) -> set[tuple]:
    """Each lot's patients, sessions, injections and amount per unit, from LotSession
    rows as _rows gives them."""
    lots = {row[0] for row in rows}
    totals = set()
    for lot in lots:
        mine = [row for row in rows if row[0] == lot]
        amounts = {}
        for row in mine:
            amounts[row[3]] = amounts.get(row[3], Decimal(0)) + row[5]
        totals.add(
            (
                lot,
                len({row[2] for row in mine}),
                len({row[1] for row in mine}),
                sum(row[4] for row in mine),
                frozenset((unit, amount.normalize()) for unit, amount in amounts.items()),
            )
        )
    return totals


def _recomputed() -> tuple[set[tuple], set[tuple]]:
    """LotSession as it should be, from the injection lots themselves, and the totals."""
    rows = _rows_from_uses()
    return rows, _totals(rows)


def _stored() -> tuple[set[tuple], set[tuple]]:
    """LotSession, and the totals the database keeps (LotTotal, LotAmount)."""
    amounts = {}
    for row in LotAmount.objects.exclude(amount=0):
        amounts.setdefault(row.lot_id, set()).add((row.unit, row.amount.normalize()))
    totals = {
        (t.lot_id, t.patients, t.sessions, t.injections, frozenset(amounts.get(t.lot_id, ())))
        for t in LotTotal.objects.exclude(injections=0)
    }
    return _stored_rows(), totals


def _rows_from_uses() -> set[tuple]:
    """LotSession as it should be, from the injection lots themselves."""
    rows = (
        InjectionLot.objects.values(
            "lot_id", "injection__session_id", "injection__session__patient_id", "amount_unit"
        )
        .annotate(uses=Count("id"), amount=Sum(F("injection__volume_ml") * F("amount_per_ml")))
        .order_by()
    )
    return {
        (
            r["lot_id"],
            r["injection__session_id"],
            r["injection__session__patient_id"],
            r["amount_unit"],
            r["uses"],
            Decimal(r["amount"]).normalize(),
        )
        for r in rows
    }


def _stored_rows() -> set[tuple]:
    return {
        (r.lot_id, r.session_id, r.patient_id, r.unit, r.uses, r.amount.normalize())
        for r in LotSession.objects.all()
    }


def test_the_form_the_edit_and_the_signature_keep_the_facts(
    client_for, practitioner, planned_map, lots, draft
):
    assert _stored() == _recomputed() and _stored()[1]
    used = {row.lot_id for row in LotSession.objects.all()}
    # The draft edited, one zone's volume changed: the amounts follow.
    client = client_for(practitioner)
    post = session_post(planned_map, lots, version=draft.version, rows={0: {"volume_ml": "1.5"}})
    response = client.post(reverse("treatments:session_edit", args=[draft.pk]), post)
    assert response.status_code == 302
    assert _stored() == _recomputed()
    assert {row.lot_id for row in LotSession.objects.all()} == used
    client.post(reverse("treatments:session_sign", args=[draft.pk]))
    assert TreatmentSession.objects.get().is_signed
    assert _stored() == _recomputed()


def test_a_draft_deleted_takes_its_facts_with_it(planned_map, practitioner):
    session = make_session(planned_map, practitioner=practitioner)
    other = make_session(planned_map, practitioner=practitioner)
    assert _stored() == _recomputed()
    InjectionLot.objects.filter(injection__session=session).delete()
    assert LotSession.objects.filter(session=session).count() == 0
    assert LotSession.objects.filter(session=other).exists()
    assert _stored() == _recomputed()


def test_the_recall_reads_drafts_and_signed_sessions_alike(planned_map, practitioner):
    first = make_session(planned_map, practitioner=practitioner)
    lot = InjectionLot.objects.filter(injection__session=first).first().lot
    make_session(planned_map, practitioner=practitioner, lots={lot.compound.name: lot})
    TreatmentSession.objects.filter(pk=first.pk).update(status="signed")
    totals = recall_totals(lot)
    assert (totals.patients, totals.sessions) == (1, 2)
    assert totals.injections == InjectionLot.objects.filter(lot=lot).count()
    assert list(recipients(lot)) == [planned_map.patient]


def test_the_application_may_read_the_facts_never_write_them(planned_map, practitioner):
    session = make_session(planned_map, practitioner=practitioner)
    row = LotSession.objects.filter(session=session).first()
    assert refusal("UPDATE treatments_lotsession SET uses = 0 WHERE id = %s", row.pk) == DENIED
    assert refusal("DELETE FROM treatments_lotsession WHERE id = %s", row.pk) == DENIED
    assert (
        refusal(
            "INSERT INTO treatments_lotsession (lot_id, session_id, patient_id, unit, uses, amount)"
            " VALUES (%s, %s, %s, 'mg', 1, 1)",
            row.lot_id,
            session.pk,
            session.patient_id,
        )
        == DENIED
    )
    assert _stored() == _recomputed()


def test_the_application_cannot_switch_the_trigger_off(planned_map, practitioner):
    """pgtrigger.ignore is honoured for the owner only, even inside a function that runs
    as the owner: a lot use recorded with the trigger 'ignored' still reaches the facts."""
    with pgtrigger.ignore("treatments.InjectionLot:lot_facts"):
        session = make_session(planned_map, practitioner=practitioner)
    assert LotSession.objects.filter(session=session).exists()
    assert _stored() == _recomputed()


def test_a_patient_counts_once_in_a_lots_totals_until_their_last_use_goes(
    planned_map, practitioner
):
    first = make_session(planned_map, practitioner=practitioner)
    lot = InjectionLot.objects.filter(injection__session=first).first().lot
    second = make_session(planned_map, practitioner=practitioner, lots={lot.compound.name: lot})
    total = LotTotal.objects.get(lot=lot)
    assert (total.patients, total.sessions) == (1, 2)
    assert total.injections == InjectionLot.objects.filter(lot=lot).count()
    InjectionLot.objects.filter(injection__session=first, lot=lot).delete()
    total.refresh_from_db()
    assert (total.patients, total.sessions) == (1, 1)
    InjectionLot.objects.filter(injection__session=second, lot=lot).delete()
    total.refresh_from_db()
    assert (total.patients, total.sessions, total.injections) == (0, 0, 0)
    assert recall_totals(lot).amounts == []
    assert _stored() == _recomputed()


def test_the_application_may_not_write_the_totals(planned_map, practitioner):
    session = make_session(planned_map, practitioner=practitioner)
    lot = InjectionLot.objects.filter(injection__session=session).first().lot_id
    for table in ("treatments_lottotal", "treatments_lotamount", "treatments_lotpatient"):
        assert refusal(f"DELETE FROM {table} WHERE lot_id = %s", lot) == DENIED, table  # noqa: S608
    assert refusal("UPDATE treatments_lottotal SET patients = 0 WHERE lot_id = %s", lot) == DENIED
