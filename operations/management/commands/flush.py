"""Django's flush, connected as the owner: the application may not TRUNCATE."""

from django.core.management.commands.flush import Command as FlushCommand

from operations.dbroles import as_owner


class Command(FlushCommand):
    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
