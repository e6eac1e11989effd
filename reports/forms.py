"""The privacy officer's search form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.models import AccessLog


class AuditSearchForm(forms.Form):
    """The privacy officer's search over the access log."""

    patient = forms.CharField(
        required=False, max_length=100, label=_("Patient"), help_text=_("Chart number or name.")
    )
    user = forms.CharField(required=False, max_length=150, label=_("User name"))
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(required=False, label=_("Action"), choices=[("", _("Any action"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action")), *AccessLog.Action.choices]
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "action" else "form-control"

    def clean(self):
        data = super().clean()
        for name in ("patient", "user"):
            data[name] = (data.get(name) or "").strip()
        return data
