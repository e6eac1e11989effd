from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OperationsConfig(AppConfig):
    """Running the clinic: the local PostgreSQL, the database roles, backup and restore,
    the checks before serving (preflight), migrate and flush as the owner."""

    name = "operations"

    def ready(self) -> None:
        # Imported once the models are loaded (Django's place for it): it uses pghistory's.
        from operations import dbroles  # noqa: PLC0415

        # Right after pgtrigger's own handler, which (re)installs every trigger.
        post_migrate.connect(
            dbroles.secure_database,
            sender=self.apps.get_app_config("pgtrigger"),
            dispatch_uid="clinic-dbroles",
        )
