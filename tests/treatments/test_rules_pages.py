"""The clinical rules of the core, as the pages show them: each refusal names the rule on
the page and stores nothing; each accepted entry is stored (and printed) as given.

Every date is relative to now: these tests pass whatever day they run.
"""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django import forms
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from patients.models import Consent, ConsentTemplate, Measurement, Patient, Photo
from tests.treatments.session_helpers import plan_post, session_post
from tests.uploads import image_bytes, upload
from treatments.models import (
    Compound,
    Indication,
    Injection,
    MapZone,
    SideEffect,
    TreatmentMap,
    TreatmentSession,
)

pytestmark = pytest.mark.django_db

FORM_TIME = "%Y-%m-%dT%H:%M"


# Helpers ------------------------------------------------------------------------------


def _ago(**delta):
    """Local time, to the minute, that long ago."""
    return timezone.localtime().replace(second=0, microsecond=0) - timedelta(**delta)


def _typed(moment) -> str:
    """A datetime as a datetime-local field sends it."""
    return timezone.localtime(moment).strftime(FORM_TIME)


def _session_post(treatment_map, lots, *, at=None, next_at=None, **changes):
    """session_post with both dates given (three days ago, two weeks later by default)."""
    at = at or _ago(days=3)
    next_at = next_at or at + timedelta(days=14)
    return session_post(
        treatment_map,
        lots,
        performed_at=_typed(at),
        next_appointment=_typed(next_at),
        **changes,
    )


def _zone_plans(treatment_map) -> list[tuple]:
    return list(
        MapZone.objects.filter(treatment_map=treatment_map)
        .order_by("pk")
        .values_list("needle_length_mm", "needle_override_reason", "planned_volume_ml")
    )


def _sign_consent(patient, kind, signed_on, recorded_by) -> Consent:
    """A scanned consent on the newest wording of its kind (one is made if none exists)."""
    template = ConsentTemplate.objects.filter(kind=kind).order_by("-version").first()
    if template is None:
        template = ConsentTemplate.objects.create(kind=kind, title=kind.title(), text="...")
    consent = Consent(
        patient=patient,
        template=template,
        signed_on=signed_on,
        signed_by=patient.full_name,
        method=Consent.Method.SCAN,
        recorded_by=recorded_by,
    )
    consent.signature.save("s.png", ContentFile(image_bytes()), save=False)
    consent.save()
    return consent


def _pdf_text(session: TreatmentSession) -> str:
    with session.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _block(html: str, testid: str) -> str:
    """The element marked data-testid=`testid`, up to its closing tag at the line start
    (how the alerts partial and the flagged lists are laid out)."""
    assert f'data-testid="{testid}"' in html, f"no {testid} on the page"
    return html.split(f'data-testid="{testid}"', 1)[1].split("\n</div>", 1)[0]


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _refused(response) -> list[str]:
    """Why the sign page refused to sign (it is drawn again, with the reasons)."""
    assert response.status_code == 200
    return response.context["refused"]


def _console_post(page) -> dict:
    """What a console change page sends back when saved unchanged: the object's fields
    and every inline, with their management forms."""
    data, all_forms = {}, [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update(
            {management.add_prefix(name): management[name].value() for name in management.fields}
        )
        all_forms += formset.forms
    for form in all_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            elif value is not None:
                data[field.html_name] = value
    return data


@pytest.fixture
def client(client, practitioner):
    """pytest-django's client, signed in as the practitioner (client_for signs in others)."""
    client.force_login(practitioner)
    return client


# 1. Needle vs phototype ----------------------------------------------------------------

PHOTOTYPE_VI_MESSAGE = "The default needle for phototype VI is 6 mm: give the reason for 4 mm."


def test_a_non_default_needle_needs_a_reason_in_the_session_and_is_printed(
    client, map_patient, planned_map, lots, treatment_consent
):
    map_patient.phototype = 6  # default needle 6 mm; the map's zones are planned with 4 mm
    map_patient.save()
    url = reverse("treatments:session_new", args=[map_patient.pk])

    refused = client.post(url, _session_post(planned_map, lots))
    assert refused.status_code == 200
    assert PHOTOTYPE_VI_MESSAGE in refused.content.decode()
    assert not TreatmentSession.objects.exists() and not Injection.objects.exists()

    reason = "Thin subcutaneous layer over the outer thigh"
    rows = {0: {"needle_override_reason": reason}, 1: {"needle_override_reason": reason}}
    accepted = client.post(url, _session_post(planned_map, lots, rows=rows))
    assert accepted.status_code == 302
    session = TreatmentSession.objects.get()
    assert [(i.needle_length_mm, i.needle_override_reason) for i in session.injections.all()] == [
        (Decimal("4"), reason),
        (Decimal("4"), reason),
    ]

    printed = client.get(reverse("treatments:session_print", args=[session.pk])).content.decode()
    shown = re.findall(r'data-testid="needle-reason">([^<]*)<bdi>([^<]*)<', printed)
    assert shown == [("Not the default: ", reason)] * 2

    client.post(reverse("treatments:session_sign", args=[session.pk]))
    session.refresh_from_db()
    assert session.is_signed
    assert f"Not the default: {reason}" in _pdf_text(session)


def test_the_zone_plan_refuses_a_non_default_needle_without_reason(
    client, map_patient, planned_map
):
    map_patient.phototype = 6
    map_patient.save()
    before, version = _zone_plans(planned_map), planned_map.version
    url = reverse("treatments:map_plan", args=[planned_map.pk])

    refused = client.post(url, plan_post(planned_map, planned_volume_ml="3"))
    assert refused.status_code == 200
    assert PHOTOTYPE_VI_MESSAGE in refused.content.decode()
    assert _zone_plans(planned_map) == before
    assert TreatmentMap.objects.get(pk=planned_map.pk).version == version

    accepted = client.post(
        url, plan_post(planned_map, planned_volume_ml="3", needle_override_reason="Thin fat")
    )
    assert accepted.status_code == 302
    assert _zone_plans(planned_map) == [(Decimal("4"), "Thin fat", Decimal("3"))] * 2


# 2. Consent in force --------------------------------------------------------------------


def test_a_consent_on_a_superseded_wording_is_not_in_force(
    client, map_patient, planned_map, lots, treatment_consent
):
    client.post(
        reverse("treatments:session_new", args=[map_patient.pk]), _session_post(planned_map, lots)
    )
    session = TreatmentSession.objects.get()
    edit = reverse("treatments:session_edit", args=[session.pk])
    assert "Treatment consent in force" in client.get(edit).content.decode()

    new = ConsentTemplate.objects.create(kind="treatment", title="Treatment", text="New wording")
    # Published the day before the session (a wording published after it would not
    # reach back: see test_rules.py).
    ConsentTemplate.objects.filter(pk=new.pk).update(
        created_at=session.performed_at - timedelta(days=1)
    )

    chart = client.get(reverse("patients:chart", args=[map_patient.pk])).content.decode()
    status = chart.split('data-testid="consent-treatment"', 1)[1].split("</li>", 1)[0]
    assert "Superseded by version 2" in status and "In force" not in status
    (row,) = [row for row in chart.split("<tr>") if "Treatment consent, version 1" in row]
    assert "Not in force" in row and "In force" not in row

    form = client.get(edit).content.decode()
    assert "No treatment consent in force on the session date" in form
    assert "Treatment consent in force" not in form

    response = client.post(reverse("treatments:session_sign", args=[session.pk]), follow=True)
    assert any(
        m.startswith("No treatment consent is in force for this session")
        for m in _refused(response)
    )
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.DRAFT and not session.pdf


def test_a_consent_signed_after_the_session_does_not_cover_it(
    client, practitioner, map_patient, planned_map, lots
):
    session_at = _ago(days=15)
    consent_on = timezone.localtime(session_at).date() + timedelta(days=13)
    _sign_consent(map_patient, "treatment", consent_on, practitioner)
    client.post(
        reverse("treatments:session_new", args=[map_patient.pk]),
        _session_post(planned_map, lots, at=session_at),
    )
    session = TreatmentSession.objects.get()

    edit = reverse("treatments:session_edit", args=[session.pk])
    assert "No treatment consent in force on the session date" in client.get(edit).content.decode()
    sign = reverse("treatments:session_sign", args=[session.pk])
    assert "No treatment consent is in force for this session" in client.get(sign).content.decode()
    response = client.post(sign, follow=True)
    assert any(
        m.startswith("No treatment consent is in force for this session")
        for m in _refused(response)
    )
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.DRAFT

    # The same draft dated after the signature is covered by it.
    moved = client.post(
        edit,
        _session_post(
            planned_map,
            lots,
            at=_ago(days=1),
            version=session.version,
        ),
    )
    assert moved.status_code == 302
    client.post(sign)
    session.refresh_from_db()
    assert session.is_signed


# 3. Dates ---------------------------------------------------------------------------------


def test_a_session_cannot_come_before_its_map(client, map_patient, planned_map, lots):
    mapped = timezone.localtime(planned_map.mapped_at)
    response = client.post(
        reverse("treatments:session_new", args=[map_patient.pk]),
        _session_post(planned_map, lots, at=mapped - timedelta(days=1)),
    )
    assert response.status_code == 200
    assert (
        f"A session cannot come before its treatment map (mapped {mapped:%Y-%m-%d %H:%M})."
        in response.content.decode()
    )
    assert not TreatmentSession.objects.exists()


def test_the_next_appointment_comes_after_the_session(client, map_patient, planned_map, lots):
    response = client.post(
        reverse("treatments:session_new", args=[map_patient.pk]),
        _session_post(planned_map, lots, at=_ago(days=3), next_at=_ago(days=4)),
    )
    assert response.status_code == 200
    assert "The next appointment must come after this session." in response.content.decode()
    assert not TreatmentSession.objects.exists()


# 4. Alerts ---------------------------------------------------------------------------------

NOTES = "Keloid scars on the left flank <b>no nappage there</b>"
ESCAPED_NOTES = "Keloid scars on the left flank &lt;b&gt;no nappage there&lt;/b&gt;"


def test_contraindication_notes_alone_are_shown_wherever_the_alerts_are(
    client, map_patient, planned_map, lots, treatment_consent
):
    map_patient.contraindication_notes = NOTES
    map_patient.allergy_status = "none_known"
    map_patient.save()
    stored = Patient.objects.get(pk=map_patient.pk)
    assert (stored.allergies, stored.contraindications) == ("", [])  # the notes are the only alert

    def shows_the_notes(url, *, banner=False):
        html = client.get(url).content.decode()
        alerts = _block(html, "alerts")
        assert f"<strong>Contraindication notes:</strong> <bdi>{ESCAPED_NOTES}</bdi>" in alerts
        assert ("Before injecting" in alerts) is banner
        assert NOTES not in html  # escaped: never markup
        return html

    shows_the_notes(reverse("treatments:session_new", args=[map_patient.pk]), banner=True)
    shows_the_notes(reverse("treatments:map_plan", args=[planned_map.pk]), banner=True)
    client.post(
        reverse("treatments:session_new", args=[map_patient.pk]), _session_post(planned_map, lots)
    )
    session = TreatmentSession.objects.get()
    shows_the_notes(reverse("treatments:session_sign", args=[session.pk]), banner=True)
    client.post(reverse("treatments:session_sign", args=[session.pk]))
    session.refresh_from_db()
    assert session.is_signed
    shows_the_notes(reverse("treatments:session_print", args=[session.pk]))
    shows_the_notes(reverse("treatments:booklet", args=[map_patient.pk]))
    assert f"Contraindication notes: {NOTES}" in _pdf_text(session)

    listing = client.get(reverse("patients:list")).content.decode()
    (title,) = re.findall(r'data-testid="alert-badge" title="([^"]*)"', listing)
    assert title == f"Notes: {ESCAPED_NOTES}"


# 5. Volume cap -----------------------------------------------------------------------------


def test_the_zone_plan_caps_the_volume_at_10_ml(client, planned_map):
    url = reverse("treatments:map_plan", args=[planned_map.pk])
    before = _zone_plans(planned_map)

    refused = client.post(url, plan_post(planned_map, planned_volume_ml="15"))
    assert refused.status_code == 200
    assert "At most 10 mL in one zone per session." in refused.content.decode()
    assert _zone_plans(planned_map) == before

    accepted = client.post(url, plan_post(planned_map, planned_volume_ml="10"))
    assert accepted.status_code == 302
    assert [volume for _, _, volume in _zone_plans(planned_map)] == [Decimal("10")] * 2


def test_the_session_caps_the_volume_at_10_ml(client, map_patient, planned_map, lots):
    url = reverse("treatments:session_new", args=[map_patient.pk])
    refused = client.post(url, _session_post(planned_map, lots, rows={0: {"volume_ml": "15"}}))
    assert refused.status_code == 200
    assert "At most 10 mL in one zone per session." in refused.content.decode()
    assert not TreatmentSession.objects.exists()

    accepted = client.post(url, _session_post(planned_map, lots, rows={0: {"volume_ml": "10"}}))
    assert accepted.status_code == 302
    assert sorted(Injection.objects.values_list("volume_ml", flat=True)) == [
        Decimal("2.5"),
        Decimal("10"),
    ]


# 6. Archived patient ------------------------------------------------------------------------


def _photo(patient, planned_map, lots):
    data = {
        "taken_at": _typed(_ago(hours=1)),
        "region": "Right thigh",
        "view": "front",
        "posture": "standing",
        "phase": "before",
        "notes": "",
        "upload": upload(),
    }
    return reverse("patients:photo_new", args=[patient.pk]), data, Photo.objects.count


def _measurement(patient, planned_map, lots):
    data = {
        "site": "Right thigh",
        "landmark": "15 cm above the patella",
        "value": "55.5",
        "unit": "cm",
        "posture": "standing",
        "measured_on": timezone.localdate().isoformat(),
        "notes": "",
    }
    return reverse("patients:measurement_new", args=[patient.pk]), data, Measurement.objects.count


def _consent(patient, planned_map, lots):
    data = {
        "template": ConsentTemplate.objects.get(kind="treatment").pk,
        "signed_on": timezone.localdate().isoformat(),
        "signed_by": patient.full_name,
        "method": "scan",
        "scan": upload("consent.png"),
    }
    return reverse("patients:consent_new", args=[patient.pk]), data, Consent.objects.count


def _zone_plan(patient, planned_map, lots):
    return (
        reverse("treatments:map_plan", args=[planned_map.pk]),
        plan_post(planned_map, planned_volume_ml="3"),
        lambda: (_zone_plans(planned_map), TreatmentMap.objects.get(pk=planned_map.pk).version),
    )


def _map(patient, planned_map, lots):
    data = {
        "indication": Indication.objects.get(code="cellulite").pk,
        "location": planned_map.location_id,
        "mapped_standing": "on",
        "mapped_at": _typed(_ago(days=1)),
        "planned_sessions": "6",
        "days_between": "14",
        "notes": "",
        "regions": ["knee_left"],
    }
    return reverse("treatments:map_new", args=[patient.pk]), data, TreatmentMap.objects.count


def _session(patient, planned_map, lots):
    return (
        reverse("treatments:session_new", args=[patient.pk]),
        _session_post(planned_map, lots),
        TreatmentSession.objects.count,
    )


@pytest.mark.parametrize(
    "write", [_photo, _measurement, _consent, _zone_plan, _map, _session], ids=lambda f: f.__name__
)
def test_an_archived_record_is_read_only(
    client, practitioner, map_patient, planned_map, lots, treatment_consent, write
):
    # Everything else the write needs is there: only the archive stands in the way.
    _sign_consent(map_patient, "photography", timezone.localdate(), practitioner)
    archived = client.post(
        reverse("patients:archive", args=[map_patient.pk]), {"version": map_patient.version}
    )
    assert archived.status_code == 302
    assert Patient.objects.get(pk=map_patient.pk).archived

    url, data, stored = write(map_patient, planned_map, lots)
    before = stored()
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "This patient is archived: the record is read-only." in response.content.decode()
    assert stored() == before


# 7. Off-label compounds -------------------------------------------------------------------


def test_an_off_label_compound_needs_an_off_label_consent_to_sign(
    client_for, catalogue_admin, practitioner, map_patient, planned_map, lots, treatment_consent
):
    compound = Compound.objects.get(name="Phosphatidylcholine")  # in the map's Lipolysis A
    console = client_for(catalogue_admin)
    change = reverse("admin:treatments_compound_change", args=[compound.pk])
    page = console.get(change)
    assert 'name="off_label"' in page.content.decode()
    saved = console.post(change, {**_console_post(page), "off_label": "on"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    compound.refresh_from_db()
    assert compound.off_label
    assert compound.lots.count() == 2 and compound.formulary_rules.count() == 1  # inlines kept

    client = client_for(practitioner)
    session_at = _ago(days=3)
    client.post(
        reverse("treatments:session_new", args=[map_patient.pk]),
        _session_post(planned_map, lots, at=session_at),
    )
    session = TreatmentSession.objects.get()
    sign = reverse("treatments:session_sign", args=[session.pk])
    refused = client.post(sign, follow=True)
    assert any(
        m.startswith("Phosphatidylcholine is used off-label: an off-label consent must be")
        for m in _refused(refused)
    )
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.DRAFT

    off_label = ConsentTemplate.objects.create(kind="off_label", title="Off-label", text="...")
    recorded = client.post(
        reverse("patients:consent_new", args=[map_patient.pk]),
        {
            "template": off_label.pk,
            "signed_on": (timezone.localtime(session_at).date() - timedelta(days=1)).isoformat(),
            "signed_by": map_patient.full_name,
            "method": "scan",
            "scan": upload("off-label.png"),
        },
    )
    assert recorded.status_code == 302
    signed = client.post(sign, follow=True)
    assert "Session signed." in " ".join(_messages(signed))
    session.refresh_from_db()
    assert session.is_signed


# 8. Follow-up review ------------------------------------------------------------------------


@pytest.fixture
def followed_up(client, map_patient, planned_map, lots):
    """A session three days ago, an infection since the day after (flagged) and a day of
    swelling, resolved (within its course)."""
    session_at = _ago(days=3)
    client.post(
        reverse("treatments:session_new", args=[map_patient.pk]),
        _session_post(planned_map, lots, at=session_at),
    )
    session = TreatmentSession.objects.get()
    url = reverse("treatments:side_effect_new", args=[session.pk])
    for kind, resolved in (("infection", None), ("swelling", session_at + timedelta(days=2))):
        data = {
            "kind": kind,
            "onset": _typed(session_at + timedelta(days=1)),
            "severity": "moderate",
            "notes": "",
        }
        if resolved:
            data["resolved_at"] = _typed(resolved)
        assert client.post(url, data).status_code == 302
    return (
        session,
        SideEffect.objects.get(kind="infection"),
        SideEffect.objects.get(kind="swelling"),
    )


def test_a_flagged_follow_up_is_reviewed_with_a_note(client, map_patient, followed_up):
    session, infection, _ = followed_up
    name = f"{map_patient.last_name}, {map_patient.first_name}"
    chart_url = reverse("patients:chart", args=[map_patient.pk])
    assert name in _block(client.get(reverse("home")).content.decode(), "flagged")
    assert "<strong>Infection</strong>" in _block(client.get(chart_url).content.decode(), "flagged")
    review = reverse("treatments:side_effect_review", args=[session.pk, infection.pk])

    refused = client.post(review, {"note": "  "}, follow=True)
    assert "Infection: Say what was decided (seen, called, treated…)." in _messages(refused)
    infection.refresh_from_db()
    assert (infection.reviewed_at, infection.reviewed_by, infection.review_note) == (None, None, "")

    note = "Seen the next morning: oral antibiotics started"
    accepted = client.post(review, {"note": note}, follow=True)
    assert "Infection marked reviewed." in _messages(accepted)
    infection.refresh_from_db()
    assert infection.reviewed_at is not None and infection.review_note == note
    assert infection.reviewed_by.username == "alice"

    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="flagged"' not in home and "No flagged side effects." in home
    assert 'data-testid="flagged"' not in client.get(chart_url).content.decode()
    page = client.get(session.get_absolute_url()).content.decode()
    row = page.split(f'data-testid="followup-{infection.pk}"', 1)[1].split("</tr>", 1)[0]
    reviewed = timezone.localtime(infection.reviewed_at)
    assert "flagged, reviewed" in row
    assert f"Reviewed {reviewed:%Y-%m-%d %H:%M} by {infection.reviewed_by.get_full_name()}" in row
    assert note in row


def test_an_assistant_cannot_review(client_for, assistant, followed_up):
    session, infection, _ = followed_up
    response = client_for(assistant).post(
        reverse("treatments:side_effect_review", args=[session.pk, infection.pk]),
        {"note": "Looks fine"},
    )
    assert response.status_code == 403
    infection.refresh_from_db()
    assert infection.reviewed_at is None and infection.review_note == ""


def test_a_follow_up_within_its_course_cannot_be_reviewed(client, followed_up):
    session, _, swelling = followed_up
    response = client.post(
        reverse("treatments:side_effect_review", args=[session.pk, swelling.pk]),
        {"note": "Nothing to do"},
        follow=True,
    )
    assert (
        "Swelling: This follow-up is within its expected course: nothing to review."
        in _messages(response)
    )
    swelling.refresh_from_db()
    assert swelling.reviewed_at is None and swelling.review_note == ""
