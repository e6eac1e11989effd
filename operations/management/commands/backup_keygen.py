"""manage.py backup_keygen PATH: a new age key pair for backups."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, generate_identity


class Command(BaseCommand):
    help = (
        "Write a new age secret key to PATH (mode 0600) and print its public key, the value "
        "for BACKUP_RECIPIENT. Keep PATH off the server: it is what restores backups."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path, **options):
        try:
            recipient = generate_identity(path)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Secret key written to {path} (keep it safe, off this server).")
        self.stdout.write(f"BACKUP_RECIPIENT={recipient}")
