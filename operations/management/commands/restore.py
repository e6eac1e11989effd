"""manage.py restore ARCHIVE: decrypt, verify, load into an EMPTY database, check."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from operations.backup import BackupError, Target, identities_from_file, restore
from operations.backup import create_database as _create


class Command(BaseCommand):
    help = (
        "Restore an archive written by `backup` into the configured database, which must "
        "be empty, and the media storage; then verify every checksum. Needs "
        "BACKUP_IDENTITY_FILE (or --identity)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="The .tar.age archive")
        parser.add_argument(
            "--identity",
            help="File holding the age secret key (default: $BACKUP_IDENTITY_FILE)",
        )
        parser.add_argument(
            "--database-url",
            help="Restore into this (empty) database instead of the configured one",
        )
        parser.add_argument(
            "--create-database",
            action="store_true",
            help="Create the target database first when it does not exist",
        )

    def handle(
        self, *args, archive, identity=None, database_url=None, create_database=False, **options
    ):
        try:
            identities = identities_from_file(identity)
            if database_url:
                target = Target.from_url(database_url)
            else:
                target = Target.owner_of(connection.settings_dict)
                connection.close()
            if create_database and _create(target):
                self.stdout.write(f"Created the database {target.name!r}")
            result = restore(archive, target, identities)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored {archive} (backup of {result.created_at}) into {target.name!r}\n"
            f"  database: {result.tables} tables, {result.rows:,} rows\n"
            f"  media: {result.files} files, {result.file_bytes:,} bytes\n"
            f"  checked: {result.pdfs_checked} signed session PDFs, "
            f"{result.photos_checked} photos, "
            f"{result.amended_pdfs_checked} summaries as amended\n"
            f"  time: {result.seconds:.1f} s"
        )
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"  PROBLEM: {problem}")
            raise CommandError(
                f"Restore finished but {len(result.problems)} check(s) failed (listed above)."
            )
        self.stdout.write("All checksums and row counts match the backup.")
        self.stdout.write(
            "The dump carries no privileges: run `manage.py migrate` against this database "
            "(as its owner) before the application connects, to grant its role."
        )
