import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from clinic.models import AccessLog
from patients.images import MAX_PIXELS, clean_image
from patients.models import Photo
from tests.dates import datetime_input, days_from_today, local
from tests.factories import PatientFactory
from tests.uploads import image_bytes, upload

pytestmark = pytest.mark.django_db

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def _jpeg_with_gps_rotated() -> bytes:
    """A 40×20 landscape JPEG whose EXIF says 'rotate 90°' and carries a GPS position."""
    image = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6  # display rotated 90° clockwise
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_TAG).update({1: "N", 2: (45.0, 30.0, 0.0), 3: "W", 4: (73.0, 34.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    raw = buffer.getvalue()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(GPS_TAG)  # the fixture really has GPS
    return raw


def test_gps_and_all_metadata_are_removed_and_the_photo_is_upright():
    clean = clean_image(upload("phone.jpg", _jpeg_with_gps_rotated(), "image/jpeg"))
    with Image.open(io.BytesIO(clean.content.read())) as out:
        assert out.format == "JPEG"
        assert out.size == (20, 40)  # turned upright: portrait now
        assert (clean.width, clean.height) == (20, 40)
        exif = out.getexif()
        assert len(exif) == 0
        assert "exif" not in out.info and "icc_profile" not in out.info
    assert b"PhoneMaker" not in clean.content.open().read()


def test_a_text_file_named_jpg_is_refused():
    with pytest.raises(ValidationError, match="not a readable JPEG or PNG"):
        clean_image(upload("notes.jpg", b"just some text, not an image\n" * 10, "image/jpeg"))


def test_html_appended_to_a_png_is_dropped():
    payload = b"<html><script>alert('x')</script></html>"
    clean = clean_image(upload("trick.png", image_bytes("PNG") + payload))
    data = clean.content.read()
    assert payload not in data and b"<script" not in data
    assert Image.open(io.BytesIO(data)).format == "PNG"


def test_svg_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationError, match="not a readable JPEG or PNG"):
        clean_image(upload("diagram.svg", svg, "image/svg+xml"))


def test_other_image_formats_are_refused():
    with pytest.raises(ValidationError, match="Only JPEG and PNG"):
        clean_image(upload("anim.gif", image_bytes("GIF"), "image/gif"))


def test_too_many_pixels_is_refused_before_decoding():
    # 8000×6000 = 48 MP of one colour: a tiny file that would decode to ~144 MB.
    raw = image_bytes("PNG", size=(8000, 6000), color=(0, 0, 0))
    assert len(raw) < 1_000_000
    assert MAX_PIXELS < 8000 * 6000
    with pytest.raises(ValidationError, match="megapixels"):
        clean_image(upload("bomb.png", raw))


def test_too_many_bytes_is_refused():
    with pytest.raises(ValidationError, match="limit is 1 MB"):
        clean_image(upload("big.png", image_bytes() + b"\0" * 1_100_000), max_bytes=1_048_576)


def _photo_post(region="Right thigh", view="front", phase="before", days_ago=7, hour=9):
    return {
        "taken_at": datetime_input(local(days_from_today(-days_ago), hour)),
        "region": region,
        "view": view,
        "posture": "standing",
        "phase": phase,
        "notes": "",
        "upload": upload("p.jpg", _jpeg_with_gps_rotated(), "image/jpeg"),
    }


def test_upload_needs_a_photography_consent(client_for, practitioner, patient, templates):
    client = client_for(practitioner)
    page = client.get(reverse("patients:photo_new", args=[patient.pk])).content.decode()
    assert "No photography consent is on file" in page
    response = client.post(reverse("patients:photo_new", args=[patient.pk]), _photo_post())
    assert response.status_code == 200
    assert "record a signed photography consent before uploading" in response.content.decode()
    assert not Photo.objects.exists()


@pytest.mark.parametrize("media", ["local", "s3"], indirect=True)
def test_upload_stores_under_a_server_name_and_serves_through_the_view(
    media, client_for, practitioner, patient, sign_consent
):
    sign_consent(patient)
    client = client_for(practitioner)
    response = client.post(reverse("patients:photo_new", args=[patient.pk]), _photo_post())
    assert response.status_code == 302
    photo = Photo.objects.get()
    assert photo.image.name.startswith("photos/") and "p.jpg" not in photo.image.name
    assert photo.thumbnail.name.startswith("thumbnails/")
    assert (photo.width, photo.height) == (20, 40)
    assert len(photo.sha256) == 64

    full = client.get(reverse("patients:photo_full", args=[patient.pk, photo.pk]))
    assert full.status_code == 200
    assert full["Content-Type"] == "image/jpeg"
    assert "no-store" in full["Cache-Control"]
    body = b"".join(full.streaming_content)
    assert Image.open(io.BytesIO(body)).size == (20, 40)
    log = AccessLog.objects.get(action="download")
    assert (log.user, log.patient_id, log.subject) == (practitioner, patient.pk, photo)
    client.get(reverse("patients:photo_thumbnail", args=[patient.pk, photo.pk]))
    assert AccessLog.objects.filter(action="download").count() == 2


def test_media_files_are_not_served_from_a_public_url(
    client_for, practitioner, patient, sign_consent
):
    sign_consent(patient)
    client = client_for(practitioner)
    client.post(reverse("patients:photo_new", args=[patient.pk]), _photo_post())
    photo = Photo.objects.get()
    assert client.get("/media/" + photo.image.name).status_code == 404


@pytest.fixture
def stored_photo(client_for, practitioner, patient, sign_consent):
    sign_consent(patient)
    client_for(practitioner).post(reverse("patients:photo_new", args=[patient.pk]), _photo_post())
    return Photo.objects.get()


def test_another_patients_photo_url_is_not_found(client_for, practitioner, stored_photo):
    other = PatientFactory()
    client = client_for(practitioner)
    for name in ("patients:photo_full", "patients:photo_thumbnail"):
        assert client.get(reverse(name, args=[other.pk, stored_photo.pk])).status_code == 404
    assert not AccessLog.objects.filter(action="download").exists()


@pytest.mark.parametrize("user_fixture", ["assistant", "outsider", "catalogue_admin"])
def test_users_without_clinical_access_get_403(request, client_for, stored_photo, user_fixture):
    client = client_for(request.getfixturevalue(user_fixture))
    patient = stored_photo.patient
    for name in ("patients:photo_full", "patients:photo_thumbnail"):
        assert client.get(reverse(name, args=[patient.pk, stored_photo.pk])).status_code == 403
    assert (
        client.post(reverse("patients:photo_new", args=[patient.pk]), _photo_post()).status_code
        == 403
    )


def test_refused_upload_shows_the_reason(client_for, practitioner, patient, sign_consent):
    sign_consent(patient)
    post = {**_photo_post(), "upload": upload("x.jpg", b"GIF89a not really", "image/jpeg")}
    response = client_for(practitioner).post(reverse("patients:photo_new", args=[patient.pk]), post)
    assert response.status_code == 200
    assert "not a readable JPEG or PNG image" in response.content.decode()
    assert not Photo.objects.exists()


def test_compare_defaults_to_first_before_and_latest(
    client_for, practitioner, patient, sign_consent
):
    sign_consent(patient)
    client = client_for(practitioner)
    url = reverse("patients:photo_new", args=[patient.pk])
    client.post(url, _photo_post(phase="after", days_ago=90))
    client.post(url, _photo_post(phase="before", days_ago=86))
    # Later in the day: whole days apart even across a daylight-saving change.
    client.post(url, _photo_post(phase="follow_up", days_ago=31, hour=12))
    client.post(url, _photo_post(view="back", days_ago=1))
    photos = {p.phase + p.view: p for p in Photo.objects.all()}
    response = client.get(
        reverse("patients:photo_compare", args=[patient.pk]),
        {"region": "Right thigh", "view": "front"},
    )
    assert response.status_code == 200
    assert response.context["left"] == photos["beforefront"]
    assert response.context["right"] == photos["follow_upfront"]
    assert "55 days apart" in response.content.decode()  # 86 days ago to 31 days ago
    chosen = client.get(
        reverse("patients:photo_compare", args=[patient.pk]),
        {
            "region": "Right thigh",
            "view": "front",
            "left": photos["afterfront"].pk,
            "right": photos["beforeback"].pk,
        },  # not the same view: falls back to the default
    )
    assert chosen.context["left"] == photos["afterfront"]
    assert chosen.context["right"] == photos["follow_upfront"]
