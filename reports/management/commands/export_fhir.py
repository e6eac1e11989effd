"""Export records as FHIR R4: one patient's Bundle, or every patient as Bulk Data NDJSON."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from patients.models import Patient
from reports.fhir import bundle_json, patient_bundle, patient_resources

CHUNK = 500


class Command(BaseCommand):
    help = (
        "--patient CHART: that patient's Bundle (stdout or --output FILE). Without it: every "
        "patient as one NDJSON file per resource type in --output-dir."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patient", help="chart number")
        parser.add_argument("--output", help="file for the Bundle (default: stdout)")
        parser.add_argument("--output-dir", help="folder for the NDJSON files")
        parser.add_argument("--force", action="store_true", help="overwrite existing files")

    def handle(self, *args, patient=None, output=None, output_dir=None, force=False, **options):
        if patient:
            self._one(patient, output, force)
        else:
            if not output_dir:
                raise CommandError("Give --patient CHART, or --output-dir for every patient.")
            count = self._all(Path(output_dir), force)
            self.stderr.write(f"Exported {count} patients to {output_dir}.")

    def _one(self, chart_number: str, output: str | None, force: bool) -> None:
        try:
            patient = Patient.objects.get(chart_number=chart_number)
        except Patient.DoesNotExist:
            raise CommandError(f"No patient with chart number {chart_number}.") from None
        text = bundle_json(patient_bundle(patient)) + "\n"
        if output is None:
            sys.stdout.write(text)
            return
        path = Path(output)
        if path.exists() and not force:
            raise CommandError(f"{path} exists; add --force to overwrite it.")
        path.write_text(text, encoding="utf-8")

    def _all(self, folder: Path, force: bool) -> int:
        folder.mkdir(parents=True, exist_ok=True)
        if not force and any(folder.glob("*.ndjson")):
            raise CommandError(f"{folder} already holds .ndjson files; add --force to overwrite.")
        for old in folder.glob("*.ndjson"):
            old.unlink()
        files: dict = {}
        shared: set = set()  # lots and practitioners recur across patients: written once
        count = 0
        try:
            # iterator(): a chunk of patients in memory at a time, whatever the clinic's size.
            for patient in Patient.objects.order_by("id").iterator(chunk_size=CHUNK):
                count += 1
                for resource in patient_resources(patient):
                    kind = resource["resourceType"]
                    if kind in ("Medication", "Practitioner"):
                        if resource["id"] in shared:
                            continue
                        shared.add(resource["id"])
                    if kind not in files:
                        files[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
                    files[kind].write(json.dumps(resource, ensure_ascii=False) + "\n")
        finally:
            for handle in files.values():
                handle.close()
        return count
