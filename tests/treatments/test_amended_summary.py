"""The summary as amended: the signed original plus its amendments, in a PDF of its own
stored with each amendment; the PDF as signed never changes."""

import hashlib

import pytest
from django.urls import reverse
from django.utils.timezone import localtime

from clinic.models import AccessLog
from tests.pdf import pdf_text
from treatments.models import Amendment

pytestmark = pytest.mark.django_db

FIRST = {"reason": "Wrong depth recorded", "text": "Depth was 3 mm on the left thigh."}
SECOND = {"reason": "Aftercare omitted", "text": "Arnica gel advised for three days."}


def _amend(client, session, post) -> Amendment:
    response = client.post(reverse("treatments:amendment_new", args=[session.pk]), post)
    assert response.status_code == 302
    return Amendment.objects.latest("id")


def _download(client, name: str, session) -> tuple[bytes, object]:
    response = client.get(reverse(name, args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    return b"".join(response.streaming_content), response


def test_the_amended_pdf_holds_the_original_and_each_amendment_marked(
    client_for, practitioner, signed
):
    client = client_for(practitioner)
    signed_before, _ = _download(client, "treatments:session_pdf", signed)
    amendment = _amend(client, signed, FIRST)

    data, response = _download(client, "treatments:session_pdf_amended", signed)
    sha = hashlib.sha256(data).hexdigest()
    assert sha == amendment.pdf_sha256 == response["X-Content-SHA256"]
    assert data == amendment.pdf.open("rb").read()
    text = pdf_text(data)
    # The original summary, whole: patient, lots, volumes, signature.
    assert signed.patient.chart_number in text and signed.patient.last_name in text
    assert "PHOS-26" in text and "2.5 mL" in text
    assert "Signed electronically by" in text
    # Marked as amended, each amendment with its author, time, reason and text.
    assert "AS AMENDED" in text
    assert "As amended — 1 amendment recorded after signing" in text
    assert f"Amendment 1 — {localtime(amendment.created_at):%Y-%m-%d %H:%M}" in text
    assert practitioner.get_full_name() in text.split("Amendment 1")[1]
    assert "Reason: Wrong depth recorded" in text
    assert FIRST["text"] in text
    assert signed.pdf_sha256 in text.replace(" ", "")  # names the PDF as signed

    # The PDF as signed is byte for byte what it was, and still has no amendment.
    signed_after, response = _download(client, "treatments:session_pdf", signed)
    assert signed_after == signed_before
    assert hashlib.sha256(signed_after).hexdigest() == signed.pdf_sha256
    assert response["X-Content-SHA256"] == signed.pdf_sha256
    assert "Wrong depth" not in pdf_text(signed_after) and "AS AMENDED" not in pdf_text(
        signed_after
    )
    downloads = AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD, object_id=str(signed.pk))
    assert downloads.count() == 3


def test_a_second_amendment_makes_a_new_pdf_with_both(client_for, practitioner, signed):
    client = client_for(practitioner)
    first = _amend(client, signed, FIRST)
    first_pdf = first.pdf.open("rb").read()
    second = _amend(client, signed, SECOND)

    data, response = _download(client, "treatments:session_pdf_amended", signed)
    assert response["X-Content-SHA256"] == second.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert second.pdf_sha256 != first.pdf_sha256 and second.pdf.name != first.pdf.name
    text = pdf_text(data)
    assert "As amended — 2 amendments recorded after signing" in text
    assert text.index(FIRST["text"]) < text.index(SECOND["text"])  # oldest first
    assert "Reason: Wrong depth recorded" in text and "Reason: Aftercare omitted" in text

    # The first amendment's PDF is as it was drawn: one amendment only.
    first.refresh_from_db()
    assert first.pdf.open("rb").read() == first_pdf
    assert hashlib.sha256(first_pdf).hexdigest() == first.pdf_sha256
    assert SECOND["text"] not in pdf_text(first_pdf)


def test_the_session_page_links_both_pdfs(client_for, practitioner, signed):
    client = client_for(practitioner)
    page = client.get(signed.get_absolute_url()).content.decode()
    assert "PDF as signed" in page and "PDF as amended" not in page
    amendment = _amend(client, signed, FIRST)
    page = client.get(signed.get_absolute_url()).content.decode()
    assert "PDF as signed" in page
    assert reverse("treatments:session_pdf_amended", args=[signed.pk]) in page
    assert f'PDF as amended <span class="font-monospace">(SHA-256 {amendment.pdf_sha256[:12]}' in (
        page
    )
    # The print view shows the amendments under the same heading.
    printed = client.get(reverse("treatments:session_print", args=[signed.pk])).content.decode()
    assert "As amended — 1 amendment recorded after signing" in printed


def test_no_amendment_no_amended_pdf(client_for, practitioner, signed):
    client = client_for(practitioner)
    before = AccessLog.objects.count()
    response = client.get(reverse("treatments:session_pdf_amended", args=[signed.pk]))
    assert response.status_code == 404
    assert AccessLog.objects.count() == before


@pytest.mark.parametrize("user_fixture", ["assistant", "catalogue_admin"])
def test_only_clinicians_download_the_amended_pdf(
    request, client_for, practitioner, signed, user_fixture
):
    _amend(client_for(practitioner), signed, FIRST)
    before = AccessLog.objects.count()
    response = client_for(request.getfixturevalue(user_fixture)).get(
        reverse("treatments:session_pdf_amended", args=[signed.pk])
    )
    assert response.status_code == 403
    assert AccessLog.objects.count() == before


def test_an_amendment_from_before_stored_summaries_says_so(client_for, practitioner, signed):
    """Amendments recorded before this release have no stored PDF (rows are never
    updated): the download says why there is none, and the page offers none."""
    Amendment.objects.create(
        session=signed, author=practitioner, reason="Old amendment", text="Recorded earlier."
    )
    client = client_for(practitioner)
    before = AccessLog.objects.count()
    response = client.get(reverse("treatments:session_pdf_amended", args=[signed.pk]))
    assert response.status_code == 404
    assert AccessLog.objects.count() == before
    page = client.get(reverse("treatments:session", args=[signed.pk])).content.decode()
    assert "PDF as amended" not in page
