"""Query budgets of the writes a practitioner waits on: saving a session and signing it.

A session of 14 zones with 3 compounds each runs no more queries than one of 2 zones
with 1 compound: every row of the form is checked against rows loaded once (zones,
mixtures, lots, formulary rules), and the injections and their lots are written in one
INSERT each. The one place where the work grows with the zones is inherent and stays
inside those INSERTs (more rows, not more statements).
"""

import pytest
from django.urls import reverse

from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    FormulaFactory,
    MapZoneFactory,
    TreatmentMapFactory,
    list_on_formulary,
)
from tests.query_budget import assert_no_growth, page_queries
from tests.treatments.session_helpers import session_post
from treatments.models import BodyRegion, TreatmentSession

pytestmark = pytest.mark.django_db

SMALL, LARGE = (2, 1), (14, 3)  # (zones, compounds per zone)


@pytest.fixture
def map_with(map_patient, location, practitioner, treatment_consent):
    """map_with(zones, compounds) -> (map, lots): an active map of the patient with that
    many zones, two mixtures of that many compounds (listed on the formulary, a usable
    lot each) taking turns from zone to zone."""

    def make(zones: int, compounds: int):
        made = [CompoundFactory() for _ in range(2 * compounds)]
        for compound in made:
            list_on_formulary(compound, location.jurisdiction)
        lots = {compound.name: CompoundLotFactory(compound=compound) for compound in made}
        mixtures = [
            FormulaFactory(compounds=made[:compounds]),
            FormulaFactory(compounds=made[compounds:]),
        ]
        treatment_map = TreatmentMapFactory(
            patient=map_patient, location=location, created_by=practitioner
        )
        for index, region in enumerate(BodyRegion.objects.active().order_by("sort_order")[:zones]):
            MapZoneFactory(
                treatment_map=treatment_map, region_code=region.code, formula=mixtures[index % 2]
            )
        return treatment_map, lots

    return make


def _save_new(client, treatment_map, lots):
    url = reverse("treatments:session_new", args=[treatment_map.patient_id])
    queries = page_queries(
        client, f"{url}?map={treatment_map.pk}", "post", data=session_post(treatment_map, lots)
    )
    assert queries.status == 302
    return queries, TreatmentSession.objects.filter(treatment_map=treatment_map).get()


def _inserts(queries, table: str) -> int:
    return sum(f'INSERT INTO "{table}"' in sql for sql in queries.statements)


def _assert_saved(session, zones: int, compounds: int) -> None:
    injections = list(session.injections.prefetch_related("lots"))
    assert len(injections) == zones
    assert all(len(injection.lots.all()) == compounds for injection in injections)


def test_saving_a_new_session_does_not_query_per_zone(client_for, practitioner, map_with):
    client = client_for(practitioner)
    small, small_session = _save_new(client, *map_with(*SMALL))
    large, large_session = _save_new(client, *map_with(*LARGE))
    _assert_saved(small_session, *SMALL)
    _assert_saved(large_session, *LARGE)
    assert_no_growth("saving a new session", small, large)
    # Inherent: the rows themselves, 14 injections and 42 lots, in one INSERT each.
    for table in ("treatments_injection", "treatments_injectionlot"):
        assert _inserts(small, table) == _inserts(large, table) == 1


def test_saving_a_draft_again_does_not_query_per_zone(client_for, practitioner, map_with):
    client = client_for(practitioner)
    sizes = []
    for zones, compounds in (SMALL, LARGE):
        treatment_map, lots = map_with(zones, compounds)
        _, draft = _save_new(client, treatment_map, lots)
        data = session_post(treatment_map, lots, version=draft.version, notes="Seen again")
        edit = reverse("treatments:session_edit", args=[draft.pk])
        sizes.append(page_queries(client, edit, "post", data=data))
        draft.refresh_from_db()
        assert draft.notes == "Seen again" and draft.version == 2
        _assert_saved(draft, zones, compounds)
    assert_no_growth("saving a draft again", *sizes)
    # The old injections and lots go in one DELETE each, the new ones in one INSERT each.
    for statements in (sizes[0].statements, sizes[1].statements):
        assert sum(sql.startswith("DELETE") or "; DELETE" in sql for sql in statements) == 2


def test_a_refused_save_does_not_query_per_zone(client_for, practitioner, map_with):
    """A save with a problem in every row shows the form again with each row's message:
    the same checks, the same budget."""
    client = client_for(practitioner)
    sizes = []
    for zones, compounds in (SMALL, LARGE):
        treatment_map, lots = map_with(zones, compounds)
        data = session_post(treatment_map, lots)
        data.update({f"form-{i}-depth_mm": "9" for i in range(zones)})  # deeper than 4 mm
        url = reverse("treatments:session_new", args=[treatment_map.patient_id])
        queries = page_queries(client, f"{url}?map={treatment_map.pk}", "post", data=data)
        assert queries.status == 200
        assert not TreatmentSession.objects.filter(treatment_map=treatment_map).exists()
        sizes.append(queries)
    assert_no_growth("a refused save", *sizes)


def test_signing_does_not_query_per_zone(client_for, practitioner, map_with):
    client = client_for(practitioner)
    sizes = []
    for zones, compounds in (SMALL, LARGE):
        _, draft = _save_new(client, *map_with(zones, compounds))
        sign = reverse("treatments:session_sign", args=[draft.pk])
        sizes.append(page_queries(client, sign, "post", data={"version": draft.version}))
        draft.refresh_from_db()
        assert draft.is_signed and draft.pdf_sha256
    assert_no_growth("signing", *sizes)


def test_a_row_pointing_at_a_missing_zone_is_refused(planned_map, lots, practitioner):
    """That every zone, region and mixture exists is asked once for all the rows (not per
    row by full_clean): a row pointing at none is still refused and nothing is saved."""
    from django.core.exceptions import ValidationError

    from tests.factories import make_session
    from treatments.services.sessions import PlannedInjection, save_session

    draft = make_session(planned_map, lots=lots, practitioner=practitioner)
    before = sorted(draft.injections.values_list("pk", "map_zone_id"))
    planned = [
        PlannedInjection(injection, [used.lot for used in injection.lots.all()])
        for injection in draft.injections.prefetch_related("lots__lot__compound")
    ]
    planned[0].injection.map_zone_id = missing = 10**9
    with pytest.raises(ValidationError) as refused:
        save_session(session=draft, injections=planned, expected_version=draft.version)
    label = planned[0].injection.region_label
    assert refused.value.messages == [
        f"{label}: map zone instance with id {missing} is not a valid choice."
    ]
    assert sorted(draft.injections.values_list("pk", "map_zone_id")) == before
