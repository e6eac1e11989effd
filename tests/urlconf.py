"""Every URL of the URLconf with a sample path, for the sweeps that must cover them all
(sign-in required, access-log rows)."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

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
