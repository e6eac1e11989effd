"""The signed summary in the bucket (MEDIA_STORAGE=s3): the PDF whose SHA-256 the database
keeps is the object in the bucket, encrypted and private, served with the same headers."""

import hashlib

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("media", ["local", "s3"], indirect=True)
def test_the_signed_pdf_is_served_alike_from_either_storage(
    media, settings, client_for, practitioner, signed
):
    response = client_for(practitioner).get(reverse("treatments:session_pdf", args=[signed.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-SHA256"] == signed.pdf_sha256
    assert response["Content-Disposition"].startswith('inline; filename="')
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert hashlib.sha256(body).hexdigest() == signed.pdf_sha256

    if media is None:
        assert (settings.MEDIA_ROOT / signed.pdf.name).read_bytes() == body
        return
    assert signed.pdf.name in media.object_keys()
    assert hashlib.sha256(media.read(signed.pdf.name)).hexdigest() == signed.pdf_sha256
    assert media.encryption(signed.pdf.name) == "AES256"
    assert media.anonymous_status(signed.pdf.name) == 403
    # The signature of the consent the session stands on went to the bucket too.
    assert any(key.startswith("consents/") for key in media.object_keys())
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))
