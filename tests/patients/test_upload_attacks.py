"""The attacker's uploads through the pages that take them (issue 10): photos, consent
scans and drawn signatures. What the image pipeline does with each file is tested in
test_photos.py; here, what the pages keep, refuse, and when they refuse it."""

import base64
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from patients.models import Consent, Photo
from tests.dates import datetime_input, days_from_today, local
from tests.uploads import image_bytes, upload

pytestmark = pytest.mark.django_db

HTML = b"<html><script>alert('x')</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _bomb() -> bytes:
    """A small PNG whose header claims 8000 x 6000 pixels (48 MP, 144 MB decoded)."""
    return image_bytes("PNG", size=(8000, 6000), color=(0, 0, 0))


def _photo_post(file) -> dict:
    return {
        "taken_at": datetime_input(local(days_from_today(-1), 9)),
        "region": "Right thigh",
        "view": "front",
        "posture": "standing",
        "phase": "before",
        "upload": file,
    }


def _scan_post(templates, file) -> dict:
    return {
        "template": templates["treatment"].pk,
        "signed_on": days_from_today(-1).isoformat(),
        "signed_by": "Hélène Gagnon",
        "method": "scan",
        "scan": file,
    }


def _stored(field_file, folder: str) -> bytes:
    """The stored file: under a server-made name, inside its folder of MEDIA_ROOT."""
    assert re.fullmatch(rf"{folder}/[0-9a-f]{{32}}\.(jpg|png)", field_file.name), field_file.name
    path = Path(field_file.path).resolve()
    assert path.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / folder)
    return path.read_bytes()


@pytest.fixture
def consented(patient, sign_consent):
    sign_consent(patient)
    return patient


@pytest.mark.parametrize("name", ["../../x.jpg", "shell.php.jpg", "..\\..\\x.jpg", "x.jpg\x00.php"])
def test_a_photo_is_stored_under_a_server_name_whatever_its_name(
    client_for, practitioner, consented, name
):
    client = client_for(practitioner)
    response = client.post(
        reverse("patients:photo_new", args=[consented.pk]),
        _photo_post(upload(name, image_bytes("JPEG"), "image/jpeg")),
    )
    assert response.status_code == 302
    photo = Photo.objects.get()
    assert _stored(photo.image, "photos").startswith(b"\xff\xd8")
    _stored(photo.thumbnail, "thumbnails")


def test_html_appended_to_a_png_is_not_kept(client_for, practitioner, consented, templates):
    client = client_for(practitioner)
    client.post(
        reverse("patients:photo_new", args=[consented.pk]),
        _photo_post(upload("trick.png", image_bytes() + HTML)),
    )
    client.post(
        reverse("patients:consent_new", args=[consented.pk]),
        _scan_post(templates, upload("../form.png", image_bytes() + HTML)),
    )
    client.post(
        reverse("patients:consent_new", args=[consented.pk]),
        {
            **_scan_post(templates, ""),
            "method": "drawn",
            "signature_data": "data:image/png;base64,"
            + base64.b64encode(image_bytes() + HTML).decode(),
        },
    )
    stored = [_stored(Photo.objects.get().image, "photos")] + [
        _stored(c.signature, "consents")
        for c in Consent.objects.filter(template=templates["treatment"])
    ]
    assert len(stored) == 3
    assert all(b"<script" not in data and b"<html" not in data for data in stored)


@pytest.mark.parametrize(
    "data, message",
    [(SVG, "not a readable JPEG or PNG"), (_bomb(), "megapixels")],
    ids=["svg", "pixel-bomb"],
)
def test_svg_and_pixel_bombs_are_refused_on_every_upload_page(
    client_for, practitioner, consented, templates, data, message
):
    client = client_for(practitioner)
    photo = client.post(
        reverse("patients:photo_new", args=[consented.pk]),
        _photo_post(upload("x.png", data)),
    )
    scan = client.post(
        reverse("patients:consent_new", args=[consented.pk]),
        _scan_post(templates, upload("x.png", data)),
    )
    for response in (photo, scan):
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Photo.objects.exists()
    assert Consent.objects.count() == 1  # the photography consent of the fixture


def test_without_photography_consent_the_upload_is_not_decoded(
    client_for, practitioner, patient, templates
):
    """The consent is asked first: a file that is not even an image gets the consent
    message, not the image one (nothing was decoded for a photo that cannot be kept)."""
    response = client_for(practitioner).post(
        reverse("patients:photo_new", args=[patient.pk]),
        _photo_post(upload("bomb.png", _bomb())),
    )
    page = response.content.decode()
    assert "record a signed photography consent before uploading" in page
    assert "megapixels" not in page
    assert not Photo.objects.exists()


class _Unread:
    """A request body that must not be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize("url_name", ["patients:photo_new", "patients:consent_new"])
def test_an_oversized_body_is_refused_before_it_is_read(
    client_for, practitioner, consented, url_name
):
    client = client_for(practitioner)
    response = client.generic(
        "POST",
        reverse(url_name, args=[consented.pk]),
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
        **{"wsgi.input": _Unread()},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "The file is too large" in page and "200.0 MB" in page and "16 MB" in page
    assert response["Content-Security-Policy"]  # the refusal carries the security headers
    assert response["X-Frame-Options"] == "DENY"
    assert not Photo.objects.exists()


def test_a_body_within_the_limit_is_read(client_for, practitioner, consented):
    """The limit leaves room for the largest image accepted and its form."""
    assert settings.REQUEST_BODY_MAX_BYTES > settings.IMAGE_UPLOAD_MAX_BYTES
    response = client_for(practitioner).post(
        reverse("patients:photo_new", args=[consented.pk]),
        _photo_post(upload("p.png", image_bytes() + b"\0" * 2_000_000)),
    )
    assert response.status_code == 302
