"""The session form at the table: every problem in one save, the mixture's lots and
formulary verdict shown before saving (the fragment the form's script swaps in)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.treatments.session_helpers import session_at, session_post
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db


def _post(client, planned_map, data):
    return client.post(reverse("treatments:session_new", args=[planned_map.patient_id]), data)


def _lots_fragment(client, catalogue, name, **params):
    query = {"prefix": "form-1", "formula": catalogue[name].pk, **params}
    return client.get(reverse("treatments:injection_lots"), query)


def test_one_save_reports_the_session_the_rows_and_the_formulary_together(
    client_for, practitioner, planned_map, lots, catalogue
):
    data = session_post(
        planned_map,
        lots,
        # A session field wrong, a row field missing, a prohibited mixture on the other row.
        next_appointment="not a date",
        rows={0: {"volume_ml": ""}, 1: {"formula": catalogue["prohibited"].pk}},
    )
    response = _post(client_for(practitioner), planned_map, data)
    assert response.status_code == 200
    problems = response.context["problems"]
    messages = [p.message for p in problems]
    assert "Enter a valid date/time." in messages
    assert "This field is required." in messages
    assert "Aminophylline is prohibited in Québec (CA-QC)." in messages
    # The lot of the prohibited mixture's other compound is asked for in the same pass.
    assert "Choose the lot of Aminophylline used." in messages
    # Each line of the summary links to the field to correct.
    anchors = {p.message: p.anchor for p in problems}
    assert anchors["Enter a valid date/time."] == "id_next_appointment"
    assert anchors["Aminophylline is prohibited in Québec (CA-QC)."] == "id_form-1-formula"
    html = response.content.decode()
    assert 'href="#id_form-0-volume_ml"' in html and 'data-testid="error-summary"' in html
    assert not TreatmentSession.objects.exists()


def test_mixtures_are_marked_in_the_dropdown(client_for, practitioner, planned_map, lots):
    page = client_for(practitioner).get(
        reverse("treatments:session_new", args=[planned_map.patient_id])
    )
    choices = page.context["formset"].forms[0].fields["formula"].choices
    labels = {label for _value, label in choices}
    assert "Lipolysis A" in labels  # permitted: no mark
    assert "Lipolysis B — restricted: acknowledgement needed" in labels
    assert "Lipolysis C — not allowed here" in labels
    assert "Lipolysis D — not allowed here" in labels  # not on the formulary


def test_lot_options_show_the_expiry_and_only_lots_usable_on_the_session_date(
    client_for, practitioner, planned_map, lots, catalogue
):
    lapsed = lots["Phosphatidylcholine expired"]
    lapsed.expiry_date = session_at().date() + timedelta(days=10)  # usable then, not later
    lapsed.save()
    client = client_for(practitioner)
    on_the_day = _lots_fragment(
        client, catalogue, "permitted", location=planned_map.location_id, date=session_at().date()
    )
    assert on_the_day.status_code == 200
    html = on_the_day.content.decode()
    assert f"PHOS-19 — exp. {lapsed.expiry_date:%Y-%m-%d}" in html
    assert f"PHOS-26 — exp. {lots['Phosphatidylcholine'].expiry_date:%Y-%m-%d}" in html
    assert 'name="form-1-lot_' in html
    a_month_later = _lots_fragment(
        client,
        catalogue,
        "permitted",
        location=planned_map.location_id,
        date=session_at(30).date(),
    )
    assert "PHOS-19" not in a_month_later.content.decode()
    assert "PHOS-26" in a_month_later.content.decode()


def test_the_fragment_explains_a_refused_or_restricted_mixture(
    client_for, practitioner, planned_map, lots, catalogue
):
    client = client_for(practitioner)
    where = {"location": planned_map.location_id, "date": session_at().date()}
    prohibited = _lots_fragment(client, catalogue, "prohibited", **where).content.decode()
    assert "Cannot be injected here" in prohibited
    assert "Aminophylline is prohibited in Québec (CA-QC)." in prohibited
    restricted = _lots_fragment(client, catalogue, "restricted", **where).content.decode()
    assert "Deoxycholate is restricted in Québec (CA-QC) (Only under 5 mL per session)." in (
        restricted
    )
    assert 'name="form-1-restricted_acknowledged"' in restricted
    assert 'type="checkbox"' in restricted  # asked for, not hidden


def test_the_fragment_keeps_a_lot_already_chosen(client_for, practitioner, planned_map, lots):
    from treatments.models import Formula

    lot = lots["Phosphatidylcholine"]
    formula = Formula.objects.get(name="Lipolysis A")
    response = client_for(practitioner).get(
        reverse("treatments:injection_lots"),
        {"prefix": "form-0", "formula": formula.pk, f"lot_{lot.compound_id}": lot.pk},
    )
    assert f'<option value="{lot.pk}" selected>' in response.content.decode()


@pytest.mark.parametrize("prefix", ["", "form-x", "other-1", 'form-1"><script>'])
def test_the_fragment_refuses_an_unknown_row(client_for, practitioner, catalogue, prefix):
    response = client_for(practitioner).get(
        reverse("treatments:injection_lots"),
        {"prefix": prefix, "formula": catalogue["permitted"].pk},
    )
    assert response.status_code == 404


def test_the_fragment_needs_the_right_to_record_injections(client_for, assistant, catalogue):
    response = client_for(assistant).get(
        reverse("treatments:injection_lots"),
        {"prefix": "form-0", "formula": catalogue["permitted"].pk},
    )
    assert response.status_code == 403
