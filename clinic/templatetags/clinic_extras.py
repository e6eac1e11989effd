from datetime import timedelta

from django import template

from clinic.numbers import plain

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> str:
    """'15 minutes' for timedelta(minutes=15); empty for None."""
    if value is None:
        return ""
    count = round(value.total_seconds() / 60)
    return f"{count} minute" if count == 1 else f"{count} minutes"


register.filter("plain", plain)
