"""The product's URLs plus the baseline page the benchmark compares every page with."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.http import require_GET

from clinic.urls import handler400, handler500
from clinic.urls import urlpatterns as product_urls

BASELINE_PATH = "/bench/baseline/"
BASELINE_MARKER = 'id="bench-baseline"'

# Rendered through the same engine and base template as every page (navigation, messages,
# the signed-in user's menu), with one small value from the database.
_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Baseline{% endblock %}'
    '{% block content %}<p id="bench-baseline">{{ answer }}</p>{% endblock %}'
)


@require_GET
def baseline(request: HttpRequest) -> HttpResponse:
    """A signed-in page that runs one trivial query and renders the base template: the
    least any page of the stack costs (middleware, session, sign-in, one query, template)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (answer,) = cursor.fetchone()
    return HttpResponse(_TEMPLATE.render({"answer": answer}, request))


urlpatterns = [path(BASELINE_PATH.strip("/") + "/", baseline), *product_urls]
__all__ = ["handler400", "handler500", "urlpatterns"]
