from django.core.checks import Error, register

from clinic.roles import declared_permission_problems


@register()
def role_permissions_exist(app_configs, **kwargs):
    return [
        Error(
            f"Role permission {spec!r} does not exist",
            hint="Fix the codename in clinic/roles.py ROLE_PERMISSIONS.",
            id="clinic.E001",
        )
        for spec in declared_permission_problems()
    ]
