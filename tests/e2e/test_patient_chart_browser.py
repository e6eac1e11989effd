"""A practitioner records a drawn consent and a photo in a real browser."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from patients.models import Consent, Photo
from tests.factories import ConsentTemplateFactory, PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_draw_a_consent_then_upload_a_photo(live_server, sign_in, practitioner, tmp_path):
    for kind in ("treatment", "photography", "off_label"):
        ConsentTemplateFactory(kind=kind)
    patient = PatientFactory(first_name="Hélène", last_name="Gagnon", allergies="Lidocaine")
    page = sign_in("alice")

    page.goto(f"{live_server.url}/patients/?q=helene")
    page.get_by_role("link", name="Gagnon, Hélène").click()
    assert page.get_by_test_id("alerts").inner_text().startswith("Allergies: Lidocaine")
    assert "Missing" in page.get_by_test_id("consent-photography").inner_text()

    page.get_by_test_id("consent-photography").get_by_role("link", name="record").click()
    assert page.locator("#id_signed_by").input_value() == "Hélène Gagnon"
    # Only the chosen consent's wording and the drawing pad are shown.
    expect(page.locator(".consent-wording:visible")).to_have_count(1)
    expect(page.locator("#id_scan")).to_be_hidden()
    canvas = page.locator("canvas.signature-canvas")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 30 + (step % 3) * 25)
    page.mouse.up()
    page.get_by_role("button", name="Record consent").click()
    page.wait_for_url(f"{live_server.url}/patients/{patient.pk}/")
    assert "In force" in page.get_by_test_id("consent-photography").inner_text()
    consent = Consent.objects.get()
    with Image.open(consent.signature.open("rb")) as signature:
        dark = sum(1 for pixel in signature.convert("L").get_flattened_data() if pixel < 100)
    assert dark > 50  # the strokes drawn with the mouse are in the stored image

    photo_file = tmp_path / "thigh.jpg"
    Image.new("RGB", (300, 200), (180, 140, 120)).save(photo_file, format="JPEG")
    page.get_by_role("link", name="Add a photo").click()
    page.get_by_label("Body region").fill("Right thigh")
    page.get_by_label("View").select_option("front")
    page.get_by_label("Phase").select_option("before")
    page.get_by_label("Photo (JPEG or PNG)").set_input_files(str(photo_file))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{live_server.url}/patients/{patient.pk}/")
    thumbnail = page.get_by_role("img", name="Right thigh, Front (Before treatment)")
    thumbnail.wait_for()
    # Served through the access-checked view and decoded by the browser (lazy-loaded:
    # wait for it rather than read it at once).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=thumbnail.element_handle(),
        timeout=10_000,
    )
    assert Photo.objects.count() == 1
    assert page.console_errors == []
