from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    FormulaFactory,
    LocationFactory,
    MapZoneFactory,
    PatientFactory,
    TreatmentMapFactory,
    list_on_formulary,
)
from tests.treatments.session_helpers import session_post
from treatments.models import TreatmentSession


@pytest.fixture
def location(db):
    return LocationFactory(name="Montréal clinic")


@pytest.fixture
def catalogue(location):
    """Compounds with each formulary status in the location's jurisdiction, and formulas."""
    jurisdiction = location.jurisdiction
    permitted = CompoundFactory(name="Phosphatidylcholine")
    restricted = CompoundFactory(name="Deoxycholate")
    prohibited = CompoundFactory(name="Aminophylline")
    unlisted = CompoundFactory(name="Collagenase")
    inactive = CompoundFactory(name="Old caffeine", active=False)
    list_on_formulary(permitted, jurisdiction)
    list_on_formulary(restricted, jurisdiction, "restricted", "Only under 5 mL per session")
    list_on_formulary(prohibited, jurisdiction, "prohibited")
    list_on_formulary(inactive, jurisdiction)
    return {
        "permitted": FormulaFactory(name="Lipolysis A", compounds=[permitted]),
        "restricted": FormulaFactory(name="Lipolysis B", compounds=[permitted, restricted]),
        "prohibited": FormulaFactory(name="Lipolysis C", compounds=[permitted, prohibited]),
        "unlisted": FormulaFactory(name="Lipolysis D", compounds=[unlisted]),
        "inactive": FormulaFactory(name="Lipolysis E", compounds=[inactive]),
    }


@pytest.fixture
def map_patient(db):
    return PatientFactory(first_name="Marie", last_name="Côté", phototype=2)


@pytest.fixture
def lots(catalogue):
    """For every compound of the catalogue, a usable lot (a year left, whatever today is)
    and one that expired two years ago ("<name> expired"), too old to be offered."""
    from treatments.models import Compound

    made = {}
    for compound in Compound.objects.all():
        prefix = compound.name[:4].upper()
        made[compound.name] = CompoundLotFactory(compound=compound, lot_number=f"{prefix}-26")
        made[compound.name + " expired"] = CompoundLotFactory(
            compound=compound, lot_number=f"{prefix}-19", expired=True
        )
    return made


@pytest.fixture
def planned_map(map_patient, location, catalogue, practitioner):
    """An active map with two planned zones on the outer thighs (Lipolysis A, permitted):
    2.5 mL each, 4 mm needle and depth, 30G, nappage. Six sessions, 14 days apart."""
    treatment_map = TreatmentMapFactory(
        patient=map_patient, location=location, created_by=practitioner
    )
    for code in ("thigh_outer_right", "thigh_outer_left"):
        MapZoneFactory(
            treatment_map=treatment_map, region_code=code, formula=catalogue["permitted"]
        )
    return treatment_map


@pytest.fixture
def treatment_consent(map_patient, practitioner):
    """A signed treatment consent in force for the map's patient."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from patients.models import Consent, ConsentTemplate
    from tests.patients.conftest import image_bytes

    consent = Consent(
        patient=map_patient,
        template=ConsentTemplate.objects.create(kind="treatment", title="Treatment", text="..."),
        # Signed before the sessions of the tests (consent must precede the session).
        signed_on=timezone.localdate() - timedelta(days=400),
        signed_by=map_patient.full_name,
        method=Consent.Method.SCAN,
        recorded_by=practitioner,
    )
    consent.signature.save("s.png", ContentFile(image_bytes()), save=False)
    consent.save()
    return consent


@pytest.fixture
def draft(client_for, practitioner, planned_map, lots, treatment_consent):
    client = client_for(practitioner)
    response = client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, notes="<script>alert('x')</script>"),
    )
    assert response.status_code == 302
    return TreatmentSession.objects.get()


@pytest.fixture
def signed(client_for, practitioner, draft):
    response = client_for(practitioner).post(reverse("treatments:session_sign", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_signed
    return draft
