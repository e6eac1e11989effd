"""Numbers as the page's language writes them."""

from django.utils.formats import get_format

from clinic.numbers import plain


def amount(value) -> str:
    """plain() with the active language's decimal separator: 2.5 in English, 2,5 in French.
    (Django's own localisation would keep the trailing zeros: 2.50 mL.)"""
    text = plain(value)
    separator = get_format("DECIMAL_SEPARATOR")
    return text.replace(".", separator) if separator != "." else text
