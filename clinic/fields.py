"""Model fields for text people type: notes, names, reasons, addresses.

Every such field of the project is one of these (tests/clinic/test_attack_inputs.py checks
it), so the rules for typed text live here once and bind forms, the console and any script
that calls full_clean(): no invisible direction controls, and a bounded length (a note
of 100,000 characters took 5.9 s to draw as a PDF on every request).
"""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.functional import cached_property

from clinic.validators import no_bidi_controls

# A long clinical note is two or three pages of typing; more belongs in an attached letter.
NOTE_MAX_LENGTH = 5_000
ADDRESS_MAX_LENGTH = 500


class FreeCharField(models.CharField):
    """A one-line value typed by a person (varchar: the database bounds its length)."""

    default_validators = [no_bidi_controls]


class FreeTextField(models.TextField):
    """Several lines typed by a person. PostgreSQL's text is unbounded, so max_length is a
    validator here (a plain TextField only passes it to the form's widget)."""

    default_validators = [no_bidi_controls]

    def __init__(self, *args, max_length: int = NOTE_MAX_LENGTH, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)

    @cached_property
    def validators(self) -> list:
        return [*super().validators, MaxLengthValidator(self.max_length)]
