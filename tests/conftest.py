import pytest

from clinic.roles import ASSISTANT, CATALOGUE_ADMIN, PRACTITIONER
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files never land in the developer's var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


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
def outsider(db):
    """Signed in, but with no role at all."""
    return UserFactory(username="mallory", first_name="Mallory")


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
