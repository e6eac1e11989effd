from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ClinicAdminConfig(AdminConfig):
    """The Django admin, as MesoChart's catalogue console."""

    default_site = "clinic.admin_site.ConsoleSite"


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self) -> None:
        from clinic import checks, dbroles, i18n, roles, signals  # noqa: F401  (registers handlers)

        # For every app, not just this one: an app's permissions exist only once its
        # own post_migrate (auth's create_permissions) has run.
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="clinic-roles")
        # Right after pgtrigger's own handler, which (re)installs every trigger.
        post_migrate.connect(
            dbroles.secure_database,
            sender=self.apps.get_app_config("pgtrigger"),
            dispatch_uid="clinic-dbroles",
        )
