import re

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from tests.dates import days_from_today
from tests.factories import CompoundFactory, CompoundLotFactory
from treatments.models import Compound, CompoundLot, FormularyRule

pytestmark = pytest.mark.django_db


def test_practitioner_reads_the_catalogue_but_cannot_change_it(client_for, practitioner, catalogue):
    client = client_for(practitioner)
    compound = Compound.objects.get(name="Phosphatidylcholine")
    assert client.get(reverse("admin:treatments_compound_changelist")).status_code == 200
    page = client.get(reverse("admin:treatments_compound_change", args=[compound.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:treatments_compound_add")).status_code == 403
    response = client.post(
        reverse("admin:treatments_compound_change", args=[compound.pk]),
        {"name": "Renamed", "category": compound.category_id, "concentration": "1", "unit": "%"},
    )
    assert response.status_code == 403
    compound.refresh_from_db()
    assert compound.name == "Phosphatidylcholine"


def test_catalogue_admin_adds_a_compound_with_a_lot(client_for, catalogue_admin, catalogue):
    client = client_for(catalogue_admin)
    category = Compound.objects.first().category
    response = client.post(
        reverse("admin:treatments_compound_add"),
        {
            "name": "Caffeine",
            "category": category.pk,
            "concentration": "250",
            "unit": "mg/mL",
            "form": "ampoule",
            "manufacturer": "Lab",
            "notes": "",
            "active": "on",
            "lots-TOTAL_FORMS": "1",
            "lots-INITIAL_FORMS": "0",
            "lots-0-lot_number": "CF-001",
            "lots-0-expiry_date": days_from_today(365).isoformat(),
            "lots-0-supplier": "Pharma Inc",
            "lots-0-received_on": days_from_today(-1).isoformat(),
            "formulary_rules-TOTAL_FORMS": "0",
            "formulary_rules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert CompoundLot.objects.get(lot_number="CF-001").compound.name == "Caffeine"


@pytest.mark.parametrize("user_fixture", ["assistant", "outsider"])
def test_others_cannot_see_the_catalogue(request, client_for, user_fixture):
    client = client_for(request.getfixturevalue(user_fixture))
    response = client.get(reverse("admin:treatments_compound_changelist"), follow=True)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url_name",
    ["admin:treatments_compound_delete", "admin:treatments_formularyrule_delete"],
)
def test_nothing_can_be_deleted_in_the_console(client_for, catalogue_admin, catalogue, url_name):
    compound = Compound.objects.get(name="Aminophylline")
    target = compound if "compound_" in url_name else FormularyRule.objects.first()
    client = client_for(catalogue_admin)
    assert client.post(reverse(url_name, args=[target.pk]), {"post": "yes"}).status_code == 403
    assert type(target).objects.filter(pk=target.pk).exists()
    changelist = client.get(reverse("admin:treatments_compound_changelist")).content.decode()
    assert "delete_selected" not in changelist


def test_a_compound_in_a_formula_cannot_be_deleted_even_in_code(catalogue):
    with pytest.raises(ProtectedError):
        Compound.objects.get(name="Phosphatidylcholine").delete()


def _lot_row(page: str, lot_number: str) -> str:
    """The changelist row (<tr>…</tr>) of one lot."""
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    return next(row for row in rows if f">{lot_number}<" in row)


def test_the_lot_list_ticks_only_lots_usable_today(client_for, catalogue_admin):
    compound = CompoundFactory()
    CompoundLotFactory(compound=compound, lot_number="OLD", expired=True)
    CompoundLotFactory(compound=compound, lot_number="NEW")
    stopped = CompoundLotFactory(compound=compound, lot_number="STOP")
    stopped.quarantine(by=catalogue_admin, reason="Supplier recall 14")
    stopped.save()
    client = client_for(catalogue_admin)
    page = client.get(reverse("admin:treatments_compoundlot_changelist")).content.decode()
    assert 'class="column-usable"' in page and "column-expired" not in page
    # The icon answers the column: a green tick only on the lot that may be used.
    assert 'alt="True"' in _lot_row(page, "NEW")
    assert 'alt="False"' in _lot_row(page, "OLD")
    assert 'alt="False"' in _lot_row(page, "STOP")
    assert "Quarantined since" in _lot_row(page, "STOP")
    assert "Supplier recall 14" in _lot_row(page, "STOP")
    by_status = {
        status: [
            lot.lot_number
            for lot in client.get(
                reverse("admin:treatments_compoundlot_changelist"), {"status": status}
            )
            .context["cl"]
            .result_list
        ]
        for status in ("usable", "expired", "quarantined")
    }
    assert by_status == {"usable": ["NEW"], "expired": ["OLD"], "quarantined": ["STOP"]}


def test_the_two_logs_have_distinct_names_in_the_console(client_for, privacy_officer):
    page = client_for(privacy_officer).get(reverse("admin:index")).content.decode()
    assert "Patient record access logs</a>" in page
    assert "Sign-in logs</a>" in page
    assert ">Access logs<" not in page
    assert reverse("admin:clinic_signinlog_changelist") in page
    listing = client_for(privacy_officer).get(reverse("admin:clinic_signinlog_changelist"))
    assert "Select sign-in log to view" in listing.content.decode()


def test_the_formulary_note_box_fits_the_compound_page(client_for, catalogue_admin, catalogue):
    compound = Compound.objects.get(name="Deoxycholate")
    page = client_for(catalogue_admin).get(
        reverse("admin:treatments_compound_change", args=[compound.pk])
    )
    html = page.content.decode()
    note = re.search(r'<textarea name="formulary_rules-0-note"[^>]*>', html).group(0)
    # Not the console's 48em-wide large text box; console.css lets it take its column.
    assert 'cols="30"' in note and 'rows="3"' in note and "vLargeTextField" not in note
    assert 'href="/static/css/console.' in html


def test_console_output_is_escaped(client_for, catalogue_admin):
    CompoundFactory(name="<script>alert(1)</script>")
    page = (
        client_for(catalogue_admin)
        .get(reverse("admin:treatments_compound_changelist"))
        .content.decode()
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_catalogue_names_read_as_people_write_them(catalogue):
    from treatments.models import FormulaIngredient

    compound = Compound.objects.get(name="Phosphatidylcholine")
    compound.concentration = "50.000"
    compound.save()
    assert str(Compound.objects.get(pk=compound.pk)) == "Phosphatidylcholine 50 mg/mL"
    ingredient = FormulaIngredient.objects.first()
    ingredient.amount_per_ml = "100"
    assert "E+" not in str(ingredient) and "100 mg/mL" in str(ingredient)
