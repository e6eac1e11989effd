from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = _("Treatments")

    def ready(self) -> None:
        # Imported once the models are loaded (Django's place for it): what treatments
        # adds to a patient's chart and history, which patients cannot import.
        from treatments import record  # noqa: PLC0415

        record.register()
