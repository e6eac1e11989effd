"""Print the SQL that migrate runs to give the application's role its privileges."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from operations.dbroles import grant_statements


class Command(BaseCommand):
    help = (
        "Print the GRANT statements migrate runs as the owner (MIGRATION_DATABASE_URL) "
        "for the application's role (DATABASE_URL)."
    )

    def handle(self, *args, **options):
        owner = settings.MIGRATION_DATABASE["USER"]
        for statement in grant_statements(connection, owner, settings.DATABASE_APP_ROLE):
            self.stdout.write(f"{statement};")
