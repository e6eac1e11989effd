"""The demo commands `make run` calls: ensure_demo_user, ensure_demo_catalogue."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from clinic.models import Location
from clinic.roles import PRACTITIONER
from patients.models import ConsentTemplate
from treatments import formulary
from treatments.models import Compound, Formula

pytestmark = pytest.mark.django_db


def test_demo_user_gets_a_generated_password_once(capsys):
    call_command("ensure_demo_user")
    first = capsys.readouterr().out
    password = next(
        line.split(":", 1)[1].strip() for line in first.splitlines() if "password:" in line
    )
    assert len(password) >= 12
    user = authenticate(RequestFactory().post("/"), username="demo", password=password)
    assert user is not None
    assert user.groups.filter(name=PRACTITIONER).exists()

    call_command("ensure_demo_user")
    second = capsys.readouterr().out
    assert password not in second
    assert get_user_model().objects.filter(username="demo").count() == 1


def test_demo_catalogue_fills_an_empty_catalogue_once(capsys):
    call_command("ensure_demo_catalogue")
    assert "DEMO catalogue" in capsys.readouterr().out
    location = Location.objects.get()
    formula = Formula.objects.get()
    # Usable at once: every compound is on the demo location's formulary.
    formulary.check(
        formulary.formula_compounds(formula), location.jurisdiction, acknowledged=False, note=""
    )
    assert ConsentTemplate.objects.count() == 3
    # Each wording in French beside the English, as the console requires of a new version.
    for template in ConsentTemplate.objects.all():
        assert template.title_fr.startswith("DÉMO ") and "Je consens" in template.text_fr
        assert "DEMO WORDING" in template.text and "I consent" in template.text
    assert all("DEMO" in c.name for c in Compound.objects.all())
    call_command("ensure_demo_catalogue")
    assert capsys.readouterr().out == ""
    assert Compound.objects.count() == 3
