"""MesoChart settings: one file, driven by environment variables.

Every variable is listed in the README. A malformed value stops start-up with
ImproperlyConfigured rather than running with a guess.
"""

import os
import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from clinic.localdb import default_cluster
from clinic.storage import S3, media_storage, media_storage_kind

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MESOCHART_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def local_secret_key() -> str:
    """A development key generated once under var/ (never committed): one server only.

    Refused in production (PRODUCTION on, or media in a bucket, which means several app
    servers) unless DEBUG is on: each server would make its own key, and a session signed
    by one would be refused by the next; and an app server keeps no file of its own.
    """
    if not DEBUG and (PRODUCTION or MEDIA_STORAGE == S3):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment in production (PRODUCTION=true or "
            "MEDIA_STORAGE=s3): the same key on every app server, at least 50 characters"
        )
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def production_problems(environ) -> list[str]:
    """What a production server (PRODUCTION=true) must not start without: each the
    variable's name and what to set. Without them a server would quietly run on the
    local PostgreSQL under var/, with one-step sign-in, or in UTC."""
    problems = []
    if not environ.get("SECRET_KEY"):
        problems.append(
            "SECRET_KEY must be set in the environment in production: the same key on "
            "every app server, at least 50 characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))")'
        )
    if not environ.get("DATABASE_URL"):
        problems.append(
            "DATABASE_URL is not set: the application's connection to the clinic's "
            "PostgreSQL, e.g. postgresql://mesochart_app:...@db.internal:5432/mesochart "
            "(without it the server would use a local database under var/)"
        )
    if not environ.get("MIGRATION_DATABASE_URL"):
        problems.append(
            "MIGRATION_DATABASE_URL is not set: the owner's connection that migrate "
            "uses, e.g. postgresql://mesochart_owner:...@db.internal:5432/mesochart "
            "(README, Database roles)"
        )
    if env_bool("DEBUG", False):
        problems.append(
            "DEBUG is on: set DEBUG=false (error pages would show code, settings and patient data)"
        )
    if not env_bool("REQUIRE_2FA", False):
        problems.append("REQUIRE_2FA is off: set REQUIRE_2FA=true (two-step sign-in for everyone)")
    if not environ.get("TIME_ZONE"):
        problems.append(
            "TIME_ZONE is not set: set the clinic's zone, e.g. TIME_ZONE=America/Toronto "
            "(the day's sessions, dates on paper and follow-up times follow it; "
            "TIME_ZONE=UTC if that is really meant)"
        )
    return problems


DEBUG = env_bool("DEBUG", False)
# Production: a server of a deployment (several, with MEDIA_STORAGE=s3), not `make run`.
PRODUCTION = env_bool("PRODUCTION", False)
if PRODUCTION and (_problems := production_problems(os.environ)):
    raise ImproperlyConfigured(
        "PRODUCTION=true, but:\n" + "\n".join(f"- {problem}" for problem in _problems)
    )
MEDIA_STORAGE = media_storage_kind(os.environ)
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "clinic.apps.ClinicConfig",
    "patients",
    "treatments",
    "reports",
    "demo",
    "operations",
]

# Django turns an exception into an error page at the middleware that raised it, and only
# the middleware listed above that one sees the page. So the security headers come first:
# a 400 from the NUL-byte check, or a 500/503 when the session store (the database) fails,
# still carries CSP, X-Frame-Options, nosniff and Referrer-Policy.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Both answer before the body is read (CSRF reads it later, in process_view) and
    # before the session touches the database, below the middleware that give their
    # refusals the security headers.
    "clinic.middleware.RefuseOversizedBodiesMiddleware",
    "clinic.middleware.RefuseNullBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language until a signed-in user's own choice is known
    # (clinic.middleware.UserLanguageMiddleware, after authentication).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.SignInLifetimeMiddleware",
    # The signed-in user's own language (kept in the session at sign-in: no query).
    "clinic.i18n.UserLanguageMiddleware",
    "clinic.middleware.PrivatePagesMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "clinic.two_factor.SecondFactorMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Axes must come last: it turns a lockout into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.capabilities",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Two roles (operations/dbroles.py). DATABASE_URL is the application's connection: a
# role that owns no table and may not change the append-only ones.
# MIGRATION_DATABASE_URL is the owner's, used only by `manage.py migrate` (and
# flush). Both unset means the project-local server (python -m operations.devdb),
# which has both roles.
if os.environ.get("DATABASE_URL"):
    _database_url = os.environ["DATABASE_URL"]
    # Without it the application's role must own the tables: one role, as before.
    _migration_database_url = os.environ.get("MIGRATION_DATABASE_URL") or _database_url
elif os.environ.get("MIGRATION_DATABASE_URL"):
    raise ImproperlyConfigured("MIGRATION_DATABASE_URL is set but DATABASE_URL is not")
else:
    _database_url = default_cluster().url
    _migration_database_url = default_cluster().owner_url


def _parse_database_url(name: str, url: str) -> dict:
    try:
        config = dj_database_url.parse(
            url, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"{name} must point at PostgreSQL (postgresql://...)")
    return config


DATABASES = {"default": _parse_database_url("DATABASE_URL", _database_url)}
# How the owner connects: swapped in for migrate and flush (operations.dbroles.as_owner).
MIGRATION_DATABASE = _parse_database_url("MIGRATION_DATABASE_URL", _migration_database_url)
if MIGRATION_DATABASE["NAME"] != DATABASES["default"]["NAME"]:
    raise ImproperlyConfigured(
        "DATABASE_URL and MIGRATION_DATABASE_URL must name the same database"
    )
# A streaming standby for the report pages (clinic/replica.py), optional: the same
# database, reached as the application's role. Never migrated, never written.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = _parse_database_url(
        "DATABASE_REPLICA_URL", os.environ["DATABASE_REPLICA_URL"]
    )
    # A replica that is down answers at once on a socket; over TCP, within 3 s.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["clinic.replica.ReplicaRouter"]
# The role migrate grants the application's privileges to.
DATABASE_APP_ROLE = DATABASES["default"]["USER"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Sign-in ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "clinic.lockout.SignInLockBackend",
    "clinic.auth_backend.OneQueryPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Idle sign-out: requests push the session expiry forward, so the session ends
# IDLE_TIMEOUT_MINUTES (to within a minute: clinic/session_store.py) after the last request.
# The row is rewritten at most once a minute, not on every request: a page that only
# reads writes nothing.
SESSION_ENGINE = "clinic.session_store"
SESSION_COOKIE_AGE = env_int("IDLE_TIMEOUT_MINUTES", 30, minimum=1) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute cap per sign-in, enforced by clinic.middleware.SignInLifetimeMiddleware.
SIGN_IN_MAX_AGE = timedelta(hours=env_int("SIGN_IN_MAX_HOURS", 12, minimum=1))

# django-axes: a temporary lock, never a permanent one, so nobody can lock a
# colleague out for good by typing wrong passwords for them.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# A clinic's workstations usually share one public address: lock the
# username on that address, not the whole address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Attempts while locked are not counted, so going on typing cannot extend the wait.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Failures from one address across all usernames (clinic/lockout.py).
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-step sign-in (clinic/two_factor.py): always for catalogue administrators and
# superusers; for everyone when REQUIRE_2FA is on (production).
REQUIRE_2FA = env_bool("REQUIRE_2FA", False)
OTP_TOTP_ISSUER = "MesoChart"
# The console may reset a lost phone, never show anyone's key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Security headers ---------------------------------------------------------
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Everything is served from our own origin: vendored CSS and JS, no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Audit --------------------------------------------------------------------
# History rows are evidence: the database refuses to update or delete them.
PGHISTORY_APPEND_ONLY = True
# Triggers on Django's own auth tables (users, user <-> group membership) would
# need migrations inside Django's package. So triggers stay out of migrations
# altogether and every registered trigger is (re)installed after each migrate.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True

# --- Internationalisation -------------------------------------------------------
# English and Canadian French. Each user's language is on their profile (the browser's
# language until they pick one); each patient's printed papers follow their preferred
# language. The catalogues live in locale/ and are compiled by `make` (compilemessages).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr-ca", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone") from None
USE_I18N = True
USE_TZ = True

# --- Static files and uploads --------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Media: "local" (MEDIA_ROOT, one server) or "s3" (a bucket shared by every app server);
# MEDIA_STORAGE and MEDIA_S3_* are read in clinic/storage.py.
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o600
# An upload over 2.5 MB, and a media file read back from the bucket over 4 MB, wait in a
# temporary file while the request lasts (deleted when it ends): the only writes an app
# server makes besides its log. FILE_UPLOAD_TEMP_DIR picks the folder (default: the
# system's, TMPDIR or /tmp).
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# Nothing shared is cached: sessions, sign-in failures and locks are rows in PostgreSQL
# (clinic.session_store, django-axes' database handler). The per-process memory cache holds only
# what each server can rebuild by itself, so app servers need no shared cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The largest image accepted (a photo, a consent scan, a drawn signature), and the largest
# request body: that image with its form. A larger body is answered 413 from its
# Content-Length before it is read (clinic.middleware.RefuseOversizedBodiesMiddleware).
IMAGE_UPLOAD_MAX_BYTES = 15 * 1024 * 1024
REQUEST_BODY_MAX_BYTES = IMAGE_UPLOAD_MAX_BYTES + 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools narrate every PDF step at INFO, pgtrigger every
    # trigger it (re)installs after migrate.
    "loggers": {
        "pgtrigger": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
