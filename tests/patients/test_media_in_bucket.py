"""Photos, thumbnails and consent signatures in the bucket (MEDIA_STORAGE=s3): stored
encrypted and private, nothing on the app server's disk, served by the same authorising,
logging views with the same headers as from the local folder."""

import base64
from pathlib import PurePosixPath

import pytest
from django.urls import reverse

from clinic.models import AccessLog
from patients.models import Consent, Photo
from tests.dates import datetime_input, days_from_today, local
from tests.uploads import image_bytes, upload

pytestmark = pytest.mark.django_db


def _photo_post():
    return {
        "taken_at": datetime_input(local(days_from_today(-3), 9)),
        "region": "Right thigh",
        "view": "front",
        "posture": "standing",
        "phase": "before",
        "notes": "",
        "upload": upload("p.jpg", image_bytes("JPEG", size=(40, 20)), "image/jpeg"),
    }


def _consent_post(templates):
    return {
        "template": templates["photography"].pk,
        "signed_on": days_from_today(-1).isoformat(),
        "signed_by": "Hélène Gagnon",
        "method": "drawn",
        "signature_data": "data:image/png;base64," + base64.b64encode(image_bytes()).decode(),
    }


def _served(response, name: str, content_type: str) -> bytes:
    """The body, after checking the headers every private file is served with."""
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{PurePosixPath(name).name}"'
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    return body


@pytest.mark.parametrize("media", ["local", "s3"], indirect=True)
def test_photo_and_signature_are_served_alike_from_either_storage(
    media, settings, client_for, practitioner, patient, templates
):
    client = client_for(practitioner)
    assert (
        client.post(
            reverse("patients:consent_new", args=[patient.pk]), _consent_post(templates)
        ).status_code
        == 302
    )
    assert (
        client.post(reverse("patients:photo_new", args=[patient.pk]), _photo_post()).status_code
        == 302
    )
    photo, consent = Photo.objects.get(), Consent.objects.get()

    stored = {}
    for name, url, kind in [
        (
            photo.image.name,
            reverse("patients:photo_full", args=[patient.pk, photo.pk]),
            "image/jpeg",
        ),
        (
            photo.thumbnail.name,
            reverse("patients:photo_thumbnail", args=[patient.pk, photo.pk]),
            "image/jpeg",
        ),
        (
            consent.signature.name,
            reverse("patients:consent_signature", args=[patient.pk, consent.pk]),
            "image/png",
        ),
    ]:
        stored[name] = _served(client.get(url), name, kind)
    assert AccessLog.objects.filter(action="download").count() == 3

    if media is None:  # the local folder
        for name, body in stored.items():
            assert (settings.MEDIA_ROOT / name).read_bytes() == body
        return
    # In the bucket, byte for byte, encrypted, refused to anyone without credentials...
    assert media.object_keys() == sorted(stored)
    for name, body in stored.items():
        assert media.read(name) == body
        assert media.encryption(name) == "AES256"
        assert media.anonymous_status(name) == 403
    # ...and nothing on this server's disk.
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))


def test_a_name_already_in_the_bucket_is_never_overwritten(s3_media):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    first = default_storage.save("summaries/same.pdf", ContentFile(b"%PDF first"))
    second = default_storage.save("summaries/same.pdf", ContentFile(b"%PDF second"))
    assert first == "summaries/same.pdf" and second != first
    assert s3_media.read(first) == b"%PDF first"
    assert default_storage.exists(second) and default_storage.size(second) == len(b"%PDF second")


def test_a_file_missing_from_the_bucket_is_a_404_not_a_500(
    s3_media, client_for, practitioner, patient, sign_consent
):
    sign_consent(patient)
    client = client_for(practitioner)
    client.post(reverse("patients:photo_new", args=[patient.pk]), _photo_post())
    photo = Photo.objects.get()
    s3_media.server.client().delete_object(Bucket=s3_media.name, Key=photo.image.name)
    response = client.get(reverse("patients:photo_full", args=[patient.pk, photo.pk]))
    assert response.status_code == 404
