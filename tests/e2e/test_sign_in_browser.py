"""Sign-in, navigation and sign-out in a real Chromium."""

import pytest

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_practitioner_signs_in_and_out(live_server, page, practitioner):
    page.goto(live_server.url + "/")
    # Anonymous: sent to the sign-in page, with where to go back to.
    assert "/accounts/login/?next=/" in page.url
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")

    assert page.get_by_test_id("signed-in-user").inner_text() == "Alice " + practitioner.last_name
    nav = page.get_by_role("navigation", name="Main navigation")
    assert nav.get_by_role("link", name="Patients").is_visible()
    assert nav.get_by_role("link", name="Catalogue").is_visible()
    # Vendored Bootstrap loaded under the content security policy: styled navbar,
    # and no console errors (a CSP violation or a missing file would log one).
    background = page.eval_on_selector("nav.navbar", "el => getComputedStyle(el).backgroundColor")
    assert background != "rgba(0, 0, 0, 0)"
    assert page.console_errors == []

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url


def test_assistant_sees_no_catalogue_link(live_server, page, assistant):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    nav = page.get_by_role("navigation", name="Main navigation")
    assert nav.get_by_role("link", name="Patients").is_visible()
    assert nav.get_by_role("link", name="Catalogue").count() == 0


def test_wrong_password_message_in_the_browser(live_server, page, practitioner):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("definitely wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Please enter a correct username and password").is_visible()
