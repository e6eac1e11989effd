"""A 768 px tablet, portrait (issue 22, item 6): no page wider than the screen, the
navigation without a word broken, the session form's errors in line."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from tests.factories import make_session
from tests.pdf import page_count
from treatments.models import TreatmentSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}

PAGE_WIDTH = "document.documentElement.scrollWidth"
# What sticks out past the right edge: the innermost elements, to name in a failure.
STICKING_OUT = """() => [...document.body.querySelectorAll("*")]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .filter((el) => ![...el.children].some((child) =>
    child.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} `
    + `(${Math.round(el.getBoundingClientRect().right)} px): ${el.textContent.slice(0, 40)}`)"""

# Each navigation item's text, as lines on the screen: a word broken across two lines (or
# a label wrapped) gives more than one line box.
NAV_LINES = """() => [...document.querySelectorAll(
    "nav .nav-link, nav .navbar-text, nav .navbar-brand, nav button.btn")]
  .filter((item) => item.offsetParent !== null)
  .map((item) => {
    const range = document.createRange();
    range.selectNodeContents(item);
    const tops = new Set([...range.getClientRects()].map((box) => Math.round(box.top)));
    return [item.textContent.trim(), tops.size];
  })"""


@pytest.fixture
def clinic_day(planned_map, lots, treatment_consent, practitioner):
    """A patient with full contact details, a signed session and a draft of her map."""
    patient = planned_map.patient
    Patient.objects.filter(pk=patient.pk).update(
        email="marie-eve.cote-tremblay.0042@demo.mesochart.invalid",
        address="1234, boulevard René-Lévesque Ouest, appartement 2201\nMontréal QC H3B 4W8",
    )
    signed = make_session(planned_map, lots=lots, practitioner=practitioner)
    TreatmentSession.objects.filter(pk=signed.pk).update(
        status=TreatmentSession.Status.SIGNED, signed_at=timezone.now(), signed_by=practitioner
    )
    draft = make_session(planned_map, lots=lots, practitioner=practitioner)
    return {
        "patient": patient,
        "map": planned_map,
        "signed": signed,
        "draft": draft,
        "lot": lots["Phosphatidylcholine"],
    }


def _pages(day) -> dict[str, str]:
    patient, signed, lot = day["patient"], day["signed"], day["lot"]
    return {
        "dashboard": "/",
        "patient list": "/patients/",
        "chart": f"/patients/{patient.pk}/",
        "map page": f"/maps/{day['map'].pk}/",
        "new map": f"/patients/{patient.pk}/maps/new/",
        "session form": f"/sessions/{day['draft'].pk}/edit/",
        "session page": f"/sessions/{signed.pk}/",
        "print view": f"/sessions/{signed.pk}/print/",
        "booklet": f"/patients/{patient.pk}/booklet/",
        "lot recall": f"/lots/{lot.pk}/recall/",
        "recall contacts": f"/lots/{lot.pk}/recall/print/",
    }


def _wrapped_nav_items(page) -> list:
    return [(text, lines) for text, lines in page.evaluate(NAV_LINES) if lines != 1]


@pytest.mark.parametrize("language", ["en", "fr-ca"])
def test_every_page_fits_a_portrait_tablet(live_server, sign_in, clinic_day, language):
    """Before issue 22 (this data, in English): the print view and the booklet 808 px wide,
    the lot recall 825 px, the recall contact list 1,038 px."""
    page = sign_in("alice")
    page.set_extra_http_headers({"Accept-Language": language})
    page.set_viewport_size(TABLET)
    widths, sticking_out = {}, {}
    for name, path in _pages(clinic_day).items():
        page.goto(live_server.url + path)
        widths[name] = page.evaluate(PAGE_WIDTH)
        if widths[name] > TABLET["width"]:
            sticking_out[name] = page.evaluate(STICKING_OUT)
        # The navigation, where the page has it, is folded into a menu at this width.
        if page.locator("nav .navbar-toggler").count():
            expect(page.locator("#main-nav")).to_be_hidden()
    print(f"\n768 px, {language}:", ", ".join(f"{name} {width}" for name, width in widths.items()))
    assert sticking_out == {}


def test_the_navigation_breaks_no_word(live_server, sign_in, practitioner):
    page = sign_in("alice")
    page.set_viewport_size(TABLET)
    page.goto(live_server.url + "/")
    toggler = page.get_by_role("button", name="Toggle navigation")
    expect(toggler).to_be_visible()
    toggler.click()
    expect(page.get_by_role("link", name="Lot recall")).to_be_visible()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    assert _wrapped_nav_items(page) == []
    assert page.evaluate(PAGE_WIDTH) <= TABLET["width"]
    # From 992 px the items share one bar, each on one line, in English and in French.
    for language in ("en", "fr-ca"):
        page.set_extra_http_headers({"Accept-Language": language})
        for width in (992, 1024, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(live_server.url + "/")
            expect(toggler).to_be_hidden()
            assert _wrapped_nav_items(page) == [], f"{language} at {width} px"
            assert page.evaluate(PAGE_WIDTH) <= width, f"{language} at {width} px"
    assert page.console_errors == []


def test_a_field_error_in_a_zone_row_stays_in_line(live_server, sign_in, clinic_day):
    """An empty Points field: its message goes beneath the row, whole words, and the
    row's fields stay on one line."""
    page = sign_in("alice")
    page.set_viewport_size(TABLET)
    page.goto(f"{live_server.url}/sessions/{clinic_day['draft'].pk}/edit/")
    page.locator("#id_form-0-points").fill("")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    row = page.locator("#zone-0")
    expect(row.get_by_test_id("zone-field-errors")).to_contain_text(
        "Points: This field is required."
    )
    expect(page.locator("#id_form-0-points")).to_have_class("numberinput form-control is-invalid")
    tops = {
        name: round(page.locator(f"#id_form-0-{name}").bounding_box()["y"])
        for name in ("volume_ml", "points", "depth_mm")
    }
    assert len(set(tops.values())) == 1, tops
    assert page.evaluate(PAGE_WIDTH) <= TABLET["width"]


def test_an_empty_amendment_shows_its_error_on_the_page(live_server, sign_in, clinic_day):
    page = sign_in("alice")
    page.set_viewport_size(TABLET)
    session = clinic_day["signed"]
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.get_by_label("Correction").fill("Depth was 3 mm.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Add amendment").click()
    assert answer.value.status == 200
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Reason")
    expect(page.locator("#amendment-form")).to_contain_text("This field is required.")
    expect(page.get_by_label("Correction")).to_have_value("Depth was 3 mm.")
    assert not session.amendments.exists()
    assert page.evaluate(PAGE_WIDTH) <= TABLET["width"]


# The width inside the margins of the paper: A4 (210 mm) and US Letter (8.5 in) less the
# print stylesheets' margins (15 mm a side in print.css, 12 mm in summary.css), in CSS px.
MM = 96 / 25.4
PAPER = {
    "A4": round((210 - 2 * 15) * MM),
    "Letter": round((8.5 * 25.4 - 2 * 15) * MM),
}


def test_the_paper_views_fit_a4_and_letter(live_server, sign_in, clinic_day):
    """Before: on A4 (680 px inside print.css's margins) the print view and the booklet
    were 748 px wide, the recall contact list 797 px."""
    page = sign_in("alice")
    pages = _pages(clinic_day)
    page.emulate_media(media="print")
    widths = {}
    for paper, width in PAPER.items():
        page.set_viewport_size({"width": width, "height": 1000})
        for name in ("print view", "booklet", "recall contacts", "session page", "chart"):
            page.goto(live_server.url + pages[name])
            widths[paper, name] = page.evaluate(PAGE_WIDTH)
            assert widths[paper, name] <= width, (paper, name, page.evaluate(STICKING_OUT))
    # Printed as a browser prints it, on either paper: still one page for one session.
    page.goto(live_server.url + pages["print view"])
    for paper in PAPER:
        assert page_count(page.pdf(format=paper)) == 1, paper
    print("\nprint:", widths)
