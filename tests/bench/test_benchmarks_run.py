"""The benchmarks (make bench) run once at a tiny size on the test database, so a
change to the models or views that breaks them fails the suite. No timing targets
here: the figures only have to exist."""

import pytest

from tests.bench import bench_search, bench_summary
from tests.factories import PatientFactory
from treatments.models import InjectionLot, TreatmentSession

pytestmark = pytest.mark.django_db


def test_search_benchmark_runs_and_finds_its_patient():
    result = bench_search.run(patients=50, runs=1)

    assert result.patients == 50 and result.runs == 1
    assert len(result.searches) == 11
    assert all(s.median_ms > 0 and s.p95_ms > 0 for s in result.searches)
    found = {s.label: s.sample_found for s in result.searches}
    # The typo only finds long enough names, and the first page is in name order.
    for label in ("surname", "full name, lower case, no accents", "chart number", "phone"):
        assert found[label], f"{label}: the sampled patient is not on the result page"
    assert found["birth date"] and found["birth date, month first"] and found["birth year"]
    assert found["surname, two letters swapped"]
    first_page = result.searches[-1]
    assert first_page.term == "" and first_page.on_page > 0
    # The seeded chart numbers are not handed out again to a patient added afterwards.
    # (The sequence is not rolled back between tests: it may be further on already.)
    assert int(PatientFactory().chart_number.removeprefix("MC-")) > 50


def test_summary_benchmark_runs_on_a_session_saved_by_the_app():
    result = bench_summary.run(zones=2, runs=1)

    assert result.zones == 2 and result.pdf_runs == 1
    assert result.print_status == 200 and result.print_zones_shown == 2
    assert result.pdf.startswith(b"%PDF")
    assert result.print_median_ms > 0 and result.pdf_median_ms > 0
    # Written by save_session: the lot details are copied onto every injection.
    session = TreatmentSession.objects.get(notes="bench: 2 zones")
    lots = InjectionLot.objects.filter(injection__session=session)
    assert lots.count() == 2 * len(bench_summary.COMPOUNDS)
    assert not lots.filter(compound_name="").exists()


def test_summary_benchmark_reuses_a_complete_session_only(practitioner):
    from treatments.models import Injection

    first = bench_summary.session_with_zones(practitioner, 2)
    assert bench_summary.session_with_zones(practitioner, 2) == first

    # An interrupted build (an injection without its lots) is not timed: a new one is made.
    InjectionLot.objects.filter(injection=Injection.objects.filter(session=first).first()).delete()
    assert bench_summary.session_with_zones(practitioner, 2) != first
