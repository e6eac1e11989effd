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
        # Imported once the models are loaded (Django's place for it): they register
        # handlers and checks, and use the auth models.
        from clinic import checks, i18n, roles, signals  # noqa: F401, PLC0415

        # For every app, not just this one: an app's permissions exist only once its
        # own post_migrate (auth's create_permissions) has run.
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="clinic-roles")
