"""Two app servers, one PostgreSQL, one bucket: what one server stored, the other shows.

Two gunicorn processes (clinic/gunicorn.conf.py) on two loopback ports, MEDIA_STORAGE=s3
on moto's S3 server, the same SECRET_KEY and the test database. A photo is uploaded and a
session signed through the first; the second serves the photo and the signed PDF byte for
byte (the PDF's SHA-256 is the database's), to the same signed-in browser (sessions are in
PostgreSQL, so no sticky sessions are needed), and neither server wrote a media file to
its own disk."""

import hashlib
import os
import secrets
import time

import pytest
from django.conf import settings

from tests.dates import datetime_input, days_from_today, local
from tests.factories import make_scanned_consent
from tests.live.browser import Browser
from tests.live.people import make_person
from tests.live.server import database_url, free_port, start_gunicorn
from tests.uploads import image_bytes

# Committed data: the servers read it from their own connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def two_servers(s3_media, tmp_path):
    """(first port, second port, the servers' MEDIA_ROOT)."""
    url = database_url()
    disk = tmp_path / "server-media"
    env = {
        **os.environ,
        **s3_media.env,
        "DATABASE_URL": url,
        "MIGRATION_DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PRODUCTION": "true",
        "REQUIRE_2FA": "true",
        # Production refuses to start without one; the suite's own.
        "TIME_ZONE": settings.TIME_ZONE,
        "MEDIA_ROOT": str(disk),
        # Small: two servers beside the suite's two workers on two cores.
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    }
    ports = [free_port(), free_port()]
    servers = []
    try:
        for n, port in enumerate(ports, 1):
            servers.append(start_gunicorn(port, tmp_path / f"gunicorn-{n}.log", env=env))
        yield ports[0], ports[1], disk
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)


def test_what_one_server_stored_the_other_serves_byte_identical(two_servers, s3_media):
    from patients.models import Photo
    from treatments.models import TreatmentSession

    started = time.perf_counter()
    first_port, second_port, disk = two_servers
    person = make_person("two-servers", prefix="Two", consent=True)
    make_scanned_consent_for(person)
    first = person.browser(first_port)

    # Through the first server: a photo, then a session saved and signed.
    chart = f"/patients/{person.patient_id}/"
    page = first.get(chart + "photos/new/")
    photo = image_bytes("JPEG", size=(48, 32))
    answer = first.upload(
        chart + "photos/new/",
        {
            "taken_at": datetime_input(local(days_from_today(-2), 9)),
            "region": "Right thigh",
            "view": "front",
            "posture": "standing",
            "phase": "before",
            "notes": "",
        },
        {"upload": ("p.jpg", "image/jpeg", photo)},
        page.csrf_token(),
    )
    assert answer.status == 302, answer.body[:2000]
    stored_photo = Photo.objects.get(patient_id=person.patient_id)
    page = first.get(chart + "sessions/new/")
    assert first.post(chart + "sessions/new/", person.form, page.csrf_token()).status == 302
    session = TreatmentSession.objects.get(patient_id=person.patient_id)
    page = first.get(f"/sessions/{session.pk}/")
    answer = first.post(f"/sessions/{session.pk}/sign/", {}, page.csrf_token())
    assert answer.status == 302
    session.refresh_from_db()
    assert session.is_signed and session.pdf

    # The second server, the same browser (its session cookie) without signing in again.
    second = Browser(second_port)
    second.cookies = dict(first.cookies)
    photo_url = f"{chart}photos/{stored_photo.pk}/full/"
    pdf_url = f"/sessions/{session.pk}/pdf/"
    from_first = first.get(photo_url)
    from_second = second.get(photo_url)
    assert from_second.status == 200, from_second.body[:500]
    assert from_second.content == from_first.content == s3_media.read(stored_photo.image.name)
    assert from_second.headers["content-type"] == "image/jpeg"
    assert from_second.headers["cache-control"] == "private, no-store"

    pdf_first, pdf_second = first.get(pdf_url), second.get(pdf_url)
    assert pdf_second.status == 200 and pdf_second.content.startswith(b"%PDF")
    assert pdf_second.content == pdf_first.content
    assert hashlib.sha256(pdf_second.content).hexdigest() == session.pdf_sha256
    assert pdf_second.headers["x-content-sha256"] == session.pdf_sha256

    # All of it in the bucket, none of it on either server's disk.
    assert {stored_photo.image.name, stored_photo.thumbnail.name, session.pdf.name} <= set(
        s3_media.object_keys()
    )
    assert not disk.exists() or not any(disk.rglob("*"))
    print(f"two-server check: {time.perf_counter() - started:.1f} s after the servers started")


def make_scanned_consent_for(person) -> None:
    """The photography consent the upload needs, recorded by the practitioner."""
    from django.contrib.auth import get_user_model

    from patients.models import Patient

    user = get_user_model().objects.get(username=person.username)
    make_scanned_consent(Patient.objects.get(pk=person.patient_id), user)
