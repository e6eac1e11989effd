"""The benchmark's settings: the application's, plus the baseline page (tests/bench/urls.py).

gunicorn runs with DJANGO_SETTINGS_MODULE=tests.bench.settings during `make bench` only;
the baseline page is never a URL of the product."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
