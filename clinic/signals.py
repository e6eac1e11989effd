from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

SIGNED_IN_AT = "clinic_signed_in_at"


@receiver(user_logged_in)
def remember_sign_in_time(sender, request, user, **kwargs) -> None:
    # Read by SignInLifetimeMiddleware to cap how long one sign-in lasts.
    request.session[SIGNED_IN_AT] = timezone.now().timestamp()
