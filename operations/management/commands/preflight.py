"""Check what `make run` needs before starting, with one-line explanations."""

import socket

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection

from operations.storage import media_bucket_problem


class Command(BaseCommand):
    help = (
        "Check that the database answers, that the media bucket does (MEDIA_STORAGE=s3) "
        "and, with --port, that the port is free."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, help="TCP port the server will listen on")

    def handle(self, *args, port=None, **options):
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            settings_dict = connection.settings_dict
            options = settings_dict.get("OPTIONS", {})
            where = settings_dict.get("HOST") or options.get("host") or "localhost"
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
            raise CommandError(
                f"Cannot reach the database {settings_dict.get('NAME')!r} at {where}: {reason}. "
                "Check DATABASE_URL, or unset it to use the local PostgreSQL."
            ) from None
        problem = media_bucket_problem(default_storage)
        if problem:
            raise CommandError(problem)
        if port is not None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    raise CommandError(
                        f"Port {port} is already in use. Stop the other server or run "
                        f"`make run PORT=<another port>`."
                    ) from None
