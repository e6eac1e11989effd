"""Generate demo patients with ten years of history: manage.py seed_demo --patients N.

Writes through the owner's connection (MIGRATION_DATABASE_URL), in chunks; see
demo/data.py for what is made and why the triggers are off while it is written.
A second run adds N more demo patients; the long-history patient and the recall lot
are made once, by the first run.
"""

import multiprocessing
import sys
import time
from queue import Empty

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from tqdm import tqdm

from demo.catalogue import RECALL_LOT
from demo.data import (
    LONG_HISTORY_EMAIL,
    Generator,
    Writer,
    real_patients_exist,
    record_pdfs,
    render_long_history_pdfs,
)
from operations.dbroles import as_owner
from patients.models import Patient
from treatments.models import InjectionLot, TreatmentSession

CHUNK = 1000
PDF_WORKERS = 2
MAX_LONG_HISTORY = 3000  # sessions at least a day apart within the ten years


class Command(BaseCommand):
    help = "Generate demo patients with ten years of maps, sessions and follow-ups."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--random-seed", type=int, default=12)
        parser.add_argument(
            "--long-history",
            type=int,
            default=200,
            help="Signed sessions of the long-history patient (6 zones each).",
        )
        parser.add_argument(
            "--recall-uses",
            type=int,
            default=50_000,
            help="Injections drawing on lot DEMO-RECALL-1.",
        )
        parser.add_argument(
            "--allow-real-data",
            action="store_true",
            help=(
                "Add demo patients to a database that holds real ones. Not for a clinic "
                "in use: the run locks the clinical tables (pages wait until it ends) and "
                "adds demo compounds, mixtures, clinics and formulary rules."
            ),
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        patients = options["patients"]
        if patients < 0 or not 0 <= options["long_history"] <= MAX_LONG_HISTORY:
            raise CommandError(
                f"--patients must be 0 or more and --long-history between 0 and {MAX_LONG_HISTORY}."
            )
        if real_patients_exist() and not options["allow_real_data"]:
            raise CommandError(
                "This database holds patients that seed_demo did not make (their email is "
                "not at demo.mesochart.invalid): refusing to mix generated records with "
                "real ones. Use an empty database, or pass --allow-real-data."
            )
        with as_owner():
            self._check_owner()
            self._seed(patients, options, started)

    def _check_owner(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tableowner = current_user FROM pg_tables WHERE tablename = %s",
                ["treatments_treatmentsession"],
            )
            row = cursor.fetchone()
        if not row or not row[0]:
            raise CommandError(
                "seed_demo writes with the tables' triggers off and must connect as their "
                "owner: set MIGRATION_DATABASE_URL to the owner's connection (as for migrate)."
            )

    def _seed(self, patients: int, options: dict, started: float) -> None:
        recall_used = InjectionLot.objects.filter(lot__lot_number=RECALL_LOT).exists()
        long_history = options["long_history"]
        if Patient.objects.filter(email=LONG_HISTORY_EMAIL).exists():
            long_history = 0
        generator = Generator(
            seed=options["random_seed"],
            recall_uses=0 if recall_used else options["recall_uses"],
            total_patients=patients,
        )
        columns = {table.table: table.columns for table in generator.tables}
        context = multiprocessing.get_context("fork")
        with transaction.atomic(), connection.cursor() as cursor:
            writer = Writer(cursor, list(columns))
            generator.start_ids(*writer.begin())
            totals = self._write(context, generator, writer, columns, patients, long_history)
            writer.finish(totals["next_ids"], totals["chart_number"])
        # Also on a later run, when an earlier one stopped before drawing them all.
        missing = TreatmentSession.objects.filter(
            patient__email=LONG_HISTORY_EMAIL, status=TreatmentSession.Status.SIGNED, pdf=""
        )
        pdfs = self._pdfs(context) if missing.exists() else 0
        uses = InjectionLot.objects.filter(lot__lot_number=RECALL_LOT).count()
        counts = ", ".join(f"{table} {rows:,}" for table, rows in totals["counts"].items())
        self.stdout.write(
            f"seed_demo: {counts}; {pdfs} signed PDFs stored for the long-history "
            f"patient; lot {RECALL_LOT} used {uses:,} times; "
            f"{time.monotonic() - started:.1f} s"
        )

    def _pdfs(self, context) -> int:
        """The long-history patient's PDFs, drawn by two children (a core each) from the
        committed records, then recorded in one transaction."""
        patient = Patient.objects.get(email=LONG_HISTORY_EMAIL)
        queue = context.Queue()
        children = [
            context.Process(
                target=render_long_history_pdfs,
                args=(queue, patient.pk, part, PDF_WORKERS),
                daemon=True,
            )
            for part in range(PDF_WORKERS)
        ]
        for child in children:
            child.start()
        # One message from each child, in whatever order they finish.
        stored = []
        for _ in children:
            stored += self._receive(queue, *children)
        for child in children:
            child.join(timeout=10)
        with transaction.atomic(), connection.cursor() as cursor:
            record_pdfs(cursor, stored)
        return len(stored)

    def _receive(self, queue, *children):
        """The next message from the children; when none comes and every child has
        ended, one died without sending it, and the run stops."""
        while True:
            try:
                kind, size, payload = queue.get(timeout=10)
            except Empty:
                if any(child.is_alive() for child in children):
                    continue
                raise CommandError("a generating process stopped unexpectedly") from None
            if kind == "error":
                raise CommandError(f"generating the demo data failed:\n{payload}")
            if kind == "rows":
                return size, payload
            return payload

    def _write(self, context, generator, writer, columns, patients: int, long_history) -> dict:
        """Rows are made in a child process while this one COPYs the previous chunk:
        Python and PostgreSQL each keep a core busy. Two chunks in flight at most."""
        queue = context.Queue(maxsize=2)
        child = context.Process(
            target=generator.produce, args=(queue, patients, CHUNK, long_history), daemon=True
        )
        child.start()
        try:
            with tqdm(total=patients, unit="patient", file=sys.stderr, desc="seed_demo") as bar:
                while True:
                    message = self._receive(queue, child)
                    if not isinstance(message, tuple):
                        return message  # the totals
                    size, rows = message
                    writer.copy(rows, columns)
                    bar.update(size)
        finally:
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
