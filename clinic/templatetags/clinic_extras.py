import re
from datetime import timedelta

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from clinic.numbers import format_amount, plain

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> str:
    """'15 minutes' for timedelta(minutes=15); empty for None."""
    if value is None:
        return ""
    count = round(value.total_seconds() / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


register.filter("plain", plain)
register.filter("amount", format_amount)


# A break opportunity after every 20 characters of an unbroken run (longer than any
# compound's name): a long token wraps on paper at a cost WeasyPrint bears. CSS
# overflow-wrap:anywhere instead made it try every character: minutes for a long note.
_LONG_RUN = re.compile(r"(\S{20})(?=\S)")


@register.filter
def typed(value) -> SafeString:
    """Text a person typed, for print views and PDFs: escaped, its lines kept, long
    unbroken runs breakable, and isolated in <bdi> so that direction controls in it
    cannot reorder the words around it."""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = format_html(
        "{}{}",
        _breakable(lines[0]),
        format_html_join("", "<br>{}", ((_breakable(line),) for line in lines[1:])),
    )
    return format_html("<bdi>{}</bdi>", body)


def _breakable(line: str) -> SafeString:
    """One line, escaped, with <wbr> inside its long runs. The raw text is cut first and
    each piece escaped, so a break never splits an entity. (NUL is a safe mark: PostgreSQL
    refuses it in text, so no stored value holds one.)"""
    first, *rest = _LONG_RUN.sub("\\1\x00", line).split("\x00")
    return format_html("{}{}", first, format_html_join("", "<wbr>{}", ((piece,) for piece in rest)))
