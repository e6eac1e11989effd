from datetime import date, timedelta

import pytest

from tests.factories import (
    CompoundFactory,
    LocationFactory,
    PatientFactory,
    list_on_formulary,
    make_formula,
)


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
        "permitted": make_formula("Lipolysis A", [permitted]),
        "restricted": make_formula("Lipolysis B", [permitted, restricted]),
        "prohibited": make_formula("Lipolysis C", [permitted, prohibited]),
        "unlisted": make_formula("Lipolysis D", [unlisted]),
        "inactive": make_formula("Lipolysis E", [inactive]),
    }


@pytest.fixture
def map_patient(db):
    return PatientFactory(first_name="Marie", last_name="Côté", phototype=2)


@pytest.fixture
def lots(catalogue):
    """A usable and an expired lot for every compound of the catalogue."""
    from treatments.models import Compound, CompoundLot

    made = {}
    for compound in Compound.objects.all():
        made[compound.name] = CompoundLot.objects.create(
            compound=compound,
            lot_number=f"{compound.name[:4].upper()}-26",
            expiry_date=date(2030, 12, 31),
        )
        made[compound.name + " expired"] = CompoundLot.objects.create(
            compound=compound,
            lot_number=f"{compound.name[:4].upper()}-19",
            expiry_date=date(2020, 1, 31),
        )
    return made


@pytest.fixture
def planned_map(map_patient, location, catalogue, practitioner):
    """An active map with two planned zones on the outer thighs (Lipolysis A, permitted)."""
    from django.utils import timezone

    from treatments.models import BodyRegion, Indication, MapZone, TreatmentMap

    treatment_map = TreatmentMap.objects.create(
        patient=map_patient,
        indication=Indication.objects.get(code="cellulite"),
        location=location,
        mapped_standing=True,
        # Mapped before the sessions of the tests (a session cannot predate its map).
        mapped_at=timezone.now() - timedelta(days=400),
        planned_sessions=6,
        days_between=14,
        created_by=practitioner,
    )
    for code in ("thigh_outer_right", "thigh_outer_left"):
        MapZone.objects.create(
            treatment_map=treatment_map,
            region=BodyRegion.objects.get(code=code),
            needle_length_mm=4,
            gauge=30,
            depth_mm=4,
            technique="nappage",
            spacing_mm=10,
            formula=catalogue["permitted"],
            planned_volume_ml="2.5",
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
