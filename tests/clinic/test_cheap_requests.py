"""Cheap requests: a page that shows no patient writes nothing, a signed-in page reads
the user's permissions in one query, templates are compiled once (issue 12)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.roles import ASSISTANT
from tests.factories import TEST_PASSWORD, CompoundLotFactory, UserFactory

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(captured) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(WRITES)
        or any(f"; {verb}" in query["sql"].upper() for verb in WRITES)
    ]


def _sign_in(client, username="alice"):
    response = client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


@pytest.mark.parametrize("url", [reverse("treatments:lots"), reverse("home")])
def test_a_page_without_patient_data_writes_nothing(client_for, practitioner, url):
    """Not the session row (the idle time-out), not an access-log row, nothing."""
    CompoundLotFactory()
    client = client_for(practitioner)
    expiry = _expiry(client)
    sessions = Session.objects.count()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert _writes(captured) == []
    assert _expiry(client) == expiry
    assert Session.objects.count() == sessions


def test_the_lot_search_runs_five_queries(client_for, practitioner):
    CompoundLotFactory.create_batch(3)
    client = client_for(practitioner)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("treatments:lots")).status_code == 200
    tables = [query["sql"] for query in captured.captured_queries]
    # 1 the session row, 2 the user, 3 the verified second-factor device (django-otp
    # checks it still exists), 4 the user's permissions (own and roles', one UNION),
    # 5 the lots (with their compounds).
    assert len(tables) == 5, "\n".join(tables)
    assert '"django_session"' in tables[0]
    assert '"auth_user"' in tables[1]
    assert '"otp_totp_totpdevice"' in tables[2]
    assert '"auth_permission"' in tables[3] and "UNION" in tables[3]
    assert '"treatments_compoundlot"' in tables[4]


def test_the_session_row_is_renewed_at_most_once_a_minute(client, practitioner):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client)
        signed_in = _expiry(client)
        clock.shift(timedelta(seconds=50))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        assert _writes(captured) == []
        assert _expiry(client) == signed_in
        clock.shift(timedelta(seconds=20))  # 70 s since the row was written
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        assert len(_writes(captured)) == 1 and '"django_session"' in _writes(captured)[0]
        assert _expiry(client) == signed_in + timedelta(seconds=70)


def test_the_idle_sign_out_never_comes_early(client, practitioner):
    """The last request did not renew the row (renewed less than a minute before): the
    sign-in still lasts IDLE_TIMEOUT_MINUTES from that request, and ends within a minute
    after."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client)
        clock.shift(timedelta(seconds=50))
        assert client.get(reverse("home")).status_code == 200  # not written
        clock.shift(timedelta(minutes=29, seconds=59))
        assert client.get(reverse("home")).status_code == 200
        clock.shift(timedelta(minutes=31))
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_session_change_is_still_saved_at_once(client, practitioner):
    """Within the minute, a request that changes the session (here a message) saves it."""
    with time_machine.travel(timezone.now(), tick=False):
        _sign_in(client)
        with CaptureQueriesContext(connection) as captured:
            client.post(reverse("logout"))
    assert any('"django_session"' in sql for sql in _writes(captured))
    assert client.get(reverse("home")).status_code == 302


def _permission_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return sum('"auth_permission"' in q["sql"] for q in captured.captured_queries)


def test_permissions_are_read_once_per_request(client_for, practitioner):
    """The dashboard checks half a dozen permissions (view, navigation, sections)."""
    assert _permission_queries(client_for(practitioner), reverse("home")) == 1
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    # A superuser's checks need no permission (User.has_perm answers them), unless a
    # template asks for the whole list.
    assert _permission_queries(client_for(superuser), reverse("home")) <= 1


def test_own_and_role_permissions_both_count(db):
    user = UserFactory(username="dora", roles=[ASSISTANT])
    user.user_permissions.add(Permission.objects.get(codename="view_audit"))
    assert user.has_perm("clinic.view_audit")  # her own
    assert user.has_perm("clinic.view_demographics")  # her role's
    assert not user.has_perm("clinic.record_injections")
    user.is_active = False
    assert not user.has_perm("clinic.view_demographics")


def test_templates_are_compiled_once():
    """Django's cached loader wraps the others (the default when no loaders are set)."""
    loaders = engines["django"].engine.template_loaders
    assert [type(loader).__module__ for loader in loaders] == ["django.template.loaders.cached"]
