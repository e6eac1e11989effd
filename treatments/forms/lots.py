"""The reason given to quarantine a lot or to lift its quarantine."""

from django import forms
from django.utils.translation import gettext_lazy as _


class QuarantineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Give the reason.")},
    )
