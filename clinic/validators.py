"""Validators shared by the models of several apps."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

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
        raise ValidationError(gettext("This date is in the future."), code="future")


# Invisible controls that change the direction of the text around them: a value holding
# one could display the application's own words after it reversed (on screen, in the
# print view and in the signed PDF). Embeddings and overrides (U+202A–U+202E), isolates
# (U+2066–U+2069) and the two marks (U+200E, U+200F).
BIDI_CONTROLS = {
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}


def no_bidi_controls(value: str) -> None:
    """Free text may not carry invisible text-direction controls (see BIDI_CONTROLS)."""
    for position, char in enumerate(value or "", start=1):
        if char in BIDI_CONTROLS:
            raise ValidationError(
                gettext(
                    "This text holds an invisible text-direction character (U+%(code)04X "
                    "%(name)s, character %(position)d), which would display the text around it "
                    "reversed. Remove it (it often comes with text pasted from a message or a "
                    "web page)."
                ),
                code="bidi_control",
                params={"code": ord(char), "name": BIDI_CONTROLS[char], "position": position},
            )
