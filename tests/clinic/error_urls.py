"""The application's URLconf plus one page that fails, for the error-page tests."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from clinic.urls import handler500, urlpatterns  # noqa: F401  (handler500: Django reads it)


@login_not_required
def boom(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [*urlpatterns, path("boom/", boom)]
