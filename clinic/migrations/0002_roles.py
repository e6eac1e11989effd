from django.db import migrations

ROLES = ["Practitioner", "Assistant", "Catalogue administrator"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    # Their permissions are assigned by clinic.roles.sync_role_permissions
    # after migrate, once every app's permissions exist.


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
