from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils.formats import get_format
from django.utils.translation import get_language


def plain(value) -> str:
    """A decimal as people write it: 2.50 -> '2.5', 50.000 -> '50' (never '5E+1')."""
    if value is None or value == "":
        return ""
    try:
        return format(Decimal(value).normalize(), "f")
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


def format_amount(value) -> str:
    """plain() with the active language's decimal separator: 2.5 in English, 2,5 in French.
    (Django's own localisation would keep the trailing zeros: 2.50 mL.)"""
    text = plain(value)
    separator = _separator(get_language())
    return text.replace(".", separator) if separator != "." else text


@lru_cache(maxsize=8)
def _separator(language: str | None) -> str:
    """The language's decimal separator, looked up once (a recall page shows hundreds
    of amounts)."""
    return get_format("DECIMAL_SEPARATOR", language)


def int_or_none(value) -> int | None:
    """A posted whole number (a version, say), or None if it is missing or malformed."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
