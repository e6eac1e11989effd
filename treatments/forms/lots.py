"""The reason given to quarantine a lot or to lift its quarantine."""

from django import forms


class QuarantineForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        error_messages={"required": "Give the reason."},
    )
