"""The environment of a production server, for the tests that run `check --deploy`
(test_settings, test_requirements)."""

import os
import secrets

PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "false",
    "ALLOWED_HOSTS": "mesochart.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://mesochart.example.org",
    "HTTPS": "true",
    "BEHIND_TLS_PROXY": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "PRODUCTION": "true",
    # Not connected to by `check`: only parsed.
    "DATABASE_URL": "postgresql://mesochart_app:app-secret@db.internal:5432/mesochart",
    "MIGRATION_DATABASE_URL": "postgresql://mesochart_owner:owner-secret@db.internal:5432/mesochart",
    "REQUIRE_2FA": "true",
    "TIME_ZONE": "America/Toronto",
}


def environment_without_test_variables() -> dict[str, str]:
    """This process's environment less pytest's and Django's variables (browser tests in
    the same worker may have set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy refuses)
    and less the production ones, which the caller sets."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_")) and k not in PRODUCTION_ENV
    }
