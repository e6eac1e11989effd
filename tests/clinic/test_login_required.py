"""Every URL in the URLconf sends an anonymous visitor to sign-in, except a short list."""

import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from tests.urlconf import ALL_URLS

# Pages anyone may open. Keep this list short and justified.
PUBLIC_URL_NAMES = {
    "login",  # the sign-in page itself
    "healthz",  # load balancer probe; reveals only "ok"/"error"
    "favicon",  # a redirect to the public icon among the static files
}


def test_sweep_covers_the_urlconf():
    paths = [path for _name, path in ALL_URLS]
    # The admin alone contributes dozens; a broken walker would find a handful.
    assert len(paths) > 30
    assert "/" in paths
    assert "/admin/" in paths


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "path"),
    [pytest.param(name, path, id=path) for name, path in ALL_URLS if name not in PUBLIC_URL_NAMES],
)
def test_anonymous_is_sent_to_sign_in(client, name, path):
    response = client.get(path)
    login = resolve_url(settings.LOGIN_URL)
    if response.status_code == 302 and response.url.startswith("/admin/login/"):
        # The console's own login page forwards to the clinic's sign-in.
        response = client.get(response.url)
    assert response.status_code == 302, f"{path} ({name}) answered {response.status_code}"
    assert response.url.startswith(login + "?next="), f"{path} ({name}) went to {response.url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC_URL_NAMES))
def test_public_pages_open_without_sign_in(client, name):
    response = client.get(resolve_url(name))
    if response.status_code == 302:  # only ever to a static file, never to a page
        assert response.url.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        )
    else:
        assert response.status_code == 200
