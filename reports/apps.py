from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """What reads both apps: the dashboard, the access-log search, the FHIR export. No
    models, so nothing of it appears in the console."""

    name = "reports"
