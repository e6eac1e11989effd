"""The default needle for a patient, from the admin-editable rule for their phototype."""

from patients.models import Patient
from treatments.models import NeedleRule


def needle_rules() -> dict[int, NeedleRule]:
    return {rule.phototype: rule for rule in NeedleRule.objects.all()}


def default_needle(patient: Patient, rules: dict[int, NeedleRule] | None = None):
    """The NeedleRule for the patient's phototype, or None if not assessed or no rule."""
    if patient.phototype is None:
        return None
    if rules is None:
        return NeedleRule.objects.filter(phototype=patient.phototype).first()
    return rules.get(patient.phototype)
