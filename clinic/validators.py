"""Validators shared by the models of several apps."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

# Clocks of the workstation and the server differ a little; a time typed a few
# minutes ahead is still "now".
CLOCK_TOLERANCE = timedelta(minutes=15)


def not_in_future(value) -> None:
    """Dates after today, and times more than CLOCK_TOLERANCE ahead, are refused."""
    if isinstance(value, datetime):
        future = value > timezone.now() + CLOCK_TOLERANCE
    else:
        future = value > timezone.localdate()
    if future:
        raise ValidationError("This date is in the future.", code="future")
