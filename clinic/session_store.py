"""The session engine: the database store, renewed at most once a minute.

Idle sign-out is the session row's expiry: a session IDLE_TIMEOUT_MINUTES
(SESSION_COOKIE_AGE) without a request ends. Django's way to keep it alive,
SESSION_SAVE_EVERY_REQUEST, rewrites the row on every request, so every page (even one
that only reads) wrote to the database. Here the row is rewritten only when at least
RENEW_AFTER has passed since it was last written, and it is written with RENEW_AFTER
more than the idle time-out:

    written at w:  expire_date = w + SESSION_COOKIE_AGE + RENEW_AFTER
    renewed when:  expire_date < now + SESSION_COOKIE_AGE   (i.e. now > w + RENEW_AFTER)

So after a request at t the row expires between t + SESSION_COOKIE_AGE and
t + SESSION_COOKIE_AGE + RENEW_AFTER: the idle sign-out never comes before
IDLE_TIMEOUT_MINUTES of inactivity, and at most RENEW_AFTER (one minute) after it.
A session whose data changes (sign-in, a message, the second factor) is saved as always.
"""

from datetime import timedelta

from django.contrib.sessions.backends import db
from django.utils import timezone

# The granularity of the idle time-out, and the longest a session row goes unwritten
# while its user is active.
RENEW_AFTER = timedelta(minutes=1)


class SessionStore(db.SessionStore):
    def _renew_if_due(self, row) -> None:
        if row is not None and row.expire_date < timezone.now() + timedelta(
            seconds=self.get_session_cookie_age()
        ):
            self.modified = True  # SessionMiddleware saves it, with a new expiry

    def load(self):
        row = self._get_session_from_db()
        self._renew_if_due(row)
        return self.decode(row.session_data) if row else {}

    async def aload(self):
        row = await self._aget_session_from_db()
        self._renew_if_due(row)
        return self.decode(row.session_data) if row else {}

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.expire_date += RENEW_AFTER
        return row
