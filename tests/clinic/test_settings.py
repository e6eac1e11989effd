"""Settings come from the environment and refuse malformed values."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.settings import env_bool, env_int, env_list
from clinic.storage import media_storage
from tests.clinic.production_env import PRODUCTION_ENV, environment_without_test_variables

BASE_DIR = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A fresh process with only the variables under test (browser tests in the same
    # worker may have set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy refuses).
    clean = environment_without_test_variables()
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_check_deploy_complains_without_them():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "true"})
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on in deployment


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("IDLE_TIMEOUT_MINUTES", "half an hour", "IDLE_TIMEOUT_MINUTES must be a whole number"),
        ("SIGN_IN_MAX_HOURS", "0", "SIGN_IN_MAX_HOURS must be at least 1"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 50 characters"),
        ("TIME_ZONE", "Mars/Olympus", "is not a known time zone"),
        ("DATABASE_URL", "sqlite:///tmp/x.db", "DATABASE_URL must point at PostgreSQL"),
        ("MEDIA_STORAGE", "ftp", "MEDIA_STORAGE must be 'local' or 's3'"),
        # The key file under var/ is for `make run` only: several servers need one key.
        ("MEDIA_STORAGE", "s3", "SECRET_KEY must be set in the environment in production"),
        ("PRODUCTION", "true", "SECRET_KEY must be set in the environment in production"),
    ],
)
def test_malformed_values_stop_start_up(variable, value, message):
    result = _manage("check", env={variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECRET_KEY", None, "SECRET_KEY must be set in the environment in production"),
        ("DATABASE_URL", None, "DATABASE_URL is not set"),
        ("MIGRATION_DATABASE_URL", None, "MIGRATION_DATABASE_URL is not set"),
        ("REQUIRE_2FA", None, "REQUIRE_2FA is off: set REQUIRE_2FA=true"),
        ("REQUIRE_2FA", "false", "REQUIRE_2FA is off: set REQUIRE_2FA=true"),
        ("TIME_ZONE", None, "TIME_ZONE is not set: set the clinic's zone"),
        ("DEBUG", "true", "DEBUG is on: set DEBUG=false"),
    ],
)
@pytest.mark.parametrize("command", [["check"], ["check", "--deploy"]], ids=["start", "deploy"])
def test_a_production_server_refuses_to_start_without(variable, value, message, command):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != variable}
    if value is not None:
        env[variable] = value
    result = _manage(*command, env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: PRODUCTION=true, but:" in result.stderr
    assert message in result.stderr
    # Only what is wrong is named.
    assert result.stderr.count("\n- ") == 1, result.stderr


def test_a_production_server_names_every_problem_at_once():
    result = _manage("check", env={"PRODUCTION": "true"})
    assert result.returncode != 0
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "MIGRATION_DATABASE_URL",
        "REQUIRE_2FA",
        "TIME_ZONE",
    ):
        assert f"- {name} " in result.stderr, name


def test_an_explicit_utc_is_accepted_in_production():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "TIME_ZONE": "UTC"}
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("media", "message"),
    [
        ({}, "MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET"),
        ({"MEDIA_S3_BUCKET": "b", "MEDIA_S3_SSE": "none"}, "MEDIA_S3_SSE must be AES256"),
        ({"MEDIA_S3_BUCKET": "b", "MEDIA_S3_KMS_KEY_ID": "k"}, "needs MEDIA_S3_SSE=aws:kms"),
    ],
)
def test_a_bucket_needs_its_name_and_encryption(media, message):
    env = {"MEDIA_STORAGE": "s3", "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"], **media}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_media_in_a_bucket():
    bucket = {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "clinic-media", "PRODUCTION": "true"}
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, **bucket}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bucket_options_encrypt_and_never_overwrite():
    options = media_storage(
        {
            "MEDIA_STORAGE": "S3",
            "MEDIA_S3_BUCKET": "clinic-media",
            "MEDIA_S3_REGION": "ca-central-1",
            "MEDIA_S3_SSE": "aws:kms",
            "MEDIA_S3_KMS_KEY_ID": "alias/clinic",
        }
    )["OPTIONS"]
    assert options["bucket_name"] == "clinic-media" and options["region_name"] == "ca-central-1"
    assert options["endpoint_url"] is None  # AWS itself unless MEDIA_S3_ENDPOINT_URL is set
    assert options["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/clinic",
    }
    assert options["file_overwrite"] is False and options["default_acl"] is None
    assert media_storage({})["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_env_helpers(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    monkeypatch.setenv("COUNT", "7")
    monkeypatch.setenv("HOSTS", " a.example , b.example,")
    assert env_bool("FLAG", False) is True
    assert env_bool("UNSET_FLAG", True) is True
    assert env_int("COUNT", 1) == 7
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("COUNT", "-1")
    with pytest.raises(ImproperlyConfigured):
        env_int("COUNT", 1)


def test_unreachable_database_gives_one_line(tmp_path):
    missing = f"postgresql://postgres@/mesochart?host={tmp_path}"
    result = _manage("preflight", env={"DATABASE_URL": missing})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: Cannot reach the database 'mesochart'")
    assert "Traceback" not in result.stderr
