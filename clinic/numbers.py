from decimal import Decimal, InvalidOperation


def plain(value) -> str:
    """A decimal as people write it: 2.50 -> '2.5', 50.000 -> '50' (never '5E+1')."""
    if value is None or value == "":
        return ""
    try:
        return format(Decimal(value).normalize(), "f")
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


def int_or_none(value) -> int | None:
    """A posted whole number (a version, say), or None if it is missing or malformed."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
