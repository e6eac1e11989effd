"""What forms of every app share."""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext


class DateInput(forms.DateInput):
    """The browser's date picker; the value in the ISO form it reads."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker (local time); the value in the form it reads."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def show_problems(form: forms.BaseForm, problems: dict[str, list[str]]) -> None:
    """Put a service's problems on the form: beside the field they name, else on top."""
    for key, messages in problems.items():
        form.add_error(key if key in form.fields else None, messages)


def refill(form: forms.BaseForm, data) -> None:
    """An unbound form showing what was posted for it (no errors drawn yet): what an
    "apply to several zones" round trip shows again before filling the zones."""
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if not field.widget.value_omitted_from_data(data, {}, key):
            form.initial[name] = field.widget.value_from_datadict(data, {}, key)


class LoadedChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that finds the posted row among `rows`, loaded once for a whole
    formset, instead of asking the database once per row and per field. Without `rows` it
    queries its queryset as a ModelChoiceField does.

    `rows` must be what the queryset would return: the rows a form may choose from."""

    rows: dict[str, object] | None = None

    def __init__(self, queryset=None, *, rows=None, **kwargs):
        super().__init__(queryset, **kwargs)
        if rows is not None:
            self.load(rows)

    def load(self, rows) -> None:
        self.rows = {str(row.pk): row for row in rows}

    def to_python(self, value):
        if self.rows is None or value in self.empty_values:
            return super().to_python(value)
        self.validate_no_null_characters(value)
        try:
            return self.rows[str(getattr(value, "pk", value))]
        except KeyError:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            ) from None


@dataclass
class Problem:
    """One line of a page's error summary: where, what, and the id of the field to fix."""

    where: str
    message: str
    anchor: str


def problems_of(form: forms.BaseForm, *, where: str, anchor: str) -> list[Problem]:
    """A form's errors for the summary at the top of the page, each linked to its field
    (or to `anchor`, the form's own box, for an error of no visible field)."""
    found = []
    for name, errors in form.errors.items():
        field = form[name] if name in form.fields else None
        if field is not None and not field.is_hidden:
            label = gettext("%(where)s: %(field)s") % {"where": where, "field": field.label}
            found += [Problem(label, e, field.auto_id) for e in errors]
        else:
            found += [Problem(where, e, anchor) for e in errors]
    return found


def formset_problems(formset: forms.BaseFormSet, *, where, anchor: str) -> list[Problem]:
    """The summary lines of a formset: its own errors, then each form's. `where(form)` names
    a form's row; each row's box has the id `<anchor>-<row index>`."""
    found = [Problem(gettext("All rows"), e, f"{anchor}-0") for e in formset.non_form_errors()]
    for index, form in enumerate(formset.forms):
        found += problems_of(form, where=where(form), anchor=f"{anchor}-{index}")
    return found
