"""Two-step sign-in: enrolment at first sign-in, a code at every sign-in, recovery codes,
the lockout shared with passwords, and users changing their own password."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})


def _code(device: TOTPDevice) -> str:
    """What the authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = ["abcd2345", "efgh6789"]
    for code in codes:
        StaticToken.objects.create(device=recovery, token=code)
    return device, codes


def test_a_catalogue_administrator_is_enrolled_at_first_sign_in(client, catalogue_admin):
    _sign_in(client, "carol")
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_setup"))
    page = client.get(response.url).content.decode()
    assert "<svg" in page and 'data-testid="qr-code"' in page
    device = TOTPDevice.objects.get(user=catalogue_admin, confirmed=False)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) == 32  # 20-byte key, base32

    wrong = client.post(reverse("two_factor_setup"), {"code": "000000", "next": "/admin/"})
    assert "That code is not valid" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=catalogue_admin, confirmed=True).exists()

    # django-otp makes the next try wait a second after a wrong code.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        done = client.post(reverse("two_factor_setup"), {"code": _code(device), "next": "/admin/"})
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", done.content.decode())
    assert len(set(codes)) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("admin:index")).status_code == 200


def test_every_sign_in_asks_the_code_and_a_recovery_code_works_once(client, catalogue_admin):
    _, codes = _enrolled(catalogue_admin)
    _sign_in(client, "carol")
    response = client.get(reverse("home"))
    assert response.url == f"{reverse('two_factor_verify')}?next=%2F"
    assert client.get(reverse("patients:list")).status_code == 302  # nothing before the code

    response = client.post(reverse("two_factor_verify"), {"code": codes[0].upper(), "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get(reverse("admin:index")).status_code == 200

    client.post(reverse("logout"))
    _sign_in(client, "carol")
    again = client.post(reverse("two_factor_verify"), {"code": codes[0], "next": "/"})
    assert "That code is not valid" in again.content.decode()
    assert StaticToken.objects.filter(token=codes[0]).count() == 0


def test_a_time_based_code_signs_in_and_cannot_be_replayed(client, catalogue_admin):
    device, _ = _enrolled(catalogue_admin)
    with time_machine.travel(timezone.now(), tick=False):
        _sign_in(client, "carol")
        code = _code(device)
        assert client.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
        assert client.get(reverse("admin:index")).status_code == 200
        client.post(reverse("logout"))
        _sign_in(client, "carol")
        replay = client.post(reverse("two_factor_verify"), {"code": code})
    assert "That code is not valid" in replay.content.decode()


def test_others_need_it_only_when_required(client, practitioner, settings):
    page = client.get(reverse("login")).content.decode()
    _sign_in(client, "alice")
    assert client.get(reverse("home")).status_code == 200
    settings.REQUIRE_2FA = True
    response = client.get(reverse("home"))
    assert response.url.startswith(reverse("two_factor_setup"))
    assert "Two-step sign-in is off for other accounts" in page  # the demo says so on screen


def test_superusers_always_need_it(client):
    from tests.factories import UserFactory

    UserFactory(username="root", is_staff=True, is_superuser=True)
    _sign_in(client, "root")
    assert client.get(reverse("admin:index")).url.startswith(reverse("two_factor_setup"))


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, catalogue_admin, settings):
    _enrolled(catalogue_admin)
    _sign_in(client, "carol")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("two_factor_verify"), {"code": "123456"})
        assert response.status_code == 200
    locked = client.post(reverse("two_factor_verify"), {"code": "123456"})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session  # signed out
    # The right password is refused too until the wait is over.
    assert _sign_in(client, "carol").status_code == 429
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert _sign_in(client, "carol").status_code == 302


def test_users_change_their_own_password(client_for, practitioner, client):
    signed_in = client_for(practitioner)
    response = signed_in.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a much longer passphrase 2026",
            "new_password2": "a much longer passphrase 2026",
        },
    )
    assert response.url == reverse("password_change_done")
    signed_in.post(reverse("logout"))
    assert _sign_in(client, "alice").status_code == 200  # the old one no longer works
    response = client.post(
        reverse("login"), {"username": "alice", "password": "a much longer passphrase 2026"}
    )
    assert response.status_code == 302


def test_the_two_factor_pages_need_a_signed_in_user(client):
    for name in ("two_factor_verify", "two_factor_setup", "password_change"):
        assert client.get(reverse(name)).url.startswith(reverse("login"))


def test_each_visit_of_the_setup_page_draws_a_new_key(client, catalogue_admin):
    """Someone who knows only the password and copies the key cannot wait for the user
    to confirm that same key."""
    _sign_in(client, "carol")
    first = client.get(reverse("two_factor_setup")).content.decode()
    second = client.get(reverse("two_factor_setup")).content.decode()
    key = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')
    assert key.search(first).group(1) != key.search(second).group(1)
    assert TOTPDevice.objects.filter(user=catalogue_admin).count() == 1


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(client, catalogue_admin):
    device, _ = _enrolled(catalogue_admin)
    _sign_in(client, "carol")
    response = client.post(reverse("two_factor_setup"), {"code": "123456"})
    assert response.url.startswith(reverse("two_factor_verify"))
    assert list(TOTPDevice.objects.filter(user=catalogue_admin)) == [device]


def test_the_page_asked_for_is_kept_whole_through_the_second_step(client, catalogue_admin):
    _, codes = _enrolled(catalogue_admin)
    _sign_in(client, "carol")
    asked = f"{reverse('patients:list')}?q=gagnon&sort=name"
    response = client.get(asked)
    response = client.post(
        response.url, {"code": codes[0], "next": client.get(response.url).context["next"]}
    )
    assert response.url == asked
