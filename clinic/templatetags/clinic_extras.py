import re
from datetime import timedelta

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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


# A break opportunity after every 20 characters of an unbroken run (longer than any
# compound's name): a long token wraps on paper at a cost WeasyPrint bears. CSS
# overflow-wrap:anywhere instead made it try every character: minutes for a long note.
_LONG_RUN = re.compile(r"(\S{20})(?=\S)")


@register.filter
def typed(value) -> SafeString:
    """Text a person typed, for print views and PDFs: escaped, its lines kept, long
    unbroken runs breakable, and isolated in <bdi> so that direction controls in it
    cannot reorder the words around it."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    # Cut the raw text, then escape each piece: a break never splits an entity. (NUL is
    # a safe mark: PostgreSQL refuses it in text, so no stored value holds one.)
    pieces = _LONG_RUN.sub("\\1\x00", text).split("\x00")
    html = "<wbr>".join(escape(piece) for piece in pieces).replace("\n", "<br>")
    return mark_safe(f"<bdi>{html}</bdi>")  # noqa: S308 (every piece escaped)
