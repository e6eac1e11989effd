"""Sign-in locks on top of django-axes.

axes locks one username on one address after LOGIN_FAILURE_LIMIT wrong attempts. Two
more rules close what that leaves open:

- attempts made while locked are not recorded (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
  off), so nobody can keep a colleague locked out by going on typing: the wait ends
  LOGIN_COOLOFF_MINUTES after the failure that locked;
- one address may fail LOGIN_ADDRESS_FAILURE_LIMIT times in the cool-off window across all
  usernames (guessing many accounts from one place), then every sign-in from it waits. The
  limit is well above one user's: a clinic's workstations often share one address.
"""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def address_failures(ip_address: str) -> int:
    """Failed sign-ins from one address, any username, within the cool-off window."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


def address_locked(request: HttpRequest) -> bool:
    AxesProxyHandler.update_request(request)
    return address_failures(request.axes_ip_address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


class SignInLockBackend(AxesStandaloneBackend):
    """axes' per-username lock, then the per-address one."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        super().authenticate(request, username=username, password=password, **kwargs)
        if address_locked(request):
            # Marked as axes' own refusal: the middleware answers with the lock page and
            # the refused attempt is not counted (it would extend the wait).
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("Too many failed sign-ins from this address")
