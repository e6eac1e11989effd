"""A practitioner whose language is French sees no English on a clinical day (issue 13).

Her browser asks for English; her profile says French. She signs in and goes through the
pages of a day at the treatment table: the dashboard, finding a patient, the chart, a new
patient (with its validation errors), a consent, the treatment map and its zones, a new
session (refused, then its draft), signing, the signed session, its printed summary, a side
effect, lots and a recall, the record's history ("who saw or changed this record"), the
catalogue console, and the PDF drawn at signing. On every page the visible text and the
attributes people read are collected; what people typed (names, notes, the catalogue) is
taken out; what remains must hold no English: no English message of the catalogue whose
French differs, and none of a list of English words that French does not use.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from clinic.models import AccessLog, Location, UserProfile
from patients.models import ConsentTemplate, Patient
from tests.pdf import pdf_text
from treatments.models import (
    BodyRegion,
    Compound,
    CompoundCategory,
    CompoundLot,
    FormularyRule,
    Indication,
    Injection,
    MapZone,
    TreatmentMap,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr_CA" / "LC_MESSAGES" / "django.po"
# English words that are not French words: one of these left on a page is English.
ENGLISH_WORDS = {
    "the", "and", "with", "of", "to", "for", "your", "this", "is", "are", "has", "have",
    "was", "were", "not", "no", "yes", "save", "saved", "sign", "signed", "session",
    "sessions", "draft", "search", "new", "back", "print", "edit", "needle", "depth",
    "compound", "compounds", "side", "effect", "effects", "consent", "follow-up", "due",
    "today", "none", "add", "show", "all", "chart", "map", "maps", "amount", "expiry",
    "expired", "withdrawn", "sign-in", "signed-in", "out", "required", "field", "please",
    "enter", "choose", "select", "record", "records", "summary", "booklet", "recall",
    "history", "who", "when", "what", "where", "by", "on", "at", "from", "than", "more",
}  # fmt: skip
# The page's own submit button (the navigation's sign-out form comes first).
SUBMIT = "main form[method=post] button:not([type=button])"
_WORD = re.compile(r"[^\W\d_][\w’'-]*", re.U)

_VISIBLE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const element of document.querySelectorAll(
      '[placeholder], [title], [aria-label], img[alt], input[type=submit], input[type=button]')) {
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      const value = element.getAttribute(name);
      if (value) parts.push(value);
    }
    if (element.matches('input[type=submit], input[type=button]')) parts.push(element.value);
  }
  return parts.join('\\n');
}"""


def _english_messages() -> list[str]:
    """English messages whose French is another text, longest first (whole messages of at
    least two words, or one word of six letters or more that French does not use too:
    "active" is a field's name in English and an adjective in French)."""
    found = set()
    catalogue = polib.pofile(str(CATALOGUE))
    french_words = {word.lower() for entry in catalogue for word in _WORD.findall(entry.msgstr)}
    for entry in catalogue:
        if entry.obsolete or entry.msgid_plural or "%" in entry.msgid or "{" in entry.msgid:
            continue
        if entry.msgstr.strip().lower() == entry.msgid.strip().lower():
            continue
        words = _WORD.findall(entry.msgid)
        if len(words) >= 2 or (
            len(words) == 1 and len(words[0]) >= 6 and words[0].lower() not in french_words
        ):
            found.add(entry.msgid.strip())
    return sorted(found, key=len, reverse=True)


def _typed_data() -> list[str]:
    """What people typed: names and catalogue entries stay as typed, in any language."""
    values = []
    for patient in Patient.objects.all():
        values += [patient.first_name, patient.last_name, patient.chart_number, patient.email]
        # The record's history shows every field of the record as it was typed.
        values += [patient.address, patient.phone, patient.allergies, patient.medical_history]
        values += [patient.current_medications, patient.contraindication_notes]
    values += list(TreatmentMap.objects.values_list("notes", flat=True))
    for model in (MapZone, Injection):
        values += list(model.objects.values_list("restricted_note", flat=True))
        values += list(model.objects.values_list("needle_override_reason", flat=True))
    values += list(FormularyRule.objects.values_list("note", flat=True))
    # The access log's paths are addresses, not words ("/sessions/3/print/").
    values += list(AccessLog.objects.values_list("path", flat=True))
    values += list(Compound.objects.values_list("name", flat=True))
    values += list(CompoundLot.objects.values_list("lot_number", flat=True))
    # Indications are not typed data any more: they have a French label (issue 22).
    # The compound categories are the catalogue's own names (no French label).
    values += list(CompoundCategory.objects.values_list("name", flat=True))
    values += list(Location.objects.values_list("name", flat=True))
    values += list(ConsentTemplate.objects.values_list("title", flat=True))
    values += list(ConsentTemplate.objects.values_list("text", flat=True))
    values += ["Alice", "alice", "MesoChart", "<script>alert('x')</script>"]
    return sorted({value for value in values if value}, key=len, reverse=True)


def english_on(page, english_messages: list[str], typed: list[str]) -> list[str]:
    return english_in(page.evaluate(_VISIBLE_TEXT), english_messages, typed)


def english_in(text: str, english_messages: list[str], typed: list[str]) -> list[str]:
    for value in typed:
        text = text.replace(value, " ")
    found = []
    for message in english_messages:
        if re.search(r"(?<!\w)" + re.escape(message) + r"(?!\w)", text):
            found.append(message)
            text = text.replace(message, " ")
    words = {word.lower() for word in _WORD.findall(text)}
    found += sorted(words & ENGLISH_WORDS)
    return found


@pytest.fixture
def french_practitioner(practitioner):
    UserProfile.objects.update_or_create(user=practitioner, defaults={"language": "fr-ca"})
    return practitioner


def test_a_french_practitioner_sees_no_english_on_a_clinical_day(
    live_server,
    page,
    sign_in,
    french_practitioner,
    planned_map,
    lots,
    treatment_consent,
    client_for,
    catalogue_admin,
):
    patient = planned_map.patient
    patient.preferred_language = "fr-ca"
    patient.save(update_fields=["preferred_language"])
    # An indication whose French differs from its English name, on the map and its PDF.
    planned_map.indication = Indication.objects.get(code="localized_fat")
    planned_map.save(update_fields=["indication"])
    english_messages = _english_messages()
    assert len(english_messages) > 300  # the check has the catalogue to look for
    lot = next(iter(lots.values()))
    base = live_server.url
    # The check sees English where there is some: the sign-in page follows the browser.
    page.goto(f"{base}/accounts/login/")
    assert "Sign in" in english_on(page, english_messages, [])
    page = sign_in("alice")
    problems = {}
    typed_in_session = []

    def check(label: str, console: bool = False) -> None:
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "fr-ca", label
        typed = typed_in_session + _typed_data()
        if console:  # the console lists the English names beside the French labels
            typed += list(BodyRegion.objects.values_list("label", flat=True))
            typed += list(Indication.objects.values_list("name", flat=True))
            typed = sorted(set(typed), key=len, reverse=True)
        left = english_on(page, english_messages, typed)
        if left:
            problems[label] = left

    check("dashboard")
    page.goto(f"{base}/patients/?q={patient.last_name}")
    check("patient search")
    page.goto(f"{base}/patients/{patient.pk}/")
    check("chart")
    page.goto(f"{base}/patients/new/")
    check("new patient")
    page.locator(SUBMIT).last.click()
    expect(page.locator(".invalid-feedback, .errorlist").first).to_be_visible()
    check("new patient, refused")
    page.goto(f"{base}/patients/{patient.pk}/consents/new/")
    check("consent form")
    page.goto(f"{base}/patients/{patient.pk}/measurements/new/")
    check("measurement form")
    page.goto(f"{base}/patients/{patient.pk}/maps/new/")
    check("new treatment map (body diagram)")
    page.goto(f"{base}/maps/{planned_map.pk}/")
    check("treatment map")
    expect(page.locator("h1")).to_contain_text("Dépôts graisseux localisés")
    page.goto(f"{base}/maps/{planned_map.pk}/zones/")
    check("zone plan")
    page.goto(f"{base}/patients/{patient.pk}/sessions/new/")
    check("new session")
    # Refused: nothing entered for the zones' compounds (a form of the session service).
    page.locator(SUBMIT).last.click()
    check("new session, refused")

    from tests.treatments.session_helpers import session_post

    client = client_for(french_practitioner)
    response = client.post(
        f"/patients/{patient.pk}/sessions/new/", session_post(planned_map, lots, notes="Notes")
    )
    assert response.status_code == 302, response.content.decode()[:500]
    session = planned_map.sessions.get()
    typed_in_session += [session.immediate_reactions, session.aftercare, session.notes]
    page.goto(f"{base}/sessions/{session.pk}/")
    check("draft session")
    page.goto(f"{base}/sessions/{session.pk}/sign/")
    check("sign")
    page.get_by_role("button", name="Signer et verrouiller", exact=True).click()
    page.wait_for_url(f"{base}/sessions/{session.pk}/")
    session.refresh_from_db()
    assert session.is_signed
    check("signed session")
    page.goto(f"{base}/sessions/{session.pk}/print/")
    check("printed summary")
    page.goto(f"{base}/sessions/{session.pk}/side-effects/new/")
    check("side effect")
    page.goto(f"{base}/sessions/")
    check("session list")
    page.goto(f"{base}/lots/?q={lot.lot_number}")
    check("lot search")
    page.goto(f"{base}/lots/{lot.pk}/recall/")
    check("lot recall")
    page.goto(f"{base}/")
    check("dashboard at the end of the day")

    # Who saw or changed the record: field names and values in French.
    page.goto(f"{base}/patients/{patient.pk}/access/")
    check("who saw or changed this record")
    history = page.locator("[data-testid=changes]").inner_text()
    for french in ["Statut\N{NO-BREAK SPACE}: Brouillon → Signée", "Région", "Calibre (G)",
                   "Cuisse droite, face externe", "Dépôts graisseux localisés", "Oui",
                   "séance de traitement", "zone du plan"]:  # fmt: skip
        assert french in history, french
    for english in ["status", "draft", "signed", "gauge", "region", "True", "False", "Yes",
                    "Right thigh", "Localized fat deposits", "TreatmentSession", "MapZone",
                    "check_consent_current"]:  # fmt: skip
        assert not re.search(r"(?<!\w)" + re.escape(english) + r"(?!\w)", history), english
    assert not re.search(r"[^\W\d_]:", history), "a colon without French spacing"

    # The catalogue console, read by a French catalogue administrator (signed in with both
    # factors): models, columns and the indication's French label.
    UserProfile.objects.update_or_create(user=catalogue_admin, defaults={"language": "fr-ca"})
    console_client = Client()
    console_client.force_login(catalogue_admin)
    device = TOTPDevice.objects.create(user=catalogue_admin, name="phone", confirmed=True)
    console_session = console_client.session
    console_session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    console_session.save()
    page.context.clear_cookies()
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": console_session.session_key}
    page.context.add_cookies([cookie | {"url": base}])
    fat = Indication.objects.get(code="localized_fat")
    for label, path in [
        ("console", "/admin/"),
        ("console: indications", "/admin/treatments/indication/"),
        ("console: an indication", f"/admin/treatments/indication/{fat.pk}/change/"),
        ("console: compounds", "/admin/treatments/compound/"),
        ("console: a compound", f"/admin/treatments/compound/{lot.compound_id}/change/"),
        ("console: lots", "/admin/treatments/compoundlot/"),
        ("console: formulas", "/admin/treatments/formula/"),
        ("console: formulary", "/admin/treatments/formularyrule/"),
        ("console: needle rules", "/admin/treatments/needlerule/"),
        ("console: body regions", "/admin/treatments/bodyregion/"),
        ("console: locations", "/admin/clinic/location/"),
    ]:
        page.goto(base + path)
        check(label, console=True)
    page.goto(f"{base}/admin/treatments/indication/")
    console = page.locator("#content").inner_text().lower()  # headings are in capitals
    for french in ["Indications", "Libellé français", "Dépôts graisseux localisés", "Nom", "Actif"]:
        assert french.lower() in console, french
    page.goto(f"{base}/admin/")
    console = page.locator("#content").inner_text().lower()  # headings are in capitals
    for french in ["Produits", "Lots de produits", "Mélanges", "Règles du formulaire",
                   "Règles d'aiguille", "Régions du corps", "Indications", "Lieux"]:  # fmt: skip
        assert french.lower() in console, french
    for english in ["Compounds", "Compound lots", "Formulas", "Formulary rules", "Needle rules",
                    "Body regions", "Locations"]:  # fmt: skip
        assert english.lower() not in console, english

    # The PDF drawn at signing, in the patient's language (French).
    response = client.get(f"/sessions/{session.pk}/pdf/")
    assert response.status_code == 200
    pdf = pdf_text(b"".join(response.streaming_content))
    # (pdf_text folds every space, the no-break one too)
    for french in ["Résumé de séance de mésothérapie", "Dépôts graisseux localisés",
                   "Cuisse droite, face externe", "Brûlure ou démangeaison : 15"]:  # fmt: skip
        assert french in pdf, french
    for english in ["Localized fat deposits", "Right thigh", "Mesotherapy session summary",
                    "Burning", "Before the procedure", "Signed electronically"]:  # fmt: skip
        assert english not in pdf, english
    left = english_in(pdf, english_messages, typed_in_session + _typed_data())
    if left:
        problems["signed PDF"] = left
    assert BodyRegion.objects.exists()
    assert not problems, "English on French pages:\n" + "\n".join(
        f"{label}: {words}" for label, words in problems.items()
    )
    assert page.console_errors == []
