"""A practitioner whose language is French sees no English on a clinical day (issue 13).

Her browser asks for English; her profile says French. She signs in and goes through the
pages of a day at the treatment table: the dashboard, finding a patient, the chart, a new
patient (with its validation errors), a consent, the treatment map and its zones, a new
session (refused, then its draft), signing, the signed session, its printed summary, a side
effect, lots and a recall. On every page the visible text and the attributes people read
are collected; what people typed (names, notes, the catalogue) is taken out; what remains
must hold no English: no English message of the catalogue whose French differs, and none
of a list of English words that French does not use.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from playwright.sync_api import expect

from clinic.models import Location, UserProfile
from patients.models import ConsentTemplate, Patient
from treatments.models import BodyRegion, Compound, CompoundLot, Indication

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
    least two words, or one word of six letters or more)."""
    found = set()
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete or entry.msgid_plural or "%" in entry.msgid or "{" in entry.msgid:
            continue
        if entry.msgstr.strip().lower() == entry.msgid.strip().lower():
            continue
        words = _WORD.findall(entry.msgid)
        if len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 6):
            found.add(entry.msgid.strip())
    return sorted(found, key=len, reverse=True)


def _typed_data() -> list[str]:
    """What people typed: names and catalogue entries stay as typed, in any language."""
    values = []
    for patient in Patient.objects.all():
        values += [patient.first_name, patient.last_name, patient.chart_number, patient.email]
    values += list(Compound.objects.values_list("name", flat=True))
    values += list(CompoundLot.objects.values_list("lot_number", flat=True))
    values += list(Indication.objects.values_list("name", flat=True))
    values += list(Location.objects.values_list("name", flat=True))
    values += list(ConsentTemplate.objects.values_list("title", flat=True))
    values += list(ConsentTemplate.objects.values_list("text", flat=True))
    values += ["Alice", "alice", "MesoChart", "<script>alert('x')</script>"]
    return sorted({value for value in values if value}, key=len, reverse=True)


def english_on(page, english_messages: list[str], typed: list[str]) -> list[str]:
    text = page.evaluate(_VISIBLE_TEXT)
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
):
    patient = planned_map.patient
    patient.preferred_language = "fr-ca"
    patient.save(update_fields=["preferred_language"])
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

    def check(label: str) -> None:
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "fr-ca", label
        left = english_on(page, english_messages, typed_in_session + _typed_data())
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
    assert BodyRegion.objects.exists()
    assert not problems, "English on French pages:\n" + "\n".join(
        f"{label}: {words}" for label, words in problems.items()
    )
    assert page.console_errors == []
