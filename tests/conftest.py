import importlib

import pytest
import time_machine
from django.apps import apps as django_apps
from django.utils import timezone

from clinic.roles import ASSISTANT, CATALOGUE_ADMIN, PRACTITIONER, PRIVACY_OFFICER
from clinic.storage import media_storage
from operations import dbroles
from tests.factories import UserFactory
from tests.s3 import S3Server

# The shared fixtures, registered once for every test (tests/fixtures/).
pytest_plugins = ["tests.fixtures.patients", "tests.fixtures.treatments"]


SLOW_KINDS = ("e2e", "live", "soak", "bench")


def pytest_collection_modifyitems(config, items):
    """Every browser, live-server, soak and benchmark test is also `slow`, so that
    `pytest -m "not slow"` is the quick inner loop (make test runs them all). The
    benchmark runs are marked here, by their folder."""
    for item in items:
        if "tests/bench/" in item.path.as_posix():
            item.add_marker(pytest.mark.bench)
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The owner creates and migrates the test database (see django_db_setup)."""
    return dbroles.use_owner()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_modify_db_settings, django_db_blocker):
    """...and the tests run connected as the application's role, which migrate's
    post_migrate granted its privileges; the owner drops the database at the end."""
    with django_db_blocker.unblock():
        owner = dbroles.restore(django_db_modify_db_settings)
    yield
    with django_db_blocker.unblock():
        dbroles.restore(owner)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files never land in the developer's var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server, one per xdist worker, for the whole run (about a second to start)."""
    server = S3Server.start(tmp_path_factory.mktemp("s3") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def s3_media(settings, monkeypatch, s3_server, worker_id):
    """Media in an empty bucket of the S3 server for this test, as MEDIA_STORAGE=s3 sets it
    (clinic/storage.py); the bucket is returned to look into."""
    bucket = s3_server.empty_bucket(f"mesochart-media-{worker_id}")
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(bucket.env)}
    return bucket


@pytest.fixture
def media(request):
    """Parametrise a test with ("local", "s3") (indirect) to run it on both storages; name
    it first among the test's arguments, before the fixtures that store files."""
    kind = getattr(request, "param", "local")
    return request.getfixturevalue("s3_media") if kind == "s3" else None


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """Transactional tests empty every table when they end, and the reference data the
    migrations loaded (body regions, indications, categories, needle rules) goes with
    it. Put it back for them; the roles come back by themselves (post_migrate)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    importlib.import_module("treatments.migrations.0002_reference_data").load(django_apps, None)
    importlib.import_module("treatments.migrations.0015_bodyregion_label_fr").add_french_labels(
        django_apps, None
    )
    importlib.import_module("treatments.migrations.0019_indication_label_fr").add_french_labels(
        django_apps, None
    )


@pytest.fixture
def now():
    """The clock stopped at noon today (local time) for the test; the frozen instant.

    For tests about "today" and "later today": never near midnight, whatever the hour
    the suite runs. Only the hour is chosen: the date stays today's, so nothing is
    years away from the database's clock (PostgreSQL's now() is never frozen). Ask for
    it before anything signs in: sign-ins are timed with this clock."""
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=False):
        yield noon


@pytest.fixture
def practitioner(db):
    return UserFactory(username="alice", first_name="Alice", roles=[PRACTITIONER])


@pytest.fixture
def assistant(db):
    return UserFactory(username="bob", first_name="Bob", roles=[ASSISTANT])


@pytest.fixture
def catalogue_admin(db):
    return UserFactory(username="carol", first_name="Carol", roles=[CATALOGUE_ADMIN])


@pytest.fixture
def privacy_officer(db):
    return UserFactory(username="paula", first_name="Paula", roles=[PRIVACY_OFFICER])


@pytest.fixture
def outsider(db):
    """Signed in, but with no role at all."""
    return UserFactory(username="mallory", first_name="Mallory")


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client signed in as that user."""

    def sign_in(user):
        """Signed in with both steps: the password (forced) and an authenticator code, as
        catalogue administrators and superusers must."""
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        client.force_login(user)
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=True, defaults={"name": "test phone"}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return sign_in
