"""Typed text on the print view, the PDF and the booklet (issue 10): direction controls
cannot reorder the application's own words, a long unbroken string wraps inside A4, and
notes are bounded so a draft's PDF stays quick to draw."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.fields import NOTE_MAX_LENGTH
from tests.factories import PatientFactory
from tests.pdf import page_count, pdf_text, text_runs
from tests.treatments.session_helpers import session_post
from treatments.models import Amendment, Compound, Injection, TreatmentSession
from treatments.summary import render_pdf

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it displays right to left


def test_a_direction_control_typed_in_a_form_is_refused_clearly(
    client_for, practitioner, planned_map, lots, treatment_consent
):
    client = client_for(practitioner)
    response = client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, notes=f"Calm{RLO} patient"),
    )
    assert response.status_code == 200
    assert "invisible text-direction character (U+202E RIGHT-TO-LEFT OVERRIDE" in (
        response.content.decode()
    )
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize("control", ["\u200f", "\u202a", "\u202e", "\u2066", "\u2069"])
def test_the_rule_binds_scripts_and_imports_too(control):
    patient = PatientFactory.build(last_name=f"Dupont{control}")
    with pytest.raises(ValidationError) as refused:
        patient.full_clean(exclude=["chart_number"])
    assert [e.code for e in refused.value.error_dict["last_name"]] == ["bidi_control"]


def test_the_rule_binds_the_console(client_for, catalogue_admin, catalogue):
    category = Compound.objects.first().category
    response = client_for(catalogue_admin).post(
        reverse("admin:treatments_compound_add"),
        {
            "name": f"Caffeine{RLO}",
            "category": category.pk,
            "concentration": "250",
            "unit": "mg/mL",
            "form": "ampoule",
            "lots-TOTAL_FORMS": "0",
            "lots-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "invisible text-direction character" in response.content.decode()
    assert not Compound.objects.filter(name__startswith="Caffeine").exists()


@pytest.fixture
def stored_before_the_rule(planned_map, lots, practitioner):
    """A session whose typed text holds direction controls, written past validation, as
    records kept from before the rule may: the prints must still read right."""
    from tests.factories import make_session

    session = make_session(planned_map, lots=lots, check_skin_cleansed=False)
    TreatmentSession.objects.filter(pk=session.pk).update(
        check_skin_cleansed_reason=f"Allergy{RLO} to peroxide",
        notes=f"Calm{RLO} patient",
    )
    type(planned_map.patient).objects.filter(pk=planned_map.patient_id).update(
        last_name=f"Cô{RLO}té", first_name="Marie"
    )
    Amendment.objects.create(
        session=session, author=practitioner, reason=f"Ty{RLO}po", text="Volume was 2 mL"
    )
    return TreatmentSession.objects.get(pk=session.pk)


def test_direction_controls_cannot_reorder_the_print_view(
    client_for, practitioner, stored_before_the_rule
):
    session = stored_before_the_rule
    html = client_for(practitioner).get(reverse("treatments:session_print", args=[session.pk]))
    page = html.content.decode()
    # Each typed value is isolated: its controls end with it.
    assert f"<bdi>Cô{RLO}té</bdi>, <bdi>Marie</bdi>" in page
    assert f"not done: <bdi>Allergy{RLO} to peroxide</bdi>" in page
    assert f"<bdi>Calm{RLO} patient</bdi>" in page
    assert f"<bdi>Ty{RLO}po</bdi><br><bdi>Volume was 2 mL</bdi>" in page


def test_direction_controls_cannot_reorder_the_pdf(stored_before_the_rule):
    text = pdf_text(render_pdf(stored_before_the_rule))
    # Each typed value shows as typed (reversed after its control); the words after it
    # stay in reading order. Unisolated, the override ran on to the end of the line.
    assert "Patient Côét, Marie Chart MC-" in text
    assert "not done: Allergyedixorep ot ☑ Patient positioned on the table" in text
    assert "Notes: Calmtneitap What to expect" in text
    assert "Reason: Tyop Volume was 2 mL" in text


LONG = "W" * 300  # wide letters, no space to break at


def _assert_inside_the_page(data: bytes) -> None:
    width, runs = text_runs(data)
    # A4 (595 pt): WeasyPrint's own default, summary.css names no page size (a browser
    # prints the print view on the printer's paper, A4 or US Letter).
    assert round(width) == 595
    for run in runs:
        # W is about one em wide in DejaVu Sans.
        right = run.x + run.size * len(run.text) if set(run.text) == {"W"} else run.x
        assert run.x >= 0 and right <= width, f"{run.text[:40]!r} at {run.x:.0f} pt of {width}"


def test_long_unbroken_strings_wrap_inside_a4(
    client_for, practitioner, planned_map, lots, treatment_consent
):
    patient = planned_map.patient
    type(patient).objects.filter(pk=patient.pk).update(
        last_name="W" * 100, allergy_status="listed", allergies=LONG
    )
    client = client_for(practitioner)
    post = session_post(
        planned_map,
        lots,
        notes=LONG,
        aftercare=LONG,
        check_skin_cleansed=None,
        check_skin_cleansed_reason=LONG,
        rows={0: {"needle_length_mm": "6", "needle_override_reason": "W" * 200}},
    )
    response = client.post(reverse("treatments:session_new", args=[patient.pk]), post)
    assert response.status_code == 302, response.content.decode()[:3000]
    session = TreatmentSession.objects.get()
    Injection.objects.filter(session=session).update(region_label="W" * 100)

    data = render_pdf(session)
    _assert_inside_the_page(data)
    assert "Not signed" in pdf_text(data)


def test_a_long_unbroken_note_keeps_the_summary_on_its_page(
    client_for, practitioner, planned_map, lots, treatment_consent
):
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, notes=LONG),
    )
    assert response.status_code == 302
    data = render_pdf(TreatmentSession.objects.get())
    _assert_inside_the_page(data)
    assert page_count(data) == 1
    assert "What to expect" in pdf_text(data)


def test_notes_are_bounded(client_for, practitioner, planned_map, lots, treatment_consent):
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, notes="x" * (NOTE_MAX_LENGTH + 1)),
    )
    assert response.status_code == 200
    assert (
        f"Ensure this value has at most {NOTE_MAX_LENGTH} characters" in response.content.decode()
    )
    assert not TreatmentSession.objects.exists()


def test_every_typed_text_field_of_a_session_is_bounded():
    """The console, scripts and imports too: the bound is a validator of the model."""
    session = TreatmentSession(notes="x" * (NOTE_MAX_LENGTH + 1))
    with pytest.raises(ValidationError) as refused:
        session.clean_fields(exclude=[f.name for f in session._meta.fields if f.name != "notes"])
    assert "notes" in refused.value.error_dict
