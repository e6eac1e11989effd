"""The formulary rule for each status, through the rule itself and through the map plan."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import JurisdictionFactory, list_on_formulary
from tests.treatments.session_helpers import create_map, plan_post
from treatments import formulary

pytestmark = pytest.mark.django_db


def _compounds(catalogue, key):
    return formulary.formula_compounds(catalogue[key])


def test_permitted_passes(catalogue, location):
    verdict = formulary.check(
        _compounds(catalogue, "permitted"), location.jurisdiction, acknowledged=False, note=""
    )
    assert verdict.refused == [] and verdict.restricted == []


def test_prohibited_is_refused_naming_compound_and_jurisdiction(catalogue, location):
    with pytest.raises(ValidationError) as error:
        formulary.check(
            _compounds(catalogue, "prohibited"), location.jurisdiction, acknowledged=True, note="x"
        )
    assert error.value.messages == ["Aminophylline is prohibited in Québec (CA-QC)."]


def test_unlisted_is_refused(catalogue, location):
    with pytest.raises(ValidationError, match="Collagenase is not on the formulary of Québec"):
        formulary.check(
            _compounds(catalogue, "unlisted"), location.jurisdiction, acknowledged=True, note="x"
        )


def test_inactive_is_refused(catalogue, location):
    with pytest.raises(ValidationError, match="Old caffeine is inactive"):
        formulary.check(
            _compounds(catalogue, "inactive"), location.jurisdiction, acknowledged=True, note="x"
        )


@pytest.mark.parametrize(("acknowledged", "note"), [(False, ""), (True, ""), (False, "why")])
def test_restricted_needs_acknowledgement_and_note(catalogue, location, acknowledged, note):
    with pytest.raises(ValidationError) as error:
        formulary.check(
            _compounds(catalogue, "restricted"),
            location.jurisdiction,
            acknowledged=acknowledged,
            note=note,
        )
    (message,) = error.value.messages
    assert "Deoxycholate is restricted in Québec (CA-QC) (Only under 5 mL per session)" in message
    assert "Tick the acknowledgement and write a note" in message


def test_restricted_with_acknowledgement_passes(catalogue, location):
    verdict = formulary.check(
        _compounds(catalogue, "restricted"), location.jurisdiction, acknowledged=True, note="Ok"
    )
    assert verdict.needs_acknowledgement


def test_the_same_compound_differs_by_jurisdiction(catalogue, location):
    florida = JurisdictionFactory(code="US-FL", name="Florida")
    aminophylline = _compounds(catalogue, "prohibited")[1]
    list_on_formulary(aminophylline, florida, "permitted")
    list_on_formulary(_compounds(catalogue, "prohibited")[0], florida, "permitted")
    formulary.check(_compounds(catalogue, "prohibited"), florida, acknowledged=False, note="")
    with pytest.raises(ValidationError):
        formulary.check(
            _compounds(catalogue, "prohibited"), location.jurisdiction, acknowledged=False, note=""
        )


@pytest.mark.parametrize(
    ("key", "extra", "expected"),
    [
        ("permitted", {}, None),
        ("prohibited", {}, "Aminophylline is prohibited in Québec (CA-QC)."),
        ("unlisted", {}, "Collagenase is not on the formulary of Québec (CA-QC)"),
        ("inactive", {}, "Select a valid choice"),  # inactive formula: not offered at all
        ("restricted", {}, "Tick the acknowledgement and write a note"),
        ("restricted", {"restricted_acknowledged": "on", "restricted_note": "Under 5 mL"}, None),
    ],
)
def test_map_plan_enforces_the_formulary(
    client_for, practitioner, map_patient, location, catalogue, key, extra, expected
):
    if key == "inactive":
        catalogue[key].active = False
        catalogue[key].save()
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ["abdomen_lower"])
    response = client.post(
        reverse("treatments:map_plan", args=[treatment_map.pk]),
        plan_post(treatment_map, catalogue[key], **extra),
    )
    zone = treatment_map.zones.get()
    if expected is None:
        assert response.status_code == 302
        assert zone.is_planned
    else:
        assert response.status_code == 200
        assert expected in response.content.decode().replace("&#x27;", "'")
        assert not zone.is_planned
