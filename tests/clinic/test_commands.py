import socket

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse

from clinic.roles import PRACTITIONER
from clinic.storage import media_storage

pytestmark = pytest.mark.django_db


def test_preflight_refuses_a_taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(CommandError, match=f"Port {port} is already in use"):
            call_command("preflight", port=port)


def test_preflight_passes_with_a_free_port_and_a_database():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    call_command("preflight", port=port)


def test_preflight_checks_the_media_bucket(s3_media, settings):
    call_command("preflight")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage({**s3_media.env, "MEDIA_S3_BUCKET": "no-such-bucket"}),
    }
    with pytest.raises(CommandError, match="The media bucket 'no-such-bucket' answered 404"):
        call_command("preflight")


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


def test_healthz_reports_the_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_demo_catalogue_fills_an_empty_catalogue_once(capsys):
    from clinic.models import Location
    from patients.models import ConsentTemplate
    from treatments import formulary
    from treatments.models import Compound, Formula

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
