import hashlib
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from clinic.i18n import in_patient_language
from clinic.models import AccessLog
from tests.dates import days_from_today
from tests.factories import CompoundLotFactory, MapZoneFactory
from tests.treatments.session_helpers import session_post
from treatments.models import Amendment, CompoundLot, Injection, InjectionLot, TreatmentSession
from treatments.services.sessions import sign_session
from treatments.summary import draw_records

pytestmark = pytest.mark.django_db


def _pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


@pytest.mark.parametrize("media", ["local", "s3"], indirect=True)
def test_signing_stores_the_pdf_with_its_hash(media, signed, practitioner):
    assert signed.signed_by == practitioner and signed.signed_at is not None
    stored = signed.pdf.open("rb").read()
    assert stored.startswith(b"%PDF")
    assert hashlib.sha256(stored).hexdigest() == signed.pdf_sha256


@pytest.mark.parametrize("media", ["local", "s3"], indirect=True)
def test_reprint_is_byte_identical(media, client_for, practitioner, signed):
    client = client_for(practitioner)
    first = b"".join(
        client.get(reverse("treatments:session_pdf", args=[signed.pk])).streaming_content
    )
    second = b"".join(
        client.get(reverse("treatments:session_pdf", args=[signed.pk])).streaming_content
    )
    assert first == second
    assert hashlib.sha256(first).hexdigest() == signed.pdf_sha256
    assert AccessLog.objects.filter(action="download", object_id=str(signed.pk)).count() == 2


def test_the_signed_pdf_is_drawn_again_byte_for_byte(signed, practitioner, monkeypatch):
    """WeasyPrint's font configuration is kept from one PDF to the next in a thread (it
    was a third of the time of each): what the thread drew before, here other glyphs,
    changes no byte of the next PDF, which is the one a new configuration draws."""
    from treatments import summary
    from treatments.models import Amendment
    from treatments.summary import render_amended_pdf, render_pdf, with_summary_data

    stored = signed.pdf.open("rb").read()

    def again() -> bytes:
        return render_pdf(with_summary_data(TreatmentSession.objects.all()).get(pk=signed.pk))

    assert again() == stored  # this thread drew it when signing
    other = Amendment(
        session=signed, author=practitioner, reason="Œdème noté à J+2", text="Ça va — 4 µg/mL"
    )
    assert render_amended_pdf(signed, [other]) != stored
    assert again() == stored
    monkeypatch.setattr(summary, "_per_thread", threading.local())  # as in a new thread
    assert again() == stored


def test_pdf_holds_patient_lots_and_volumes(signed):
    text = _pdf_text(signed.pdf.open("rb").read())
    patient = signed.patient
    assert patient.chart_number in text
    assert patient.last_name in text
    assert "PHOS-26" in text
    assert "2.5 mL" in text and "5 mL" in text
    assert "Signed electronically by" in text
    assert len(PdfReader(signed.pdf.open("rb")).pages) == 1


def test_script_in_notes_is_escaped_everywhere(client_for, practitioner, signed):
    client = client_for(practitioner)
    payload = "<script>alert('x')</script>"
    for url in (
        reverse("treatments:session", args=[signed.pk]),
        reverse("treatments:session_print", args=[signed.pk]),
    ):
        # Typed text may carry break opportunities (<wbr>) in long unbroken runs.
        html = client.get(url).content.decode().replace("<wbr>", "")
        assert payload not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # In the PDF it is text, shown as typed, never markup.
    assert payload in _pdf_text(signed.pdf.open("rb").read())


def test_print_view_is_logged(client_for, practitioner, signed):
    response = client_for(practitioner).get(reverse("treatments:session_print", args=[signed.pk]))
    assert response.status_code == 200
    assert AccessLog.objects.filter(action="print", object_id=str(signed.pk)).exists()
    html = response.content.decode()
    assert 'class="region selected" data-region="thigh_outer_right"' in html
    assert "Burning or itching: 15–20 minutes" in html


class TestSignedIsFrozen:
    def test_no_edit_view(self, client_for, practitioner, signed):
        client = client_for(practitioner)
        response = client.get(reverse("treatments:session_edit", args=[signed.pk]))
        assert response.status_code == 302 and response.url == signed.get_absolute_url()
        page = client.get(signed.get_absolute_url()).content.decode()
        assert "Edit draft" not in page and "Sign and lock" not in page

    def test_a_direct_post_is_refused(self, client_for, practitioner, signed, planned_map, lots):
        before = signed.version
        response = client_for(practitioner).post(
            reverse("treatments:session_edit", args=[signed.pk]),
            session_post(planned_map, lots, version=signed.version, notes="changed"),
        )
        assert response.status_code == 302
        signed.refresh_from_db()
        assert signed.notes != "changed" and signed.version == before

    def test_signing_twice_is_refused(self, client_for, practitioner, signed):
        as_signed = (signed.signed_at, signed.pdf_sha256, signed.pdf.name, signed.version)
        with pytest.raises(ValidationError, match="This session is already signed."):
            sign_session(session=signed, user=practitioner, render_pdf=lambda s: b"%PDF-other")
        # The sign page does not offer it again: back to the session, nothing re-signed.
        response = client_for(practitioner).post(
            reverse("treatments:session_sign", args=[signed.pk]), {"version": signed.version}
        )
        assert response.status_code == 302 and response.url == signed.get_absolute_url()
        page = client_for(practitioner).get(response.url).content.decode()
        assert "This session is already signed." in page
        signed.refresh_from_db()
        assert (signed.signed_at, signed.pdf_sha256, signed.pdf.name, signed.version) == as_signed

    # Each change would go through without its trigger: plain SQL where Django would
    # stop it first (PROTECT, cascades), and values the columns accept. The error must
    # be the trigger's own, not any refusal.
    FROZEN_SESSION = ("P0001", "Cannot update rows from treatments_treatmentsession table")
    NOT_DELETED = ("P0001", "Cannot delete rows from treatments_treatmentsession table")
    FROZEN_ROWS = ("23001", "session is signed: record an amendment instead")

    @pytest.mark.parametrize(
        ("change", "refusal"),
        [
            (
                lambda s: TreatmentSession.objects.filter(pk=s.pk).update(notes="forged"),
                FROZEN_SESSION,
            ),
            (lambda s: Injection.objects.filter(session=s).update(volume_ml=9), FROZEN_ROWS),
            (
                lambda s: _sql("DELETE FROM treatments_injection WHERE session_id = %s", s.pk),
                FROZEN_ROWS,
            ),
            (
                lambda s: InjectionLot.objects.filter(injection__session=s).update(
                    lot=CompoundLot.objects.get(lot_number="PHOS-19")
                ),
                FROZEN_ROWS,
            ),
            (
                lambda s: _sql("DELETE FROM treatments_treatmentsession WHERE id = %s", s.pk),
                NOT_DELETED,
            ),
        ],
        ids=["session", "injection", "injection-delete", "lot", "session-delete"],
    )
    def test_the_database_refuses_every_change(self, signed, change, refusal):
        sqlstate, message = refusal
        with pytest.raises(DatabaseError, match=message) as refused, transaction.atomic():
            change(signed)
        assert refused.value.__cause__.diag.sqlstate == sqlstate
        assert TreatmentSession.objects.get(pk=signed.pk).notes == signed.notes
        assert Injection.objects.filter(session=signed, volume_ml=Decimal("2.5")).count() == 2
        assert set(
            InjectionLot.objects.filter(injection__session=signed).values_list(
                "lot__lot_number", flat=True
            )
        ) == {"PHOS-26"}

    def test_console_has_no_write_path(self, client_for, signed):
        from tests.factories import UserFactory

        admin = UserFactory(username="root", is_staff=True, is_superuser=True)
        client = client_for(admin)
        change = reverse("admin:treatments_treatmentsession_change", args=[signed.pk])
        page = client.get(change)
        assert page.status_code == 200  # readable, and the read is logged
        assert AccessLog.objects.filter(
            user=admin, action="view", object_id=str(signed.pk)
        ).exists()
        assert 'name="_save"' not in page.content.decode()
        assert client.post(change, {"notes": "forged"}).status_code == 403
        delete = reverse("admin:treatments_treatmentsession_delete", args=[signed.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        signed.refresh_from_db()
        assert signed.notes != "forged"


def _sql(statement, *params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_signing_needs_the_checklist(
    client_for, practitioner, planned_map, lots, treatment_consent
):
    client = client_for(practitioner)
    post = session_post(planned_map, lots)
    del post["check_skin_cleansed"]
    client.post(reverse("treatments:session_new", args=[planned_map.patient_id]), post)
    session = TreatmentSession.objects.get()
    response = client.post(reverse("treatments:session_sign", args=[session.pk]), follow=True)
    assert "confirm “Skin cleansed with peroxide” or give the reason" in response.content.decode()
    session.refresh_from_db()
    assert not session.is_signed
    post["check_skin_cleansed_reason"] = "Patient allergic to peroxide: chlorhexidine used"
    post["version"] = session.version
    client.post(reverse("treatments:session_edit", args=[session.pk]), post)
    client.post(reverse("treatments:session_sign", args=[session.pk]))
    session.refresh_from_db()
    assert session.is_signed
    assert "chlorhexidine" in _pdf_text(session.pdf.open("rb").read())


def test_amendment_beneath_the_original(client_for, practitioner, signed):
    client = client_for(practitioner)
    response = client.post(
        reverse("treatments:amendment_new", args=[signed.pk]),
        {"reason": "Wrong depth recorded", "text": "Depth was 3 mm on the left thigh."},
    )
    assert response.status_code == 302
    amendment = Amendment.objects.get()
    assert amendment.author == practitioner
    page = client.get(signed.get_absolute_url()).content.decode()
    assert "Wrong depth recorded" in page and "4 mm" in page  # the original stays readable
    with pytest.raises(DatabaseError), transaction.atomic():
        Amendment.objects.update(text="rewritten")
    # The stored PDF stays the signed original; the print view shows the amendment.
    assert "Wrong depth" not in _pdf_text(signed.pdf.open("rb").read())
    assert (
        "Wrong depth"
        in client.get(reverse("treatments:session_print", args=[signed.pk])).content.decode()
    )


def test_no_amendment_on_a_draft(client_for, practitioner, draft):
    client_for(practitioner).post(
        reverse("treatments:amendment_new", args=[draft.pk]), {"reason": "x", "text": "y"}
    )
    assert not Amendment.objects.exists()


@pytest.mark.parametrize("user_fixture", ["assistant", "outsider", "catalogue_admin"])
def test_only_practitioners_sign(request, client_for, draft, user_fixture):
    response = client_for(request.getfixturevalue(user_fixture)).post(
        reverse("treatments:session_sign", args=[draft.pk])
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert not draft.is_signed


def test_a_ticked_consent_item_needs_a_consent_on_file(client_for, practitioner, planned_map, lots):
    client = client_for(practitioner)
    client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),
    )
    session = TreatmentSession.objects.get()
    response = client.post(reverse("treatments:session_sign", args=[session.pk]), follow=True)
    assert "No treatment consent is in force for this session" in response.content.decode()
    session.refresh_from_db()
    assert not session.is_signed


def test_an_incomplete_amendment_keeps_the_typing(client_for, practitioner, signed):
    response = client_for(practitioner).post(
        reverse("treatments:amendment_new", args=[signed.pk]),
        {"reason": "", "text": "Depth was 3 mm on the left thigh."},
    )
    assert response.status_code == 200  # the page again, as every form shown with its errors
    html = response.content.decode()
    assert "This field is required." in html
    assert "Depth was 3 mm on the left thigh." in html
    assert not Amendment.objects.exists()


def test_catalogue_edits_after_signing_do_not_rewrite_the_record(client_for, practitioner, signed):
    from treatments.models import FormulaIngredient

    before = client_for(practitioner).get(reverse("treatments:session_print", args=[signed.pk]))
    FormulaIngredient.objects.update(amount_per_ml="999")
    new_expiry = days_from_today(3 * 365)
    CompoundLot.objects.filter(lot_number="PHOS-26").update(
        lot_number="REWRITTEN-1", expiry_date=new_expiry
    )
    after = client_for(practitioner).get(reverse("treatments:session_print", args=[signed.pk]))
    html = after.content.decode()
    assert "PHOS-26" in html and "REWRITTEN-1" not in html
    assert f"{new_expiry:%Y-%m-%d}" not in html
    assert after.context["record"] == before.context["record"]
    assert "<bdi>Phosphatidylcholine</bdi> 5 mg" in html
    # Drawn again from the rows (as for a session signed before records were stored):
    # the same record, the catalogue's edits nowhere in it.
    with in_patient_language(signed.patient):
        assert draw_records([TreatmentSession.objects.get(pk=signed.pk)]) == {
            signed.pk: before.context["record"]
        }


def test_signing_a_draft_that_changed_since_it_was_reviewed_is_refused(
    client_for, practitioner, draft, planned_map, lots
):
    client = client_for(practitioner)
    reviewed = draft.version
    client.post(
        reverse("treatments:session_edit", args=[draft.pk]),
        session_post(planned_map, lots, version=reviewed, aftercare="Changed by a colleague"),
    )
    response = client.post(
        reverse("treatments:session_sign", args=[draft.pk]), {"version": reviewed}, follow=True
    )
    assert "The draft changed after you opened it" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_signed


def test_a_missing_signed_pdf_is_a_404_not_a_crash(client_for, practitioner, signed):
    signed.pdf.storage.delete(signed.pdf.name)
    response = client_for(practitioner).get(reverse("treatments:session_pdf", args=[signed.pk]))
    assert response.status_code == 404


def test_a_compound_prohibited_since_the_draft_blocks_signing(client_for, practitioner, draft):
    from treatments.models import FormularyRule

    FormularyRule.objects.filter(compound__name="Phosphatidylcholine").update(status="prohibited")
    response = client_for(practitioner).post(
        reverse("treatments:session_sign", args=[draft.pk]), follow=True
    )
    assert "Right thigh, outer side: Phosphatidylcholine is prohibited in Québec" in (
        response.content.decode()
    )
    draft.refresh_from_db()
    assert not draft.is_signed


def test_the_sign_page_lists_what_is_missing(client_for, practitioner, planned_map, lots):
    client = client_for(practitioner)
    post = session_post(planned_map, lots)
    del post["check_single_use_needles"]
    client.post(reverse("treatments:session_new", args=[planned_map.patient_id]), post)
    session = TreatmentSession.objects.get()
    page = client.get(reverse("treatments:session_sign", args=[session.pk])).content.decode()
    assert "Single-use needles" in page
    assert "No treatment consent is in force for this session" in page
    assert 'name="version"' not in page  # no sign button until it is complete


def test_a_usual_session_prints_on_one_page(
    client_for, practitioner, planned_map, lots, catalogue, treatment_consent
):
    """Four zones of a three-compound mixture, as on an ordinary day."""
    from tests.factories import CompoundFactory, FormulaFactory, list_on_formulary

    extra = [CompoundFactory(name=name) for name in ("Caffeine", "L-carnitine")]
    for compound in extra:
        list_on_formulary(compound, planned_map.location.jurisdiction)
        lots[compound.name] = CompoundLotFactory(
            compound=compound, lot_number=f"{compound.name[:3].upper()}-1"
        )
    mixture = FormulaFactory(
        name="Three-part", compounds=[*extra, lots["Phosphatidylcholine"].compound]
    )
    planned_map.zones.update(formula=mixture)
    for code in ("abdomen_upper", "abdomen_lower"):
        MapZoneFactory(
            treatment_map=planned_map, region_code=code, formula=mixture, planned_volume_ml="2"
        )
    client = client_for(practitioner)
    post = session_post(planned_map, lots, aftercare="No sauna for 48 hours; drink water")
    assert (
        client.post(
            reverse("treatments:session_new", args=[planned_map.patient_id]), post
        ).status_code
        == 302
    )
    session = TreatmentSession.objects.get()
    client.post(reverse("treatments:session_sign", args=[session.pk]))
    session.refresh_from_db()
    assert len(PdfReader(session.pdf.open("rb")).pages) == 1
