"""Every error answer carries the security headers, whichever layer produced it: a view
that fails, a middleware that refuses, the session store when the database is gone."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def assert_security_headers(response):
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_a_404_carries_the_headers(client_for, practitioner):
    response = client_for(practitioner).get(reverse("patients:chart", args=[999_999]))
    assert response.status_code == 404
    assert_security_headers(response)


def test_a_403_carries_the_headers(client_for, outsider):
    response = client_for(outsider).get(reverse("patients:list"))
    assert response.status_code == 403
    assert_security_headers(response)


def test_a_400_from_a_middleware_carries_the_headers(client_for, practitioner):
    # Refused by RefuseNullBytesMiddleware, before the view and most middleware.
    response = client_for(practitioner).get(f"{reverse('patients:list')}?q=%00")
    assert response.status_code == 400
    assert_security_headers(response)


def test_a_400_for_an_unknown_host_carries_the_headers(client):
    response = client.get(reverse("login"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert_security_headers(response)


@pytest.mark.urls("tests.clinic.error_urls")
def test_a_500_from_a_failing_view_carries_the_headers_and_no_traceback():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert_security_headers(response)
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "Traceback" not in page and "a bug in a view" not in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.urls("tests.clinic.error_urls")
def test_a_bug_in_sql_is_a_500_not_an_outage():
    response = Client(raise_request_exception=False).get("/bad-sql/")
    assert response.status_code == 500
    assert_security_headers(response)
    assert "no_such_table" not in response.content.decode()


@pytest.fixture
def database_host():
    """Whatever a test does to the application's connection, it is put back afterwards."""
    from django.db import connection

    saved = connection.settings_dict["HOST"]
    yield connection.settings_dict
    connection.close()
    connection.settings_dict["HOST"] = saved


def _break_connection(settings_dict, host):
    """Point the connection at a socket folder where no PostgreSQL listens: every query
    from here on fails to connect, as when the server is down."""
    from django.db import connection

    connection.close()
    settings_dict["HOST"] = str(host)


def assert_database_unavailable_page(response):
    assert response.status_code == 503
    assert_security_headers(response)
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "The database is not answering" in page and "Traceback" not in page


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_a_503_with_the_headers(
    client_for, practitioner, database_host, tmp_path
):
    patient = PatientFactory()
    client = client_for(practitioner)
    client.raise_request_exception = False
    assert client.get(reverse("patients:chart", args=[patient.pk])).status_code == 200

    _break_connection(database_host, tmp_path)
    # The session store is read in middleware, before any view.
    assert_database_unavailable_page(client.get(reverse("patients:chart", args=[patient.pk])))
    # Signed out or not, the health check says the same to the load balancer.
    health = Client().get(reverse("healthz"))
    assert health.status_code == 503
    assert_security_headers(health)


@pytest.mark.urls("tests.clinic.error_urls")
@pytest.mark.django_db(transaction=True)
def test_a_session_that_cannot_be_saved_for_an_outage_is_a_503_not_a_400(
    client_for, practitioner, database_host
):
    # Django reports a failed session save as "the session was deleted" (400).
    client = client_for(practitioner)
    client.raise_request_exception = False
    assert_database_unavailable_page(client.get("/gone/"))


@pytest.mark.urls("tests.clinic.error_urls")
def test_a_session_deleted_meanwhile_stays_a_400_not_an_outage(client_for, practitioner):
    client = client_for(practitioner)
    client.raise_request_exception = False
    response = client.get("/signed-out-meanwhile/")
    assert response.status_code == 400
    assert_security_headers(response)
