from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> str:
    """'15 minutes' for timedelta(minutes=15); empty for None."""
    if value is None:
        return ""
    count = round(value.total_seconds() / 60)
    return f"{count} minute" if count == 1 else f"{count} minutes"


@register.filter
def plain(value) -> str:
    """A Decimal without trailing zeros: 2.50 -> '2.5', 4.0 -> '4'."""
    if value is None or value == "":
        return ""
    try:
        return format(Decimal(value).normalize(), "f")
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
