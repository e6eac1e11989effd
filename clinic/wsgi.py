import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()

# Import the URLconf, and with it every view and WeasyPrint (about 1 s), when a worker
# starts rather than on the first request it serves.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
