"""The session form at the table: every problem in one save, the mixture's lots and
formulary verdict shown before saving (the fragment the form's script swaps in)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import CompoundLotFactory
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


# The bulk controls without JavaScript: a round trip that fills the rows and saves nothing.


def _new_session_url(planned_map):
    return reverse("treatments:session_new", args=[planned_map.patient_id])


def test_the_rows_take_their_points_from_the_plan(client_for, practitioner, planned_map, lots):
    planned_map.zones.update(planned_points=35)
    page = client_for(practitioner).get(_new_session_url(planned_map))
    assert [form["points"].value() for form in page.context["formset"].forms] == [35, 35]


def test_apply_to_the_ticked_zones_fills_points_and_lot_and_saves_nothing(
    client_for, practitioner, planned_map, lots
):
    second = CompoundLotFactory(compound=lots["Phosphatidylcholine"].compound, lot_number="PHOS-27")
    lot_field = f"lot_{second.compound_id}"
    data = session_post(planned_map, lots, notes="kept", rows={1: {"points": "12"}})
    zones = [data["form-0-map_zone"], data["form-1-map_zone"]]
    data.update(
        {
            "apply": "ticked",
            "apply-zones": [zones[0]],
            "apply-points": "25",
            f"apply-{lot_field}": second.pk,
        }
    )
    response = _post(client_for(practitioner), planned_map, data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert not formset.is_bound and response.context["problems"] == []
    first, other = formset.forms
    assert (first["points"].value(), first[lot_field].value()) == ("25", str(second.pk))
    # The zone not ticked keeps what was typed; the session's fields are shown again.
    assert (other["points"].value(), other[lot_field].value()) == (
        "12",
        str(lots["Phosphatidylcholine"].pk),
    )
    assert response.context["form"]["notes"].value() == "kept"
    assert [f.apply_box.data["selected"] for f in formset.forms] == [True, False]
    # The box offers the lots usable on the session's date, and only those.
    offered = dict(response.context["apply_form"].fields[lot_field].choices)
    assert second.pk in offered and lots["Phosphatidylcholine expired"].pk not in offered
    assert not TreatmentSession.objects.exists()


def test_apply_to_all_fills_every_row_and_the_page_saves_as_filled(
    client_for, practitioner, planned_map, lots
):
    client = client_for(practitioner)
    data = session_post(planned_map, lots, **{"apply": "all", "apply-points": "18"})
    filled = _post(client, planned_map, data).context["formset"]
    assert [form["points"].value() for form in filled.forms] == ["18", "18"]
    again = {**data, "apply": ""}
    for i, form in enumerate(filled.forms):
        again[f"form-{i}-points"] = form["points"].value()
    assert _post(client, planned_map, again).status_code == 302
    session = TreatmentSession.objects.get()
    assert set(session.injections.values_list("points", flat=True)) == {18}


def test_apply_with_no_zone_ticked_says_so(client_for, practitioner, planned_map, lots):
    data = session_post(planned_map, lots, **{"apply": "ticked", "apply-points": "18"})
    response = _post(client_for(practitioner), planned_map, data)
    assert [p.message for p in response.context["problems"]] == [
        "Tick the zones to fill, or apply to all zones."
    ]


def test_after_a_phototype_change_one_button_puts_the_default_needle_in_every_zone(
    client_for, practitioner, planned_map, lots
):
    patient = planned_map.patient
    patient.phototype = 5  # default needle 6 mm: the plan's 4 mm zones are off it
    patient.save()
    client = client_for(practitioner)
    page = client.get(_new_session_url(planned_map))
    assert page.context["needle_off"] == 2
    assert page.content.decode().count("data-needle-off") == 2
    data = session_post(planned_map, lots, apply="needle")
    response = _post(client, planned_map, data)
    rows = response.context["formset"].forms
    assert {(str(f["needle_length_mm"].value()), str(f["gauge"].value())) for f in rows} == {
        (str(page.context["needle"].length_mm), str(page.context["needle"].gauge))
    }
    assert response.context["needle_off"] == 0
    assert not TreatmentSession.objects.exists()
