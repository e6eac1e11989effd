"""`manage.py preflight`, which `make run` calls before serving."""

import socket

import pytest
from django.core.management import CommandError, call_command

from clinic.storage import media_storage

pytestmark = pytest.mark.django_db


def test_preflight_refuses_a_taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(CommandError, match=f"Port {port} is already in use"):
            call_command("preflight", port=port)


def test_preflight_passes_with_a_free_port_and_a_database():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    call_command("preflight", port=port)


def test_preflight_checks_the_media_bucket(s3_media, settings):
    call_command("preflight")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage({**s3_media.env, "MEDIA_S3_BUCKET": "no-such-bucket"}),
    }
    with pytest.raises(CommandError, match="The media bucket 'no-such-bucket' answered 404"):
        call_command("preflight")
