"""What forms of every app share."""

from django import forms


def show_problems(form: forms.BaseForm, problems: dict[str, list[str]]) -> None:
    """Put a service's problems on the form: beside the field they name, else on top."""
    for key, messages in problems.items():
        form.add_error(key if key in form.fields else None, messages)
