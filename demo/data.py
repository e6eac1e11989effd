"""Ten years of generated clinic records for demos and benchmarks (manage.py seed_demo).

Rows are made a chunk of patients at a time in a child process and written with COPY
from in-memory buffers, so memory stays bounded whatever the size. All of it is one
transaction, as the owner of the tables (Writer), so a failure leaves nothing behind:

- the tables' user triggers are off until the commit. pghistory's event triggers would
  copy every generated row into its event table and double the work: generated rows have
  no history, which starts with the first change made in the application. The
  frozen-signed triggers refuse injections under a signed session, so a signed session
  could otherwise only be written as a draft and then updated.
- foreign keys and plain indexes are dropped and made again at the end from the
  definitions PostgreSQL gives: one pass checks every reference and builds each index,
  far cheaper than row by row. Primary keys, unique and check constraints stay on.
- ALTER TABLE locks the tables until the commit: the application waits, and the ids
  taken from the sequences at the start cannot be taken by anyone else.

Signed sessions in bulk have no stored PDF (drawing a million is out of the question):
their `pdf` is empty, which the PDF view answers with a 404 (never a PDF drawn afresh
as if it were the signed one) and the restore check lists as missing. The long-history
showcase patient's sessions get real PDFs from treatments.summary, stored as signing
stores them.
"""

from __future__ import annotations

import hashlib
import io
import random
import traceback
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from PIL import Image, ImageDraw

from demo import names
from demo.catalogue import RESTRICTED_NOTE, Catalogue, ensure_catalogue
from patients.models import (
    CONTRAINDICATION_FLAGS,
    AllergyStatus,
    Consent,
    ConsentKind,
    ConsentTemplate,
    Measurement,
    Patient,
    Photo,
    chart_number_for,
    photo_upload_to,
)
from treatments.models import (
    BodyRegion,
    Checklist,
    Injection,
    InjectionLot,
    MapZone,
    NeedleRule,
    SideEffect,
    TreatmentMap,
    TreatmentSession,
)
from treatments.models.maps import MAP_SCHEDULE
from treatments.models.sessions import LOT_TOTALS_OF, attention_from_sql
from treatments.summary import render_pdf, with_summary_data

DEMO_DOMAIN = "demo.mesochart.invalid"
LONG_HISTORY_EMAIL = f"long-history@{DEMO_DOMAIN}"
HISTORY_YEARS = 10
PHOTO_EVERY = 500  # one patient in 500 has before/after photos
PRACTITIONERS = [
    ("demo-practitioner-1", "Hélène", "Bérubé"),
    ("demo-practitioner-2", "Marc-André", "Lefèbvre"),
    ("demo-practitioner-3", "Ana", "Gonçalves"),
]

REGIONS_BY_INDICATION = {
    "cellulite": [
        "thigh_outer_right",
        "thigh_outer_left",
        "thigh_back_right",
        "thigh_back_left",
        "buttock_right",
        "buttock_left",
        "thigh_front_right",
        "thigh_front_left",
        "thigh_inner_right",
        "thigh_inner_left",
        "knee_right",
        "knee_left",
    ],
    "localized_fat": ["abdomen_upper", "abdomen_lower", "flank_right", "flank_left"],
    "weight_loss": [
        "abdomen_upper",
        "abdomen_lower",
        "flank_right",
        "flank_left",
        "thigh_outer_right",
        "thigh_outer_left",
        "arm_right",
        "arm_left",
    ],
    "anti_aging": [
        "forehead",
        "cheek_right",
        "cheek_left",
        "neck_front",
        "decollete",
        "eye_right",
        "eye_left",
    ],
    "wrinkles_face_lift": [
        "forehead",
        "eye_right",
        "eye_left",
        "nasolabial_right",
        "nasolabial_left",
        "perioral",
        "jawline_right",
        "jawline_left",
    ],
    "chronic_pain": [
        "neck_back",
        "shoulder_left",
        "shoulder_right",
        "upper_back",
        "lower_back",
        "elbow_left",
        "elbow_right",
    ],
    "injury_repair": [
        "knee_right",
        "knee_left",
        "elbow_right",
        "elbow_left",
        "shoulder_right",
        "shoulder_left",
    ],
}
INDICATION_WEIGHTS = {
    "cellulite": 30,
    "localized_fat": 20,
    "weight_loss": 10,
    "anti_aging": 12,
    "wrinkles_face_lift": 10,
    "chronic_pain": 12,
    "injury_repair": 6,
}
# indication -> (site, landmark, unit, typical value): the series measured standing.
MEASURED = {
    "cellulite": ("Right thigh", "15 cm above the patella", "cm", 62),
    "localized_fat": ("Waist", "At the navel", "cm", 88),
    "weight_loss": ("Body weight", "", "kg", 78),
}
SIDE_EFFECT_KINDS = (
    ["burning"] * 40
    + ["swelling"] * 25
    + ["soreness"] * 20
    + ["discoloration"] * 12
    + ["other"] * 2
    + ["infection"]
)
# kind -> (usual duration range in minutes, past-its-course duration in minutes)
COURSE = {
    "burning": ((10, 20), 45),
    "swelling": ((1440, 5 * 1440), 8 * 1440),
    "soreness": ((2 * 1440, 6 * 1440), 10 * 1440),
    "discoloration": ((4 * 1440, 12 * 1440), 20 * 1440),
    "infection": ((7 * 1440, 10 * 1440), None),
    "other": ((60, 600), None),
}
CHECKLIST_TICKED = "\t".join(["t", ""] * len(Checklist.ITEMS))  # all ticked, no reason
SEXES = ["F"] * 78 + ["M"] * 20 + ["X", "U"]
PHOTOTYPES = [1] * 8 + [2] * 25 + [3] * 30 + [4] * 20 + [5] * 10 + [6] * 7


def real_patients_exist() -> bool:
    """Any patient not made by seed_demo (a real one can never have an .invalid address)."""
    return Patient.objects.exclude(email__iendswith="@" + DEMO_DOMAIN).exists()


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\n" in value or "\t" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\n", "\\n")
                .replace("\t", "\\t")
                .replace("\r", "\\r")
            )
        return value
    return str(value)


class Table:
    """One table's rows for the chunk being made, in COPY's text format. Ids are given
    here, from the first id the writer took from the table's sequence."""

    def __init__(self, model, columns: list[str], *, derived: tuple[str, ...] = ()):
        """`derived`: columns left to Writer.finish (what the table's triggers write)."""
        self.table = model._meta.db_table
        expected = [
            f.column
            for f in model._meta.concrete_fields
            if not f.generated and f.column not in derived
        ]
        if sorted(expected) != sorted(columns):
            raise RuntimeError(
                f"seed_demo knows the columns of {self.table} as {sorted(columns)} but the "
                f"model has {sorted(expected)}: update demo/data.py"
            )
        self.columns = columns
        self.buffer = io.StringIO()
        self.total = 0
        self.next_id = 0

    def add(self, *values) -> None:
        self.buffer.write("\t".join(map(_copy_value, values)))
        self.buffer.write("\n")

    def add_line(self, line: str) -> None:
        self.buffer.write(line)
        self.buffer.write("\n")

    def new_id(self) -> int:
        self.next_id += 1
        self.total += 1
        return self.next_id - 1

    def take(self) -> str:
        rows, self.buffer = self.buffer.getvalue(), io.StringIO()
        return rows


@dataclass
class Zone:
    id: int
    region: BodyRegion
    formula: tuple
    needle: Decimal
    override: str
    gauge: int
    depth: Decimal
    technique: str
    volume: Decimal
    restricted: bool
    points: int = 40  # planned; a session's points vary around it
    head: str = ""  # the injection's columns before the volume, and after the points
    volumes: list = None
    tail: str = ""


class Generator:
    """Makes the rows. Deterministic for a given random seed and day."""

    def __init__(self, *, seed: int, recall_uses: int, total_patients: int):
        self.rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate()
        self.start = self.now - timedelta(days=HISTORY_YEARS * 365)
        self.catalogue: Catalogue = ensure_catalogue(first_year=self.start.year, today=self.today)
        self.regions = {r.code: r for r in BodyRegion.objects.all()}
        self.needles = {r.phototype: r for r in NeedleRule.objects.all()}
        self.practitioners = self._practitioners()
        self.templates = {
            kind: sorted(ConsentTemplate.objects.filter(kind=kind), key=lambda t: t.version)
            for kind in ConsentKind.values
        }
        self.signature = self._signature_file()
        self.recall_target = recall_uses
        self.recall_used = 0
        self.total_patients = max(total_patients, 1)
        self.done = 0
        self.patient = Table(
            Patient,
            [
                "id",
                "chart_number",
                "first_name",
                "last_name",
                "date_of_birth",
                "sex",
                "phone",
                "email",
                "address",
                "phototype",
                "allergy_status",
                "allergies",
                "current_medications",
                "medical_history",
                *CONTRAINDICATION_FLAGS,
                "contraindication_notes",
                "archived",
                "archived_at",
                "created_at",
                "updated_at",
                "version",
                "preferred_language",
            ],
        )
        self.consent = Table(
            Consent,
            [
                "id",
                "patient_id",
                "template_id",
                "signed_on",
                "signed_by",
                "method",
                "signature",
                "recorded_by_id",
                "recorded_at",
                "withdrawn_at",
                "withdrawn_by_id",
                "withdrawal_reason",
                "wording_language",
            ],
        )
        self.measurement = Table(
            Measurement,
            [
                "id",
                "patient_id",
                "site",
                "landmark",
                "value",
                "unit",
                "posture",
                "measured_on",
                "notes",
                "recorded_by_id",
                "recorded_at",
            ],
        )
        self.photo = Table(
            Photo,
            [
                "id",
                "patient_id",
                "taken_at",
                "region",
                "view",
                "posture",
                "phase",
                "notes",
                "image",
                "thumbnail",
                "width",
                "height",
                "sha256",
                "uploaded_by_id",
                "uploaded_at",
                "archived",
            ],
        )
        self.map = Table(
            TreatmentMap,
            [
                "id",
                "patient_id",
                "indication_id",
                "location_id",
                "mapped_standing",
                "mapped_at",
                "planned_sessions",
                "days_between",
                "status",
                "notes",
                "created_by_id",
                "created_at",
                "version",
            ],
        )
        self.zone = Table(
            MapZone,
            [
                "id",
                "treatment_map_id",
                "region_id",
                "needle_length_mm",
                "needle_override_reason",
                "gauge",
                "depth_mm",
                "technique",
                "spacing_mm",
                "formula_id",
                "planned_volume_ml",
                "planned_points",
                "restricted_acknowledged",
                "restricted_note",
                "baseline_id",
            ],
        )
        self.session = Table(
            TreatmentSession,
            [
                "id",
                "patient_id",
                "treatment_map_id",
                "location_id",
                "practitioner_id",
                "performed_at",
                *Checklist.FIELDS,
                "immediate_reactions",
                "aftercare",
                "next_appointment",
                "notes",
                "status",
                "version",
                "created_at",
                "updated_at",
                "signed_at",
                "signed_by_id",
                "pdf",
                "pdf_sha256",
                # Generated drafts keep no alerts seen at save (signing compares none).
                "alerts_at_save",
            ],
        )
        self.injection = Table(
            Injection,
            [
                "id",
                "session_id",
                "map_zone_id",
                "region_id",
                "formula_id",
                "volume_ml",
                "points",
                "depth_mm",
                "needle_length_mm",
                "needle_override_reason",
                "gauge",
                "technique",
                "restricted_acknowledged",
                "restricted_note",
                "region_label",
                "formula_name",
            ],
        )
        self.lot = Table(
            InjectionLot,
            [
                "id",
                "injection_id",
                "compound_id",
                "lot_id",
                "compound_name",
                "lot_number",
                "lot_expiry",
                "amount_per_ml",
                "amount_unit",
            ],
        )
        self.side_effect = Table(
            SideEffect,
            [
                "id",
                "session_id",
                "kind",
                "onset",
                "resolved_at",
                "severity",
                "notes",
                "recorded_by_id",
                "recorded_at",
                "reviewed_at",
                "reviewed_by_id",
                "review_note",
            ],
            derived=("attention_from",),  # ATTENTION_OF_NEW_ROWS
        )
        # In foreign-key order: COPY checks each reference as it goes.
        self.tables = [
            self.patient,
            self.consent,
            self.measurement,
            self.photo,
            self.map,
            self.zone,
            self.session,
            self.injection,
            self.lot,
            self.side_effect,
        ]
        self._chart_sequence_next = 0
        self.all_signed = False
        self._lot_tails: dict = {}
        self.long_history_id: int | None = None

    # -- set-up ------------------------------------------------------------------------

    def _practitioners(self) -> list[int]:
        User = get_user_model()
        ids = []
        for username, first, last in PRACTITIONERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                # Record holders only: no password, no role, so nobody signs in as them.
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@{DEMO_DOMAIN}",
                )
                user.set_unusable_password()
                user.save()
            ids.append(user.pk)
        return ids

    def _signature_file(self) -> str:
        """One drawn signature, stored once and shared by the generated consents."""
        image = Image.new("L", (240, 80), 255)
        draw = ImageDraw.Draw(image)
        draw.line([(10, 60), (60, 20), (90, 55), (140, 25), (170, 50), (225, 30)], fill=0, width=3)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return default_storage.save("consents/demo-signature.png", ContentFile(buffer.getvalue()))

    def _template_for(self, kind: str, at: datetime) -> int:
        """The wording in force at `at` (Consent.objects.in_force's rule)."""
        versions = self.templates[kind]
        then = [t for t in versions if t.created_at <= at]
        return (then[-1] if then else versions[0]).pk

    # -- chunks --------------------------------------------------------------------------

    def start_ids(self, ids: dict[str, int], chart_number: int) -> None:
        """The first free id of each table and chart number (see Writer.begin)."""
        for table in self.tables:
            table.next_id = ids[table.table]
        self._chart_sequence_next = chart_number

    def chunk(self, count: int, *, long_history: int = 0) -> dict[str, str]:
        """`count` patients (or the long-history patient): each table's rows to COPY."""
        if long_history:
            self._long_history_patient(long_history)
        else:
            for _ in range(count):
                self._patient()
        return {table.table: table.take() for table in self.tables}

    def produce(self, queue, patients: int, chunk_size: int, long_history: int) -> None:
        """In a child process: put each chunk on the queue, then the totals."""
        try:
            self._produce(queue, patients, chunk_size, long_history)
        except Exception:  # reported to the parent, which stops the run
            queue.put(("error", 0, traceback.format_exc()))

    def _produce(self, queue, patients: int, chunk_size: int, long_history: int) -> None:
        for first in range(0, patients, chunk_size):
            queue.put(
                (
                    "rows",
                    min(chunk_size, patients - first),
                    self.chunk(min(chunk_size, patients - first)),
                )
            )
        if long_history:
            queue.put(("rows", 0, self.chunk(0, long_history=long_history)))
        queue.put(("done", 0, self.totals()))

    def totals(self) -> dict:
        return {
            "next_ids": {t.table: t.next_id for t in self.tables},
            "chart_number": self._chart_sequence_next,
            "counts": {t.table: t.total for t in self.tables},
        }

    # -- one patient ---------------------------------------------------------------------

    def _identity(self, patient_id: int, *, email: str = "") -> tuple:
        rng = self.rng
        locale = rng.choice(list(names.LOCALES))
        female, male, last_names, (city, prefix) = names.LOCALES[locale]
        sex = rng.choice(SEXES)
        first = rng.choice(male if sex == "M" else female if sex == "F" else female + male)
        last = rng.choice(last_names)
        if locale == "es" and rng.random() < 0.4:
            last = f"{last} {rng.choice(last_names)}"
        email = email or f"{_ascii(first)}.{_ascii(last)}.{patient_id}@{DEMO_DOMAIN}"
        address = f"{rng.randint(1, 9999)} {rng.choice(names.STREETS[city])}\n{city}"
        return first, last, sex, f"{prefix}{rng.randint(0, 9999):04d}", email, address

    def _add_patient(self, pid, identity, *, phototype, born, created, archived_at=None):
        rng = self.rng
        first, last, sex, phone, email, address = identity
        chart = chart_number_for(self._chart_sequence_next)
        self._chart_sequence_next += 1
        allergies = (
            ", ".join(rng.sample(names.ALLERGIES, rng.randint(1, 2)))
            if (rng.random() < 0.12)
            else ""
        )
        if allergies:
            allergy_status = AllergyStatus.LISTED
        else:  # most were asked; one in five records predates the question
            allergy_status = AllergyStatus.NONE_KNOWN if pid % 5 else AllergyStatus.NOT_ASKED
        medications = rng.choice(names.MEDICATIONS) if rng.random() < 0.3 else ""
        history = rng.choice(names.HISTORY) if rng.random() < 0.4 else ""
        self.patient.add(
            pid,
            chart,
            first,
            last,
            born,
            sex,
            phone,
            email,
            address,
            phototype,
            allergy_status.value,
            allergies,
            medications,
            history,
            *(False for _flag in CONTRAINDICATION_FLAGS),
            "",
            archived_at is not None,
            archived_at,
            created,
            archived_at or created,
            2 if archived_at else 1,
            "fr-ca" if pid % 3 == 0 else "en",
        )

    def _patient(self) -> None:
        rng = self.rng
        pid = self.patient.new_id()
        identity = self._identity(pid)
        phototype = rng.choice(PHOTOTYPES)
        first_visit = self.now - timedelta(days=rng.randint(20, HISTORY_YEARS * 365))
        first_visit = first_visit.replace(
            hour=rng.randint(9, 17), minute=rng.choice([0, 30]), second=0
        )
        born = (first_visit - timedelta(days=rng.randint(18 * 365, 75 * 365))).date()
        consents = {ConsentKind.TREATMENT}
        if rng.random() < 0.35:
            consents.add(ConsentKind.OFF_LABEL)
        with_photos = self.done % PHOTO_EVERY == PHOTO_EVERY // 2
        if with_photos or rng.random() < 0.25:
            consents.add(ConsentKind.PHOTOGRAPHY)
        last_seen = self._history(pid, phototype, first_visit, consents, with_photos)
        archived_at = None
        if rng.random() < 0.005 and last_seen < self.now - timedelta(days=400):
            archived_at = last_seen + timedelta(days=365)
        self._add_patient(
            pid,
            identity,
            phototype=phototype,
            born=born,
            created=first_visit - timedelta(days=rng.randint(1, 20)),
            archived_at=archived_at,
        )
        self.done += 1

    def _consents(
        self, pid: int, kinds, signed: datetime, signer: str, *, keep_photo_consent: bool = True
    ) -> None:
        rng = self.rng
        for kind in sorted(kinds):
            withdrawn_at = withdrawn_by = None
            reason = ""
            if kind == ConsentKind.PHOTOGRAPHY and not keep_photo_consent and rng.random() < 0.04:
                withdrawn_at = min(self.now, signed + timedelta(days=rng.randint(30, 900)))
                withdrawn_by = rng.choice(self.practitioners)
                reason = "The patient no longer wishes to be photographed."
            self.consent.add(
                self.consent.new_id(),
                pid,
                self._template_for(kind, signed),
                signed.date(),
                signer,
                rng.choice(["drawn", "drawn", "scan"]),
                self.signature,
                rng.choice(self.practitioners),
                signed,
                withdrawn_at,
                withdrawn_by,
                reason,
                "en",
            )

    def _history(self, pid, phototype, first_visit, consents, with_photos) -> datetime:
        """The patient's maps, sessions and follow-ups; returns the last visit."""
        rng = self.rng
        has_off_label = ConsentKind.OFF_LABEL in consents
        practitioner = rng.choice(self.practitioners)
        self._consents(
            pid,
            consents,
            first_visit - timedelta(minutes=30),
            "The patient",
            keep_photo_consent=with_photos,
        )
        mapped_at = first_visit
        last = first_visit
        for number in range(rng.choice([1, 1, 1, 2, 2, 2, 3, 3])):
            if mapped_at > self.now - timedelta(days=1):
                break
            indication = rng.choices(list(INDICATION_WEIGHTS), INDICATION_WEIGHTS.values())[0]
            planned = rng.randint(4, 9)
            days_between = rng.choice([7, 10, 14, 14, 21, 28])
            stop = rng.randint(1, planned - 1) if rng.random() < 0.1 else planned
            last = self._map(
                pid,
                phototype,
                indication,
                mapped_at,
                planned,
                days_between,
                stop,
                practitioner,
                has_off_label,
                with_photos and number == 0,
            )
            mapped_at = last + timedelta(days=rng.randint(30, 500))
        return last

    def _map(
        self,
        pid,
        phototype,
        indication,
        mapped_at,
        planned,
        days_between,
        stop,
        practitioner,
        has_off_label,
        with_photos,
        *,
        zones_wanted=0,
    ) -> datetime:
        rng = self.rng
        cat = self.catalogue
        location_id, jurisdiction = rng.choice(cat.locations)
        map_id = self.map.new_id()
        when = [
            mapped_at + timedelta(days=k * days_between, minutes=rng.randint(15, 45))
            for k in range(stop)
        ]
        when = [w for w in when if w <= self.now - timedelta(hours=1)]
        if len(when) == stop:
            status = "completed" if stop == planned else "abandoned"
        else:
            status = "active"
        self.map.add(
            map_id,
            pid,
            cat.indications[indication],
            location_id,
            True,
            mapped_at,
            planned,
            days_between,
            status,
            "",
            practitioner,
            mapped_at,
            1,
        )
        baseline = self._measurements(pid, indication, mapped_at, when, practitioner)
        zones = self._zones(
            map_id, phototype, indication, jurisdiction, has_off_label, baseline, zones_wanted
        )
        for index, performed in enumerate(when):
            if index + 1 < len(when):
                next_appointment = when[index + 1]
            elif status == "active":
                next_appointment = performed + timedelta(days=days_between)
            else:
                next_appointment = None
            self._session(
                pid, map_id, location_id, practitioner, performed, next_appointment, zones
            )
        if with_photos and when:
            self._photos(pid, zones[0].region.label, mapped_at, when[-1], practitioner)
        return when[-1] if when else mapped_at

    def _zones(
        self, map_id, phototype, indication, jurisdiction, has_off_label, baseline, wanted
    ) -> list[Zone]:
        rng = self.rng
        cat = self.catalogue
        formulas = [
            f
            for f in cat.formulas[indication]
            if has_off_label or not any(c[0] in cat.off_label_compounds for c in f[2])
        ]
        formula = rng.choice(formulas)
        restricted = any((jurisdiction, c[0]) in cat.restricted for c in formula[2])
        codes = REGIONS_BY_INDICATION[indication]
        chosen = rng.sample(codes, wanted or rng.randint(2, min(5, len(codes))))
        rule = self.needles[phototype]
        face = indication in ("anti_aging", "wrinkles_face_lift")
        zones = []
        for code in chosen:
            region = self.regions[code]
            needle, override = rule.length_mm, ""
            if not face and rule.length_mm < 6 and rng.random() < 0.03:
                needle, override = Decimal("6.0"), names.NEEDLE_OVERRIDE
            depth = (
                rng.choice([Decimal("1.0"), Decimal("1.5"), Decimal("2.0")])
                if face
                else (rng.choice([Decimal("2.0"), Decimal("3.0"), Decimal("4.0")]))
            )
            technique = (
                rng.choice(["papule", "nappage"])
                if face
                else (
                    "point"
                    if indication in ("chronic_pain", "injury_repair")
                    else rng.choice(["nappage", "point"])
                )
            )
            volume = (
                Decimal(rng.randint(5, 40)) / 10 if not face else (Decimal(rng.randint(5, 20)) / 10)
            )
            note = RESTRICTED_NOTE if restricted else ""
            zone = Zone(
                self.zone.new_id(),
                region,
                formula,
                needle,
                override,
                rule.gauge,
                depth,
                technique,
                volume,
                restricted,
                points=rng.randint(25, 145),
                head=f"{{}}\t{region.pk}\t{formula[0]}",
                volumes=[max(Decimal("0.1"), volume + Decimal(d) / 10) for d in (-2, -1, 0, 1, 2)],
                tail="\t".join(
                    map(
                        _copy_value,
                        (
                            depth,
                            needle,
                            override,
                            rule.gauge,
                            technique,
                            restricted,
                            note,
                            region.label,
                            formula[1],
                        ),
                    )
                ),
            )
            zone.head = zone.head.format(zone.id)
            self.zone.add(
                zone.id,
                map_id,
                region.pk,
                needle,
                override,
                zone.gauge,
                depth,
                technique,
                Decimal(rng.choice([5, 10, 15, 20])),
                formula[0],
                volume,
                zone.points,
                restricted,
                RESTRICTED_NOTE if restricted else "",
                baseline if not zones else None,
            )
            zones.append(zone)
        return zones

    def _measurements(self, pid, indication, mapped_at, when, practitioner) -> int | None:
        if indication not in MEASURED:
            return None
        rng = self.rng
        site, landmark, unit, typical = MEASURED[indication]
        value = Decimal(typical + rng.randint(-8, 12))
        baseline = None
        for day in [mapped_at] + when[1::2]:
            measurement_id = self.measurement.new_id()
            baseline = baseline or measurement_id
            self.measurement.add(
                measurement_id,
                pid,
                site,
                landmark,
                value,
                unit,
                "standing",
                day.date(),
                "",
                practitioner,
                day,
            )
            value = max(Decimal("20"), value - Decimal(rng.randint(0, 8)) / 10)
        return baseline

    def _session(
        self, pid, map_id, location_id, practitioner, performed, next_appointment, zones
    ) -> None:
        rng = self.rng
        session_id = self.session.new_id()
        age = self.now - performed
        # Old sessions are signed but for a few forgotten drafts; recent ones often not yet.
        if self.all_signed:
            signed = True
        elif age > timedelta(days=30):
            signed = rng.random() > 0.003
        else:
            signed = rng.random() < 0.6
        signed_at = performed + timedelta(minutes=rng.randint(30, 90)) if signed else None
        if signed_at and signed_at > self.now:
            signed_at = self.now
        reactions = rng.choice(names.REACTIONS) if rng.random() < 0.2 else ""
        created = performed + timedelta(minutes=5)
        if created > self.now:
            created = self.now
        self.session.add_line(
            "\t".join(
                [
                    str(session_id),
                    str(pid),
                    str(map_id),
                    str(location_id),
                    str(practitioner),
                    performed.isoformat(),
                    CHECKLIST_TICKED,
                    reactions,
                    names.AFTERCARE,
                    _copy_value(next_appointment and next_appointment.isoformat()),
                    "",
                    "signed" if signed else "draft",
                    "2" if signed else "1",
                    created.isoformat(),
                    (signed_at or created).isoformat(),
                    _copy_value(signed_at and signed_at.isoformat()),
                    str(practitioner) if signed else "\\N",
                    "",
                    "",
                    "\\N",
                ]
            )
        )
        day = performed.date()
        for zone in zones:
            self._injection(session_id, zone, day, performed)
        if rng.random() < 0.12:
            self._side_effect(session_id, performed, practitioner)

    def _injection(self, session_id, zone: Zone, day: date, performed) -> None:
        # The hot loop (millions of rows): each line is the zone's prepared text around
        # the few values that change.
        rng = self.rng
        injection_id = self.injection.new_id()
        self.injection.add_line(
            f"{injection_id}\t{session_id}\t{zone.head}\t"
            f"{zone.volumes[int(rng.random() * 5)]}\t{zone.points - 5 + int(rng.random() * 11)}\t"
            f"{zone.tail}"
        )
        recall_id, recall_compound, recall_number, recall_expiry, recall_from = (
            self.catalogue.recall
        )
        lots = self.lot
        for compound_id, compound_name, amount, unit in zone.formula[2]:
            if (
                compound_id == recall_compound
                and recall_from <= day <= recall_expiry
                and self.recall_used < self.recall_target
                and self.recall_used < self.recall_target * (self.done + 1) / self.total_patients
            ):
                lot = (recall_id, recall_number, recall_expiry)
                self.recall_used += 1
            else:
                lot = self.catalogue.lots[(compound_id, day.year)]
            key = (compound_id, lot[0])
            tail = self._lot_tails.get(key)
            if tail is None:
                tail = self._lot_tails[key] = "\t".join(
                    map(
                        _copy_value,
                        (compound_id, lot[0], compound_name, lot[1], lot[2], amount, unit),
                    )
                )
            lots.add_line(f"{lots.new_id()}\t{injection_id}\t{tail}")

    def _side_effect(self, session_id, performed, practitioner) -> None:
        rng = self.rng
        kind = rng.choice(SIDE_EFFECT_KINDS)
        onset = performed + timedelta(minutes=5 if kind == "burning" else rng.randint(60, 1440))
        (low, high), overdue = COURSE[kind]
        minutes = overdue if overdue and rng.random() < 0.1 else rng.randint(low, high)
        resolved = onset + timedelta(minutes=minutes)
        past_course = overdue is None or minutes == overdue
        if onset > self.now:
            return
        if resolved > self.now:
            resolved = None
        recorded = min(self.now, onset + timedelta(hours=rng.randint(1, 48)))
        reviewed_at = reviewed_by = None
        note = ""
        if past_course and self.now - performed > timedelta(days=60):
            reviewed_at = min(self.now, (resolved or onset) + timedelta(days=1))
            reviewed_by = practitioner
            note = "Reviewed at the follow-up call; no further action needed."
        self.side_effect.add(
            self.side_effect.new_id(),
            session_id,
            kind,
            onset,
            resolved,
            "moderate" if past_course else "mild",
            names.SIDE_EFFECT_NOTES[kind],
            practitioner,
            recorded,
            reviewed_at,
            reviewed_by,
            note,
        )

    def _photos(self, pid, region, before, after, practitioner) -> None:
        for phase, taken in (("before", before), ("after", after + timedelta(days=1))):
            taken = min(taken, self.now)
            image = Image.new("RGB", (320, 240), (226, 196, 178))
            draw = ImageDraw.Draw(image)
            draw.ellipse(
                [80, 20, 240, 230], fill=(214, 180, 160) if phase == "before" else (220, 188, 170)
            )
            stored = []
            for size in ((320, 240), (160, 120)):
                buffer = io.BytesIO()
                image.resize(size).save(buffer, "JPEG", quality=80)
                data = buffer.getvalue()
                stored.append(
                    (default_storage.save(photo_upload_to(None, "p.jpg"), ContentFile(data)), data)
                )
            (image_name, data), (thumb_name, _) = stored
            self.photo.add(
                self.photo.new_id(),
                pid,
                taken,
                region,
                "front",
                "standing",
                phase,
                "",
                image_name,
                thumb_name,
                320,
                240,
                hashlib.sha256(data).hexdigest(),
                practitioner,
                taken,
                False,
            )

    # -- the long-history showcase patient ------------------------------------------------

    def _long_history_patient(self, sessions: int) -> None:
        pid = self.patient.new_id()
        self.long_history_id = pid
        per_map = 25
        days_between = max(1, min(14, (HISTORY_YEARS - 1) * 365 // max(sessions, 1)))
        first = (self.now - timedelta(days=sessions * days_between + 30)).replace(
            hour=10, minute=0, second=0
        )
        identity = self._identity(pid, email=LONG_HISTORY_EMAIL)
        self.all_signed = True
        practitioner = self.practitioners[0]
        self._consents(pid, set(ConsentKind.values), first - timedelta(minutes=30), "The patient")
        mapped_at, left = first, sessions
        while left > 0:
            count = min(per_map, left)
            last = self._map(
                pid,
                3,
                "cellulite",
                mapped_at,
                count,
                days_between,
                count,
                practitioner,
                True,
                False,
                zones_wanted=6,
            )
            left -= count
            mapped_at = last + timedelta(days=days_between)
        self._add_patient(
            pid,
            identity,
            phototype=3,
            born=date(self.today.year - 52, 3, 14),
            created=first - timedelta(days=3),
        )
        self.all_signed = False


_INHERITED = []  # the parent's connection, kept (not closed) in a forked child


def render_long_history_pdfs(queue, patient_id: int, part: int, parts: int) -> None:
    """In a forked child, after the records were committed: draw one part of the
    long-history patient's signed PDFs with the code signing uses, store them, and put
    [(session id, file name, SHA-256)] on the queue for the parent to record.

    The child connects on its own: closing the connection it inherited would end the
    parent's session, so that one is set aside, never closed."""
    try:
        if connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None
        regions = list(BodyRegion.objects.all())
        sessions = with_summary_data(
            TreatmentSession.objects.filter(patient_id=patient_id, status="signed", pdf="")
        ).order_by("performed_at", "id")
        stored = []
        for session in list(sessions)[part::parts]:
            pdf = render_pdf(session, regions=regions)
            sha = hashlib.sha256(pdf).hexdigest()
            name = default_storage.save(
                f"summaries/session-{session.pk}-{sha[:12]}.pdf", ContentFile(pdf)
            )
            stored.append((session.pk, name, sha))
        connection.close()
        queue.put(("pdfs", 0, stored))
    except Exception:  # reported to the parent, which stops the run
        queue.put(("error", 0, traceback.format_exc()))


def record_pdfs(cursor, stored: list) -> None:
    """The two columns signing sets, on sessions already signed. As the owner, with the
    table's triggers off for this transaction only (the frozen-signed one refuses it)."""
    cursor.execute('ALTER TABLE "treatments_treatmentsession" DISABLE TRIGGER USER')
    for pk, name, sha in stored:
        cursor.execute(
            "UPDATE treatments_treatmentsession SET pdf = %s, pdf_sha256 = %s WHERE id = %s",
            [name, sha, pk],
        )
    # The foreign keys are deferred: checked now, before the triggers come back.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute('ALTER TABLE "treatments_treatmentsession" ENABLE TRIGGER USER')


# LotSession's rows for the injection lots copied in (ids from the first one written):
# the lot_facts trigger on InjectionLot keeps them, but it is off while seed_demo copies.
LOT_FACTS_OF_NEW_ROWS = """
INSERT INTO treatments_lotsession (lot_id, session_id, patient_id, unit, uses, amount)
SELECT il.lot_id, i.session_id, s.patient_id, il.amount_unit, count(*),
       sum(i.volume_ml * il.amount_per_ml)
FROM treatments_injectionlot il
JOIN treatments_injection i ON i.id = il.injection_id
JOIN treatments_treatmentsession s ON s.id = i.session_id
WHERE il.id >= %s
GROUP BY il.lot_id, i.session_id, s.patient_id, il.amount_unit
"""


# MapSchedule's rows and SideEffect.attention_from for what was copied in: the
# map_schedule and attention_from triggers would have written them, had they been on.
SCHEDULES_OF_NEW_ROWS = MAP_SCHEDULE.format(
    maps="SELECT id FROM treatments_treatmentmap WHERE id >= %(map)s "
    "UNION SELECT treatment_map_id FROM treatments_treatmentsession WHERE id >= %(session)s"
)
# The rule's SQL comes from our own constants (SideEffect.EXPECTED_COURSE), no input.
_ATTENTION = attention_from_sql("treatments_sideeffect")
ATTENTION_OF_NEW_ROWS = (
    f"UPDATE treatments_sideeffect SET attention_from = {_ATTENTION} "  # noqa: S608  # nosec B608
    "WHERE id >= %(effect)s"
)


class Writer:
    """The one transaction seed_demo writes in, as the owner of the tables.

    For the time of the run the tables' user triggers are off (see the module's
    docstring), and their foreign keys and plain indexes are dropped and made again at
    the end from the definitions PostgreSQL gives: building an index once is far cheaper
    than growing it row by row, and adding a foreign key back checks every row in one
    pass. All of it is one transaction: on any failure PostgreSQL puts everything back.
    """

    def __init__(self, cursor, tables: list[str]):
        self.cursor = cursor
        self.tables = tables
        self.foreign_keys: list[tuple[str, str, str]] = []
        self.indexes: list[str] = []
        self.first_ids: dict[str, int] = {}

    def begin(self) -> tuple[dict[str, int], int]:
        cursor = self.cursor
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [self.tables],
        )
        self.foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) "
            "AND NOT i.indisprimary AND NOT i.indisunique",
            [self.tables],
        )
        plain = cursor.fetchall()
        self.indexes = [definition for _, definition in plain]
        ids = {}
        for table in self.tables:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            ids[table] = cursor.fetchone()[0]
        self.first_ids = dict(ids)
        for table, name, _ in self.foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _ in plain:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SELECT nextval('patients_chart_number_seq')")
        return ids, cursor.fetchone()[0]

    def copy(self, rows: dict[str, str], columns: dict[str, list[str]]) -> None:
        for table in self.tables:
            if rows[table]:
                self.cursor.copy_expert(
                    f'COPY "{table}" ({", ".join(columns[table])}) FROM STDIN',
                    io.StringIO(rows[table]),
                )

    def finish(self, next_ids: dict[str, int], chart_number: int) -> None:
        cursor = self.cursor
        for table in self.tables:
            # The next nextval() continues after the last id used.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                [table, next_ids[table]],
            )
        # Never backwards: a patient registered meanwhile drew its number from the sequence.
        cursor.execute(
            "SELECT setval('patients_chart_number_seq', GREATEST(%s, "
            "(SELECT last_value + 1 FROM patients_chart_number_seq)), false)",
            [chart_number],
        )
        for definition in self.indexes:
            cursor.execute(definition)
        for table, name, definition in self.foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        if "treatments_injectionlot" in self.first_ids:
            # What the lot_facts trigger would have written, had it been on.
            # Their totals, set-based too: the lot_totals trigger row by row would cost
            # minutes at 100,000 patients.
            cursor.execute('ALTER TABLE "treatments_lotsession" DISABLE TRIGGER USER')
            cursor.execute(LOT_FACTS_OF_NEW_ROWS, [self.first_ids["treatments_injectionlot"]])
            cursor.execute(
                LOT_TOTALS_OF.format(
                    lots="SELECT DISTINCT lot_id FROM treatments_injectionlot WHERE id >= %(first)s"
                ),
                {"first": self.first_ids["treatments_injectionlot"]},
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks on it
            cursor.execute('ALTER TABLE "treatments_lotsession" ENABLE TRIGGER USER')
        first = self.first_ids
        if "treatments_treatmentsession" in first:
            cursor.execute(
                SCHEDULES_OF_NEW_ROWS,
                {
                    "map": first.get("treatments_treatmentmap", 0),
                    "session": first["treatments_treatmentsession"],
                },
            )
        if "treatments_sideeffect" in first:
            cursor.execute(ATTENTION_OF_NEW_ROWS, {"effect": first["treatments_sideeffect"]})
            # Its deferred foreign-key checks now: a table with pending ones cannot
            # have its triggers switched back on.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in self.tables:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
