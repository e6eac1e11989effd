"""Reading a birth date typed into the search box, in whichever order it was written.

"1984-03-07", "17/03/1984" and "3/17/1984" each have one reading; "03/04/1984" has two
(3 April and 4 March) and the search shows both; "7 March 1984", "March 7, 1984" and
"7 mars 1984" name the month; "March 1984" and "1984" alone are a month and a year.
"""

import re
from calendar import monthrange
from datetime import date

from django.db.models import Q
from django.utils import timezone

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "janvier", "jan", "janv"),
            ("february", "fevrier", "feb", "fev", "fevr"),
            ("march", "mars", "mar"),
            ("april", "avril", "apr", "avr"),
            ("may", "mai"),
            ("june", "juin", "jun"),
            ("july", "juillet", "jul", "juil"),
            ("august", "aout", "aug"),
            ("september", "septembre", "sep", "sept"),
            ("october", "octobre", "oct"),
            ("november", "novembre", "nov"),
            ("december", "decembre", "dec"),
        ],
        start=1,
    )
    for name in names
}
NUMERIC = re.compile(r"^(\d{1,4})[-/. ]+(\d{1,2})[-/. ]+(\d{1,4})$")
# 7th, 1st, 1er (French); "March 7, 1984"
TOKEN = re.compile(r"(\d+)(?:st|nd|rd|th|er)?|([^\W\d_]+)")
EARLIEST_YEAR = 1900


def _year(text: str) -> int | None:
    """A four-digit year, or a two-digit one read as the latest past year ending so."""
    value = int(text)
    this_year = timezone.localdate().year
    if len(text) == 2:
        value += 2000 if 2000 + value <= this_year else 1900
    elif len(text) != 4:
        return None
    return value if EARLIEST_YEAR <= value <= this_year else None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _numeric_dates(match: re.Match) -> set[date]:
    first, second, third = match.groups()
    if len(first) == 4:  # ISO order; nobody writes year, day, month
        year = _year(first)
        return {d for d in [_valid(year, int(second), int(third))] if year and d}
    year = _year(third)
    if year is None:
        return set()
    readings = {
        _valid(year, int(second), int(first)),  # day first: 17/03/1984
        _valid(year, int(first), int(second)),  # month first: 3/17/1984
    }
    return {d for d in readings if d}


def _named_month(text: str) -> Q | None:
    numbers, months = [], []
    for number, word in TOKEN.findall(text):
        if word:
            if word not in MONTHS:
                return None
            months.append(MONTHS[word])
        else:
            numbers.append(number)
    if len(months) != 1 or not 1 <= len(numbers) <= 2:
        return None
    years = [n for n in numbers if len(n) == 4]
    days = [int(n) for n in numbers if len(n) <= 2]
    year = _year(years[0]) if len(years) == 1 else None
    if year is None or len(days) != len(numbers) - 1:
        return None
    if not days:
        last = monthrange(year, months[0])[1]
        return Q(date_of_birth__range=(date(year, months[0], 1), date(year, months[0], last)))
    born = _valid(year, months[0], days[0])
    return Q(date_of_birth=born) if born else None


def birth_date_filter(term: str, *, year_alone: bool = False) -> Q | None:
    """A filter on date_of_birth if `term` (folded: lower case, no accents) reads as a
    date (every reading of it), or as a month of a year; with `year_alone`, four digits
    that can be a birth year as that year. None when it is no date."""
    term = term.strip()
    if year_alone:
        year = _year(term) if re.fullmatch(r"\d{4}", term) else None
        if year is None:
            return None
        return Q(date_of_birth__range=(date(year, 1, 1), date(year, 12, 31)))
    match = NUMERIC.match(term)
    if match:
        born = _numeric_dates(match)
        return Q(date_of_birth__in=sorted(born)) if born else None
    if re.search(r"[^\W\d_]", term) and re.search(r"\d", term):
        return _named_month(term)
    return None
