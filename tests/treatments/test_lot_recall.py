"""A lot recall: who received the lot, how to reach them, how much of the compound, as a
page, a CSV file and a printed list, each logged for what it is."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import AccessLog, Location
from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    FormulaFactory,
    FormulaIngredientFactory,
    MapZoneFactory,
    PatientFactory,
    TreatmentMapFactory,
    make_session,
)
from tests.responses import body
from treatments.models import Compound
from treatments.views.lots import safe_cell

pytestmark = pytest.mark.django_db


@pytest.fixture
def recall(practitioner):
    """Lot PC-7 of Phosphatidylcholine (50 mg/mL in "Lipo", with 10 mg/mL of
    Deoxycholate), given to Côté in two zones of 2.5 mL (250 mg), to Bergeron in one
    zone of 1.5 mL of "Face" where it is 200 µg/mL (300 µg); Nadeau got another lot."""
    pc = CompoundFactory(name="Phosphatidylcholine")
    dc = CompoundFactory(name="Deoxycholate")
    lipo = FormulaFactory(name="Lipo", compounds=[])
    FormulaIngredientFactory(formula=lipo, compound=pc, amount_per_ml=Decimal("50"), unit="mg")
    FormulaIngredientFactory(formula=lipo, compound=dc, amount_per_ml=Decimal("10"), unit="mg")
    face = FormulaFactory(name="Face", compounds=[])
    FormulaIngredientFactory(formula=face, compound=pc, amount_per_ml=Decimal("200"), unit="mcg")
    lot = CompoundLotFactory(compound=pc, lot_number="PC-7")

    def treated(patient, zones, formula, volume, lots):
        tmap = TreatmentMapFactory(patient=patient, created_by=practitioner)
        for code in zones:
            MapZoneFactory(
                treatment_map=tmap, region_code=code, formula=formula, planned_volume_ml=volume
            )
        return make_session(tmap, lots=lots)

    cote = PatientFactory(
        last_name="Côté",
        first_name="Marie",
        phone="514-555-0101",
        email="marie@example.org",
        address="12 rue des Pins\nMontréal",
    )
    bergeron = PatientFactory(last_name="Bergeron", first_name="Luc", phone="", email="")
    nadeau = PatientFactory(last_name="Nadeau")
    sessions = {
        "cote": treated(
            cote,
            ["thigh_outer_right", "thigh_outer_left"],
            lipo,
            Decimal("2.5"),
            {"Phosphatidylcholine": lot},
        ),
        "bergeron": treated(
            bergeron, ["thigh_outer_right"], face, Decimal("1.5"), {"Phosphatidylcholine": lot}
        ),
        "nadeau": treated(nadeau, ["thigh_outer_right"], lipo, Decimal("2"), {}),
    }
    return lot, {"cote": cote, "bergeron": bergeron, "nadeau": nadeau}, sessions


def test_recall_page_lists_patients_contacts_sessions_and_the_compound_amount(
    client_for, practitioner, recall
):
    lot, patients, sessions = recall
    html = client_for(practitioner).get(reverse("treatments:lot_recall", args=[lot.pk]))
    html = html.content.decode()
    assert "2 patients, 2 sessions, 3 injections" in html
    # The amount of the compound (5 mL x 50 mg/mL), not the 5 mL of mixture; the other
    # mixture doses it in µg (1.5 mL x 200 µg/mL).
    assert "250 mg" in html and "300 µg" in html
    assert "5 mL of mixture" in html
    assert "given in all: 300 µg + 250 mg" in html
    assert "514-555-0101" in html and "marie@example.org" in html
    assert "12 rue des Pins<br>Montréal" in html
    assert "no contact details on file" in html  # Bergeron
    assert sessions["cote"].get_absolute_url() in html
    assert sessions["bergeron"].get_absolute_url() in html
    assert patients["nadeau"].last_name not in html
    assert html.index("Bergeron") < html.index("Côté")  # by name


def test_recall_pages_log_a_view_of_each_patient_shown(
    client_for, practitioner, recall, monkeypatch
):
    lot, patients, _sessions = recall
    monkeypatch.setattr("treatments.views.lots.RECALL_PAGE_SIZE", 1)
    client = client_for(practitioner)
    url = reverse("treatments:lot_recall", args=[lot.pk])
    first = client.get(url).content.decode()
    assert "Bergeron" in first and "Côté" not in first and "?page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "Côté" in second and "Bergeron" not in second and "?page=3" not in second
    rows = list(AccessLog.objects.order_by("id").values_list("action", "patient_id", "object_id"))
    assert rows == [
        ("view", patients["bergeron"].pk, str(lot.pk)),
        ("view", patients["cote"].pk, str(lot.pk)),
    ]
    assert set(AccessLog.objects.values_list("content_type", flat=True)) == {
        ContentType.objects.get_for_model(lot).pk
    }


def _queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_recall_page_queries_do_not_grow_with_patients(client_for, practitioner, recall):
    """Constant in patients and sessions (prefetched per page), and its access-log rows
    in one INSERT."""
    lot, _patients, _sessions = recall
    client = client_for(practitioner)
    url = reverse("treatments:lot_recall", args=[lot.pk])
    client.get(url)  # warm the session and the content-type cache
    before = _queries(client, url)
    for _ in range(3):
        tmap = TreatmentMapFactory(created_by=practitioner)
        MapZoneFactory(treatment_map=tmap, formula=FormulaFactory(compounds=[lot.compound]))
        make_session(tmap, lots={lot.compound.name: lot})
    after = _queries(client, url)
    assert len(after) == len(before)
    # pghistory's middleware prefixes each write with its context: look inside.
    assert len([sql for sql in after if 'INSERT INTO "clinic_accesslog"' in sql]) == 1


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).removeprefix("\ufeff"))))


def test_csv_export_lists_every_patient_and_is_logged_as_an_export(
    client_for, practitioner, recall
):
    lot, patients, sessions = recall
    response = client_for(practitioner).get(reverse("treatments:lot_recall_csv", args=[lot.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="recall-lot-PC-7.csv"'
    assert response["Cache-Control"] == "private, no-store"
    header, *lines = _csv(response)
    assert header[:3] == ["Chart number", "Last name", "First name"]
    by_name = {line[1]: dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_name) == {"Bergeron", "Côté"}
    cote = by_name["Côté"]
    assert cote["Phone"] == "514-555-0101" and cote["Email"] == "marie@example.org"
    assert cote["Address"] == "12 rue des Pins Montréal"
    assert cote["Mixture injected (mL)"] == "5"
    assert (cote["Compound"], cote["Compound received"], cote["Unit"]) == (
        "Phosphatidylcholine",
        "250",
        "mg",
    )
    assert by_name["Bergeron"]["Unit"] == "µg"
    assert cote["Session link"] == "http://testserver" + sessions["cote"].get_absolute_url()
    assert cote["Session status"] == sessions["cote"].get_status_display()
    zones = sessions["cote"].injections.filter(lots__lot=lot)
    assert cote["Zones"] == "; ".join(
        i.shown_region_label for i in zones.order_by("region__sort_order")
    )
    logged = AccessLog.objects.values_list("action", "patient_id")
    assert sorted(logged) == sorted(
        [("export", patients["cote"].pk), ("export", patients["bergeron"].pk)]
    )


def test_csv_is_written_a_chunk_of_patients_at_a_time(
    client_for, practitioner, recall, monkeypatch
):
    """One patient a chunk: every line still there, each patient logged once, before
    the lines that name them are sent."""
    from treatments.views import lots as views

    lot, patients, _sessions = recall
    monkeypatch.setattr(views, "CSV_CHUNK", 1)
    response = client_for(practitioner).get(reverse("treatments:lot_recall_csv", args=[lot.pk]))
    assert response.streaming
    parts = iter(response.streaming_content)
    next(parts), next(parts)  # the byte-order mark and the header
    assert AccessLog.objects.count() == 0
    first = next(parts).decode()
    assert AccessLog.objects.count() == 1
    logged = AccessLog.objects.get().patient_id
    assert [p for p in patients.values() if p.pk == logged][0].last_name in first
    rest = b"".join(parts).decode()
    assert AccessLog.objects.count() == 2
    assert {"Bergeron", "Côté"} <= set((first + rest).replace(",", " ").split())


def test_csv_cells_cannot_run_as_formulas(client_for, practitioner, recall):
    lot, patients, _sessions = recall
    cote = patients["cote"]
    cote.last_name = '=HYPERLINK("http://evil.example","x")'
    cote.first_name = "@SUM(1)"
    cote.phone = "+1 514 555 0101"
    cote.address = "=1+1"
    cote.save()
    # Typed by a catalogue administrator, not a patient: escaped all the same.
    Compound.objects.filter(pk=lot.compound_id).update(name="+cmd")
    for location in Location.objects.all():
        Location.objects.filter(pk=location.pk).update(name=f"@here {location.pk}")
    response = client_for(practitioner).get(reverse("treatments:lot_recall_csv", args=[lot.pk]))
    line = next(line for line in _csv(response)[1:] if "HYPERLINK" in line[1])
    assert line[1] == '\'=HYPERLINK("http://evil.example","x")'
    assert line[2] == "'@SUM(1)"
    assert line[4] == "'+1 514 555 0101"
    assert (line[6], line[9][:6], line[12]) == ("'=1+1", "'@here", "'+cmd")
    assert [safe_cell(v) for v in ["-2", "\tx", "a=b", "", None, 3]] == [
        "'-2",
        "'\tx",
        "a=b",
        "",
        "",
        "3",
    ]


def test_printable_contact_list_has_every_patient_and_is_logged_as_a_print(
    client_for, practitioner, recall, monkeypatch
):
    lot, patients, _sessions = recall
    monkeypatch.setattr("treatments.views.lots.RECALL_PAGE_SIZE", 1)  # the print is whole
    response = client_for(practitioner).get(reverse("treatments:lot_recall_print", args=[lot.pk]))
    html = response.content.decode()
    assert html.count('data-testid="recall-contact"') == 2
    assert "514-555-0101" in html and "250 mg" in html and "300 µg" in html
    assert 'href="/static/css/print.' in html and 'media="print"' in html
    assert sorted(AccessLog.objects.values_list("action", "patient_id")) == sorted(
        [("print", patients["cote"].pk), ("print", patients["bergeron"].pk)]
    )


@pytest.mark.parametrize("name", ["lot_recall", "lot_recall_csv", "lot_recall_print"])
@pytest.mark.parametrize("user_fixture", ["assistant", "catalogue_admin", "outsider"])
def test_only_clinical_readers_see_a_recall(request, client_for, recall, name, user_fixture):
    lot, _patients, _sessions = recall
    client = client_for(request.getfixturevalue(user_fixture))
    assert client.get(reverse(f"treatments:{name}", args=[lot.pk])).status_code == 403
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("name", ["lot_recall", "lot_recall_csv", "lot_recall_print"])
def test_a_recall_needs_signing_in(client, recall, name):
    lot, _patients, _sessions = recall
    response = client.get(reverse(f"treatments:{name}", args=[lot.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_empty_recall(client_for, practitioner):
    lot = CompoundLotFactory()
    html = client_for(practitioner).get(reverse("treatments:lot_recall", args=[lot.pk]))
    assert "No patient has received this lot." in html.content.decode()
    header, *lines = _csv(
        client_for(practitioner).get(reverse("treatments:lot_recall_csv", args=[lot.pk]))
    )
    assert lines == [] and header[0] == "Chart number"
