"""Templates ask one thing about the user, `can.<name>` (clinic/context_processors.py),
and its answer is the one the page behind the button gives."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from clinic.context_processors import Capabilities

TEMPLATES = Path(settings.BASE_DIR) / "templates"
CAPABILITY = re.compile(r"\bcan\.(\w+)")
# Ways templates used to ask, before `can`: Django's perms, and booleans views passed.
OTHER_IDIOMS = re.compile(r"\bperms\.|\bcan_\w+|\bnav_\w+|\bmay_\w+")


def _our_templates():
    # The console's own templates (templates/admin/) are Django's admin's to word.
    return [p for p in TEMPLATES.rglob("*.html") if "admin" not in p.relative_to(TEMPLATES).parts]


def test_templates_ask_only_can_and_only_names_it_knows():
    used: set[str] = set()
    for path in _our_templates():
        text = path.read_text()
        assert not OTHER_IDIOMS.findall(text), path
        used |= set(CAPABILITY.findall(text))
    known = set(Capabilities.PERMISSIONS) | {"use_console"}
    assert used, "no template reads `can`: the scan looks in the wrong place"
    assert used <= known, used - known


def test_an_unknown_capability_is_an_error_not_a_hidden_button(practitioner):
    request = RequestFactory().get("/")
    request.user = practitioner
    template = engines["django"].from_string("{{ can.change_clinicl }}")
    with pytest.raises(ImproperlyConfigured, match="change_clinicl"):
        template.render({}, request)


# Each capability and a page that requires exactly its permission.
PAGES = {
    "view_demographics": lambda p: reverse("patients:list"),
    "change_demographics": lambda p: reverse("patients:create"),
    "view_clinical": lambda p: reverse("treatments:lots"),
    "change_clinical": lambda p: reverse("treatments:map_new", args=[p.pk]),
    "record_injections": lambda p: reverse("treatments:session_new", args=[p.pk]),
    "view_session_list": lambda p: reverse("treatments:session_list"),
    "view_audit": lambda p: reverse("audit"),
    "view_lots": lambda p: reverse("admin:treatments_compoundlot_changelist"),
    "use_console": lambda p: reverse("admin:index"),
}


def test_every_capability_has_its_page():
    assert set(PAGES) == set(Capabilities.PERMISSIONS) | {"use_console"}


@pytest.mark.parametrize(
    "role", ["assistant", "practitioner", "catalogue_admin", "privacy_officer", "outsider"]
)
def test_the_button_shows_where_the_page_opens(request, client_for, patient, role):
    user = request.getfixturevalue(role)
    client = client_for(user)
    can = Capabilities(user)
    for name, url in PAGES.items():
        status = client.get(url(patient), follow=True).status_code
        assert status in (200, 403), (name, status)
        assert getattr(can, name) == (status == 200), (role, name, status)
