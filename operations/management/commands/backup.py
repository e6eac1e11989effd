"""manage.py backup [--output PATH]: one encrypted archive of the database and the media."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from operations.backup import BackupError, Target, backup, default_output


class Command(BaseCommand):
    help = (
        "Write one age-encrypted archive (.tar.age) holding a pg_dump of the database, "
        "every media file and a manifest of SHA-256 checksums. Needs BACKUP_RECIPIENT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="Archive to write (default: var/backups/mesochart-<UTC time>.tar.age)",
        )

    def handle(self, *args, output=None, **options):
        var_dir = Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var"))
        output = output or default_output(var_dir)
        try:
            result = backup(Target.owner_of(connection.settings_dict), output)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backup written: {result.path}\n"
            f"  archive {result.archive_bytes:,} bytes (encrypted)\n"
            f"  database: {result.tables} tables, {result.rows:,} rows, "
            f"dump {result.dump_bytes:,} bytes\n"
            f"  media: {result.files} files, {result.file_bytes:,} bytes\n"
            f"  time: {result.seconds:.1f} s"
        )
