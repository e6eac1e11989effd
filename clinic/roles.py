"""The clinic's roles (Django groups) and the permissions each one carries.

The groups are created by a data migration; their permissions are kept in step
with ROLE_PERMISSIONS after every migrate, so a later app only adds its
codenames here (for example "patients.add_patient") and migrates.
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission

from clinic.access import (
    ACCESS_CONSOLE,
    CHANGE_CLINICAL,
    CHANGE_DEMOGRAPHICS,
    LIFT_LOT_QUARANTINE,
    MANAGE_CATALOGUE,
    QUARANTINE_LOT,
    RECORD_INJECTIONS,
    VIEW_AUDIT,
    VIEW_CLINICAL,
    VIEW_DEMOGRAPHICS,
    VIEW_SESSION_LIST,
)

PRACTITIONER = "Practitioner"
ASSISTANT = "Assistant"
CATALOGUE_ADMIN = "Catalogue administrator"
PRIVACY_OFFICER = "Privacy officer"

# The catalogue console's models. Nobody gets delete: records refer to these rows.
CATALOGUE_MODELS = [
    "treatments.compound",
    "treatments.compoundlot",
    "treatments.formula",
    "treatments.formulaingredient",
    "treatments.formularyrule",
    "treatments.needlerule",
    "treatments.bodyregion",
    "treatments.indication",
    "treatments.compoundcategory",
    "clinic.jurisdiction",
    "clinic.location",
]


def _model_perms(actions: list[str], models: list[str]) -> list[str]:
    specs = []
    for label in models:
        app_label, model = label.split(".")
        specs += [f"{app_label}.{action}_{model}" for action in actions]
    return specs


ROLE_PERMISSIONS: dict[str, list[str]] = {
    PRACTITIONER: [
        ACCESS_CONSOLE,  # to read the catalogue; the admin shows no change rights
        VIEW_CLINICAL,
        CHANGE_CLINICAL,
        RECORD_INJECTIONS,
        VIEW_DEMOGRAPHICS,
        CHANGE_DEMOGRAPHICS,
        VIEW_SESSION_LIST,
        "patients.view_consenttemplate",
        *_model_perms(["view"], CATALOGUE_MODELS),
        # A practitioner who learns of a bad lot stops it at once (from its recall page);
        # lifting the quarantine is the catalogue administrator's call.
        QUARANTINE_LOT,
    ],
    ASSISTANT: [
        VIEW_DEMOGRAPHICS,
        CHANGE_DEMOGRAPHICS,
        VIEW_SESSION_LIST,
    ],
    CATALOGUE_ADMIN: [
        ACCESS_CONSOLE,
        MANAGE_CATALOGUE,
        "patients.view_consenttemplate",
        "patients.add_consenttemplate",
        *_model_perms(["view", "add", "change"], CATALOGUE_MODELS),
        QUARANTINE_LOT,
        LIFT_LOT_QUARANTINE,
    ],
    # Reads the logs (the clinic-wide audit search, the access log and the sign-in
    # records in the console), never the records themselves.
    PRIVACY_OFFICER: [
        VIEW_AUDIT,
        ACCESS_CONSOLE,
        "clinic.view_accesslog",
        "clinic.view_signinlog",
        *_model_perms(["view"], ["axes.accessattempt", "axes.accessfailurelog"]),
    ],
}


def _split(spec: str) -> tuple[str, str]:
    app_label, _, codename = spec.partition(".")
    return app_label, codename


def sync_role_permissions(*, verbosity: int = 1, **kwargs) -> None:
    """Give each role exactly the permissions ROLE_PERMISSIONS lists (post_migrate)."""
    for role, specs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for spec in specs:
            app_label, codename = _split(spec)
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def declared_permission_problems() -> list[str]:
    """Specs in ROLE_PERMISSIONS that name no permission of any installed model."""
    known: set[str] = set()
    for model in global_apps.get_models(include_auto_created=False):
        opts = model._meta
        codenames = [f"{action}_{opts.model_name}" for action in opts.default_permissions]
        codenames += [codename for codename, _ in opts.permissions]
        known.update(f"{opts.app_label}.{codename}" for codename in codenames)
    return sorted({spec for specs in ROLE_PERMISSIONS.values() for spec in specs} - known)
