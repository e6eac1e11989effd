from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_sign_in_then_dashboard_shows_the_user(client, practitioner):
    response = _sign_in(client, "alice", TEST_PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
    page = client.get(reverse("home")).content.decode()
    assert "Alice" in page
    assert 'action="/accounts/logout/"' in page


def test_wrong_password_shows_an_error_not_a_crash(client, practitioner):
    response = _sign_in(client, "alice", "not the password at all")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_a_post(client_for, practitioner):
    client = client_for(practitioner)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_next_parameter_cannot_send_users_off_site(client, practitioner):
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "alice", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response.url == reverse("home")


class TestLockout:
    def _fail(self, client, times):
        for _ in range(times):
            _sign_in(client, "alice", "wrong password, sorry")

    def test_five_failures_lock_the_account_with_a_clear_message(self, client, practitioner):
        self._fail(client, 5)
        response = _sign_in(client, "alice", TEST_PASSWORD)
        assert response.status_code == 429
        page = response.content.decode()
        assert "Too many failed sign-in attempts" in page
        assert "15 minutes" in page
        assert "_auth_user_id" not in client.session

    def test_four_failures_do_not_lock(self, client, practitioner):
        self._fail(client, 4)
        response = _sign_in(client, "alice", TEST_PASSWORD)
        assert response.status_code == 302

    def test_still_locked_just_before_the_cool_off_ends(self, client, practitioner):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self._fail(client, 5)
            clock.shift(timedelta(minutes=14))
            assert _sign_in(client, "alice", TEST_PASSWORD).status_code == 429

    def test_the_lock_lifts_after_the_cool_off(self, client, practitioner):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self._fail(client, 5)
            clock.shift(timedelta(minutes=15, seconds=5))
            response = _sign_in(client, "alice", TEST_PASSWORD)
        assert response.status_code == 302
        assert response.url == reverse("home")

    def test_a_locked_user_does_not_lock_a_colleague(self, client, practitioner, assistant):
        self._fail(client, 5)
        assert _sign_in(client, "bob", TEST_PASSWORD).status_code == 302

    def test_attempts_during_the_lock_do_not_lengthen_it(self, client, practitioner):
        """Typing on (wrong or right) while locked cannot keep a colleague out."""
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self._fail(client, 5)
            for _ in range(14):
                clock.shift(timedelta(minutes=1))
                assert _sign_in(client, "alice", "still wrong").status_code == 429
            clock.shift(timedelta(minutes=1, seconds=5))
            response = _sign_in(client, "alice", TEST_PASSWORD)
        assert response.status_code == 302
        assert response.url == reverse("home")


class TestAddressLock:
    """Guessing across many usernames from one address is limited too."""

    def _fail_many_usernames(self, client, times):
        for number in range(times):
            response = _sign_in(client, f"guess{number}", "wrong password")
            assert response.status_code == 200

    def test_many_usernames_from_one_address_lock_the_address(self, client, practitioner, settings):
        settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
        self._fail_many_usernames(client, 12)
        response = _sign_in(client, "alice", TEST_PASSWORD)
        assert response.status_code == 429
        assert "Too many failed sign-in attempts" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_below_the_address_limit_colleagues_still_sign_in(self, client, practitioner, settings):
        settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
        self._fail_many_usernames(client, 11)
        assert _sign_in(client, "alice", TEST_PASSWORD).status_code == 302

    def test_another_address_is_not_locked(self, client, practitioner, settings):
        settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
        self._fail_many_usernames(client, 12)
        response = client.post(
            reverse("login"),
            {"username": "alice", "password": TEST_PASSWORD},
            REMOTE_ADDR="192.0.2.44",
        )
        assert response.status_code == 302

    def test_the_address_lock_lifts_after_the_cool_off(self, client, practitioner, settings):
        settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self._fail_many_usernames(client, 12)
            clock.shift(timedelta(minutes=10))
            assert _sign_in(client, "alice", TEST_PASSWORD).status_code == 429
            clock.shift(timedelta(minutes=5, seconds=5))
            assert _sign_in(client, "alice", TEST_PASSWORD).status_code == 302

    def test_the_default_address_limit_is_well_above_one_users(self):
        from django.conf import settings

        assert settings.LOGIN_ADDRESS_FAILURE_LIMIT >= 5 * settings.AXES_FAILURE_LIMIT


class TestSessionLifetime:
    def test_idle_sign_out_after_thirty_minutes(self, client, practitioner):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            _sign_in(client, "alice", TEST_PASSWORD)
            clock.shift(timedelta(minutes=29))
            assert client.get(reverse("home")).status_code == 200
            clock.shift(timedelta(minutes=31))
            response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_activity_keeps_the_sign_in_alive(self, client, practitioner):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            _sign_in(client, "alice", TEST_PASSWORD)
            for _ in range(6):  # two hours, a request every twenty minutes
                clock.shift(timedelta(minutes=20))
                assert client.get(reverse("home")).status_code == 200

    def test_idle_timeout_is_configurable(self, client, practitioner, settings):
        settings.SESSION_COOKIE_AGE = 5 * 60
        with time_machine.travel(timezone.now(), tick=False) as clock:
            _sign_in(client, "alice", TEST_PASSWORD)
            clock.shift(timedelta(minutes=6))
            assert client.get(reverse("home")).status_code == 302

    def test_no_sign_in_lasts_more_than_twelve_hours(self, client, practitioner):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            _sign_in(client, "alice", TEST_PASSWORD)
            for _ in range(35):  # 11h40, active every twenty minutes
                clock.shift(timedelta(minutes=20))
                assert client.get(reverse("home")).status_code == 200
            clock.shift(timedelta(minutes=25))
            response = client.get(reverse("home"))
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))
            login_page = client.get(response.url).content.decode()
        assert "Your sign-in has expired" in login_page


class TestPasswordRules:
    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Sh0rt!pass", "at least 12 characters"),
            ("password1234", "too common"),
            ("271828182845904", "entirely numeric"),
            ("alice.wonderland", "too similar"),
        ],
    )
    def test_weak_passwords_are_refused(self, password, message):
        user = UserFactory.build(username="alice.wonderland", first_name="Alice")
        with pytest.raises(ValidationError) as excinfo:
            validate_password(password, user)
        assert any(message in text for text in excinfo.value.messages)

    def test_a_long_unusual_password_is_accepted(self):
        user = UserFactory.build(username="alice")
        validate_password("tangerine-otter-glacier-91", user)
