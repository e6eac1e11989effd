"""Every clinical page: practitioners in, everyone else 403 (never the page, never a 500)."""

import pytest
from django.urls import reverse

from tests.factories import make_session

pytestmark = pytest.mark.django_db

# (url name, which object's pk it takes, extra query string)
CLINICAL_PAGES = [
    ("patients:consent_new", "patient", ""),
    ("patients:photo_new", "patient", ""),
    ("patients:measurement_new", "patient", ""),
    ("treatments:map_new", "patient", ""),
    ("treatments:map", "map", ""),
    ("treatments:map_plan", "map", ""),
    ("treatments:session_new", "patient", ""),
    ("treatments:session", "session", ""),
    ("treatments:session_edit", "session", ""),
    ("treatments:session_sign", "session", ""),
    ("treatments:session_print", "session", ""),
    ("treatments:session_pdf", "session", ""),
    ("treatments:side_effect_new", "session", ""),
    ("treatments:booklet", "patient", ""),
    ("treatments:lots", None, "?q=PHOS"),
    ("treatments:lot_recall", "lot", ""),
]


@pytest.fixture
def objects(practitioner, planned_map, lots):
    return {
        "patient": planned_map.patient,
        "map": planned_map,
        "session": make_session(planned_map, lots=lots, practitioner=practitioner),
        "lot": lots["Phosphatidylcholine"],
    }


def _url(name, kind, query, objects):
    args = [objects[kind].pk] if kind else []
    return reverse(name, args=args) + query


@pytest.mark.parametrize(("name", "kind", "query"), CLINICAL_PAGES)
def test_practitioner_opens_every_clinical_page(
    client_for, practitioner, objects, name, kind, query
):
    client = client_for(practitioner)
    response = client.get(_url(name, kind, query, objects))
    assert response.status_code in (200, 302), name


@pytest.mark.parametrize("user_fixture", ["assistant", "catalogue_admin", "outsider"])
@pytest.mark.parametrize(("name", "kind", "query"), CLINICAL_PAGES)
def test_other_roles_are_refused(request, client_for, objects, user_fixture, name, kind, query):
    client = client_for(request.getfixturevalue(user_fixture))
    assert client.get(_url(name, kind, query, objects)).status_code == 403, name
