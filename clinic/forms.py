"""What forms of every app share."""

from django import forms


def show_problems(form: forms.BaseForm, problems: dict[str, list[str]]) -> None:
    """Put a service's problems on the form: beside the field they name, else on top."""
    for key, messages in problems.items():
        form.add_error(key if key in form.fields else None, messages)


class AuditSearchForm(forms.Form):
    """The privacy officer's search over the access log."""

    patient = forms.CharField(required=False, max_length=100, help_text="Chart number or name.")
    user = forms.CharField(required=False, max_length=150, label="User name")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(required=False, choices=[("", "Any action")])

    def __init__(self, *args, **kwargs):
        from clinic.models import AccessLog

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *AccessLog.Action.choices]
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "action" else "form-control"

    def clean(self):
        data = super().clean()
        for name in ("patient", "user"):
            data[name] = (data.get(name) or "").strip()
        return data
