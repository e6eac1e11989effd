"""Dates for tests, counted from whatever today is: the suite must pass on any date.

A test that needs "today" or "now" asks for it here (or freezes the clock with the
`now` fixture) instead of writing a calendar date that will one day be in the past,
or past a lot's expiry, or more than a year back.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def today() -> date:
    return timezone.localdate()


def days_from_today(days: int) -> date:
    """Negative for the past."""
    return today() + timedelta(days=days)


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """That day at that time on the clinic's clock (settings.TIME_ZONE), time-zone aware."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def datetime_input(when: datetime) -> str:
    """As a datetime-local input posts it."""
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def shown(when: datetime) -> str:
    """As the pages and summaries show a date and time."""
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
