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
