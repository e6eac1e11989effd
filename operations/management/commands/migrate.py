"""Django's migrate, connected as the owner of the tables (operations/dbroles.py)."""

from django.core.management.commands.migrate import Command as MigrateCommand

from operations.dbroles import as_owner


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
