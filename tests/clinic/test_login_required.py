"""Every URL in the URLconf sends an anonymous visitor to sign-in, except a short list."""

import re

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver

# Pages anyone may open. Keep this list short and justified.
PUBLIC_URL_NAMES = {
    "login",  # the sign-in page itself
    "healthz",  # load balancer probe; reveals only "ok"/"error"
    "favicon",  # a redirect to the public icon among the static files
}

SAMPLE_BY_CONVERTER = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "x/y",
}


def _route_to_path(route: str) -> str:
    return re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER.get(m.group(1) or "str", "1"), route
    )


def _regex_to_path(regex: str) -> str:
    # Named groups: the first alternative if they list choices, else a sample.
    def group(match: re.Match) -> str:
        body = match.group(1)
        if "|" in body and not re.search(r"[\\\[\]+*.]", body):
            return body.split("|")[0]
        return "1"

    path = re.sub(r"\(\?P<\w+>((?:[^()]|\([^()]*\))*)\)", group, regex)
    return path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        pattern = entry.pattern
        piece = (
            _route_to_path(str(pattern))
            if hasattr(pattern, "_route")
            else _regex_to_path(pattern.regex.pattern)
        )
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + piece, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield name, "/" + prefix + piece


def _all_urls():
    return sorted(set(_walk(get_resolver().url_patterns)), key=lambda item: item[1])


ALL_URLS = _all_urls()


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
