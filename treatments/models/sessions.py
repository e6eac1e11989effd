"""Session logs: what was injected into whom, where, from which lot. Frozen once signed."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from clinic.fields import FreeCharField, FreeTextField
from clinic.models import NO_DELETE, Location
from clinic.numbers import format_amount
from clinic.triggers import OwnerTrigger
from clinic.validators import CLOCK_TOLERANCE
from patients.models import Patient
from treatments.models.catalogue import (
    MAX_VOLUME_PER_ZONE,
    POINTS_PER_ZONE,
    BodyRegion,
    Compound,
    CompoundLot,
    FollowsNeedleRule,
    Formula,
    NeedleRule,
)
from treatments.models.maps import MAP_SCHEDULE, MapZone, TreatmentMap

# A signed session is evidence: the database itself refuses to change it, or the
# injections and lots under it. Corrections are Amendments.
SIGNED_SESSION_FROZEN = pgtrigger.Protect(
    name="signed_is_frozen",
    operation=pgtrigger.Update,
    condition=pgtrigger.Q(old__status="signed"),
)


def _frozen_child(name: str, session_sql: str) -> pgtrigger.Trigger:
    """Refuse writes to rows under a signed session. `session_sql` finds the session id."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        # session_sql is one of two constants below, never user input.
        func=f"""
            IF EXISTS (
                SELECT 1 FROM treatments_treatmentsession s
                WHERE s.status = 'signed' AND s.id IN ({session_sql})
            ) THEN
                RAISE EXCEPTION 'session is signed: record an amendment instead'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        """,  # nosec
    )


class Checklist:
    """The pre-procedure checklist: (field, label). Each needs a tick or a reason."""

    ITEMS = [
        # Ticked at the table, printed on the signed record: true at the time of treatment,
        # whatever happens to the consent later (the summary says what did).
        ("consent_current", _("Consent on file, in force at the time of treatment")),
        ("contraindications_reviewed", _("Contraindications reviewed")),
        ("mapped_standing", _("Area mapped and measured standing")),
        ("skin_cleansed", _("Skin cleansed with peroxide")),
        ("patient_positioned", _("Patient positioned on the table")),
        ("single_use_needles", _("Single-use needles")),
    ]
    # The session's columns for them, in order: check_<item> and check_<item>_reason (the
    # session form and the demo data list these; a test holds the model to them).
    FIELDS = [
        field for name, _label in ITEMS for field in (f"check_{name}", f"check_{name}_reason")
    ]


class TreatmentSessionQuerySet(models.QuerySet):
    def for_patient(self, patient: Patient) -> "TreatmentSessionQuerySet":
        return self.filter(patient=patient)

    def drafts(self) -> "TreatmentSessionQuerySet":
        return self.filter(status=TreatmentSession.Status.DRAFT)

    def on_day(self, day) -> "TreatmentSessionQuerySet":
        """Performed on `day` (local time), as a range of performed_at: the index on
        (status, performed_at) serves it, where performed_at__date (a cast of every row)
        read the whole table: 0.5 ms instead of 205 ms on 1,000,000 sessions."""
        start, end = (
            timezone.make_aware(datetime.combine(d, time.min)) for d in (day, day + timedelta(1))
        )  # a day of 23 or 25 hours when the clocks change
        return self.filter(performed_at__gte=start, performed_at__lt=end)

    def booked_between(self, start, end) -> "TreatmentSessionQuerySet":
        """Sessions whose next appointment falls in [start, end), counting only the latest
        session of each map: a later session's booking replaces an earlier one, and once
        the appointment's session is recorded it books the one after."""
        # "No later session of the same map" rather than DISTINCT ON over every session
        # (which sorted the whole table: 3.9 s on 1,000,000 sessions): the bookings in
        # the range first, each checked against its map's sessions by index.
        later = TreatmentSession.objects.filter(
            Q(performed_at__gt=OuterRef("performed_at"))
            | Q(performed_at=OuterRef("performed_at"), pk__gt=OuterRef("pk")),
            treatment_map=OuterRef("treatment_map"),
        )
        return self.filter(next_appointment__gte=start, next_appointment__lt=end).exclude(
            Exists(later)
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class TreatmentSession(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", pgettext_lazy("session status", "Signed")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="sessions"
    )
    treatment_map = models.ForeignKey(
        TreatmentMap,
        verbose_name=_("treatment map"),
        on_delete=models.PROTECT,
        related_name="sessions",
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("practitioner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    performed_at = models.DateTimeField(_("date and time"))
    # Pre-procedure checklist (Checklist.ITEMS): each item ticked, or a reason why not.
    check_consent_current = models.BooleanField(_("consent on file and current"), default=False)
    check_consent_current_reason = FreeCharField(
        _("reason, if not done (consent on file and current)"), max_length=300, blank=True
    )
    check_contraindications_reviewed = models.BooleanField(
        _("contraindications reviewed"), default=False
    )
    check_contraindications_reviewed_reason = FreeCharField(
        _("reason, if not done (contraindications reviewed)"), max_length=300, blank=True
    )
    check_mapped_standing = models.BooleanField(
        _("area mapped and measured standing"), default=False
    )
    check_mapped_standing_reason = FreeCharField(
        _("reason, if not done (mapped standing)"), max_length=300, blank=True
    )
    check_skin_cleansed = models.BooleanField(_("skin cleansed with peroxide"), default=False)
    check_skin_cleansed_reason = FreeCharField(
        _("reason, if not done (skin cleansed)"), max_length=300, blank=True
    )
    check_patient_positioned = models.BooleanField(
        _("patient positioned on the table"), default=False
    )
    check_patient_positioned_reason = FreeCharField(
        _("reason, if not done (patient positioned)"), max_length=300, blank=True
    )
    check_single_use_needles = models.BooleanField(_("single-use needles"), default=False)
    check_single_use_needles_reason = FreeCharField(
        _("reason, if not done (single-use needles)"), max_length=300, blank=True
    )
    immediate_reactions = FreeTextField(_("immediate reactions"), blank=True)
    aftercare = FreeTextField(_("aftercare instructions given"), blank=True)
    next_appointment = models.DateTimeField(_("next appointment"), null=True, blank=True)
    notes = FreeTextField(_("notes"), blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # The patient's alert fields as the draft's author saw them at its last save
    # (treatments.services.signature): signing asks about any that changed since.
    alerts_at_save = models.JSONField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pdf = models.FileField(_("PDF"), upload_to="summaries/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)

    objects = TreatmentSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("treatment session")
        verbose_name_plural = _("treatment sessions")
        ordering = ["-performed_at", "-id"]
        indexes = [
            models.Index(fields=["status", "performed_at"]),
            # The session list's default order (-performed_at, -id) read backwards: on
            # 1,000,000 sessions its first page took 1.3-2.8 s (parallel seq scan and
            # top-N sort) without it, 1 ms with it (EXPLAIN ANALYZE, issue 12).
            models.Index(fields=["performed_at", "id"], name="session_performed_idx"),
            # The dashboard's appointments of the week (booked_between): without it every
            # session is read to find the few booked in the range (EXPLAIN ANALYZE on
            # 1,000,000 sessions: 181 ms seq scan -> 0.65 ms index scan). Partial: only
            # a map's latest session usually holds a booking.
            models.Index(
                fields=["next_appointment"],
                name="session_booked_idx",
                condition=Q(next_appointment__isnull=False),
            ),
        ]
        triggers = [
            NO_DELETE,
            SIGNED_SESSION_FROZEN,
            # Keeps MapSchedule in step: the map's count, latest session and booking
            # (both maps, should a draft move from one to another).
            OwnerTrigger(
                name="map_schedule",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=MAP_SCHEDULE.format(maps="NEW.treatment_map_id, OLD.treatment_map_id")
                + "RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Session of %(date)s") % {
            "date": f"{timezone.localtime(self.performed_at):%Y-%m-%d %H:%M}"
        }

    def get_absolute_url(self) -> str:
        return reverse("treatments:session", args=[self.pk])

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @cached_property
    def needle_rule(self) -> NeedleRule | None:
        return NeedleRule.objects.for_patient(self.patient)

    def clean(self) -> None:
        """A session happens after its map was drawn, not in the future, and the next
        appointment comes after it."""
        errors = {}
        when = self.performed_at
        if when is not None:
            if when > timezone.now() + CLOCK_TOLERANCE:
                errors["performed_at"] = gettext("This date is in the future.")
            elif self.treatment_map_id and when < self.treatment_map.mapped_at:
                mapped = timezone.localtime(self.treatment_map.mapped_at)
                errors["performed_at"] = gettext(
                    "A session cannot come before its treatment map (mapped %(date)s)."
                ) % {"date": f"{mapped:%Y-%m-%d %H:%M}"}
            if self.next_appointment is not None and self.next_appointment <= when:
                errors["next_appointment"] = gettext(
                    "The next appointment must come after this session."
                )
        if errors:
            raise ValidationError(errors)

    def checklist(self) -> list[tuple[str, bool, str]]:
        """(label, confirmed, reason) for each item."""
        return [
            (label, getattr(self, f"check_{name}"), getattr(self, f"check_{name}_reason"))
            for name, label in Checklist.ITEMS
        ]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Injection(FollowsNeedleRule, models.Model):
    """What went into one zone in a session."""

    session = models.ForeignKey(
        TreatmentSession,
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="injections",
    )
    map_zone = models.ForeignKey(
        MapZone,
        verbose_name=_("map zone"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    region = models.ForeignKey(
        BodyRegion, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    formula = models.ForeignKey(
        Formula, verbose_name=_("formula"), on_delete=models.PROTECT, related_name="+"
    )
    volume_ml = models.DecimalField(
        _("volume (mL)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MAX_VOLUME_PER_ZONE],
    )
    points = models.PositiveIntegerField(_("injection points"), validators=POINTS_PER_ZONE)
    depth_mm = models.DecimalField(
        _("depth (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("13"))],
    )
    needle_length_mm = models.DecimalField(
        _("needle (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("13"))],
    )
    needle_override_reason = FreeCharField(
        _("reason for a non-default needle"), max_length=200, blank=True
    )
    gauge = models.PositiveSmallIntegerField(
        _("gauge (G)"), validators=[MinValueValidator(25), MaxValueValidator(34)]
    )
    technique = models.CharField(_("technique"), max_length=10, choices=MapZone.Technique.choices)
    restricted_acknowledged = models.BooleanField(
        _("restricted compound acknowledged"), default=False
    )
    restricted_note = FreeCharField(_("restricted note"), max_length=300, blank=True)
    # As they read when the injection was recorded: later catalogue edits must not
    # rewrite what the record says was injected.
    region_label = models.CharField(_("region label"), max_length=100)
    formula_name = models.CharField(_("formula name"), max_length=120)

    class Meta:
        verbose_name = _("injection")
        verbose_name_plural = _("injections")
        ordering = ["region__sort_order", "id"]
        triggers = [_frozen_child("injection_frozen", "NEW.session_id, OLD.session_id")]

    def __str__(self) -> str:
        return gettext("%(region)s: %(volume)s mL of %(formula)s") % {
            "region": self.shown_region_label,
            "volume": format_amount(self.volume_ml),
            "formula": self.formula_name or self.formula,
        }

    @property
    def shown_region_label(self) -> str:
        """The region in the language being drawn; in English the label as recorded."""
        return self.region.shown_label(self.region_label)

    def needle_rule(self) -> NeedleRule | None:
        return self.session.needle_rule if self.session_id or _has(self, "session") else None

    def clean(self) -> None:
        if errors := self.needle_errors():
            raise ValidationError(errors)


def _has(instance: models.Model, relation: str) -> bool:
    """Whether a foreign key holds an object, saved or not (a session being written)."""
    return instance._meta.get_field(relation).is_cached(instance)


# The lot_facts trigger: an injection's lot added, removed or changed moves its count and
# amount in LotSession (a row per lot, session and unit, gone when nothing is left).
LOT_FACTS = """
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT i.session_id, s.patient_id, i.volume_ml INTO _session, _patient, _volume
            FROM treatments_injection i
            JOIN treatments_treatmentsession s ON s.id = i.session_id
            WHERE i.id = OLD.injection_id;
        UPDATE treatments_lotsession
            SET uses = uses - 1, amount = amount - _volume * OLD.amount_per_ml
            WHERE lot_id = OLD.lot_id AND session_id = _session AND unit = OLD.amount_unit;
        DELETE FROM treatments_lotsession
            WHERE lot_id = OLD.lot_id AND session_id = _session AND unit = OLD.amount_unit
            AND uses <= 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT i.session_id, s.patient_id, i.volume_ml INTO _session, _patient, _volume
            FROM treatments_injection i
            JOIN treatments_treatmentsession s ON s.id = i.session_id
            WHERE i.id = NEW.injection_id;
        INSERT INTO treatments_lotsession (lot_id, session_id, patient_id, unit, uses, amount)
            VALUES (NEW.lot_id, _session, _patient, NEW.amount_unit, 1,
                    _volume * NEW.amount_per_ml)
            ON CONFLICT (lot_id, session_id, unit) DO UPDATE
            SET uses = treatments_lotsession.uses + 1,
                amount = treatments_lotsession.amount + EXCLUDED.amount;
    END IF;
    RETURN NULL;
"""


# The lot_totals trigger: each LotSession row added or removed moves its lot's totals
# (LotTotal, LotAmount) and its patient's count of rows (LotPatient, which says when a
# patient is first or no longer among the lot's). An update is a removal and an addition.
LOT_TOTALS = """
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE treatments_lotpatient SET rows = rows - 1
            WHERE lot_id = OLD.lot_id AND patient_id = OLD.patient_id
            RETURNING rows INTO _left;
        IF _left = 0 THEN
            DELETE FROM treatments_lotpatient
                WHERE lot_id = OLD.lot_id AND patient_id = OLD.patient_id;
        END IF;
        UPDATE treatments_lottotal SET
            patients = patients - (_left = 0)::int,
            sessions = sessions - (NOT EXISTS (
                SELECT 1 FROM treatments_lotsession s WHERE s.lot_id = OLD.lot_id
                AND s.session_id = OLD.session_id AND s.unit <> OLD.unit))::int,
            injections = injections - OLD.uses
            WHERE lot_id = OLD.lot_id;
        UPDATE treatments_lotamount SET amount = amount - OLD.amount
            WHERE lot_id = OLD.lot_id AND unit = OLD.unit;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO treatments_lotpatient AS p (lot_id, patient_id, rows)
            VALUES (NEW.lot_id, NEW.patient_id, 1)
            ON CONFLICT (lot_id, patient_id) DO UPDATE SET rows = p.rows + 1
            RETURNING (xmax = 0) INTO _first;
        INSERT INTO treatments_lottotal AS t (lot_id, patients, sessions, injections)
            VALUES (NEW.lot_id, _first::int, (NOT EXISTS (
                SELECT 1 FROM treatments_lotsession s WHERE s.lot_id = NEW.lot_id
                AND s.session_id = NEW.session_id AND s.unit <> NEW.unit))::int, NEW.uses)
            ON CONFLICT (lot_id) DO UPDATE SET
                patients = t.patients + EXCLUDED.patients,
                sessions = t.sessions + EXCLUDED.sessions,
                injections = t.injections + EXCLUDED.injections;
        INSERT INTO treatments_lotamount AS a (lot_id, unit, amount)
            VALUES (NEW.lot_id, NEW.unit, NEW.amount)
            ON CONFLICT (lot_id, unit) DO UPDATE SET amount = a.amount + EXCLUDED.amount;
    END IF;
    RETURN NULL;
"""

# Every lot's totals from its LotSession rows, for the lots in {lots} (an SQL expression
# giving lot ids): the backfill, and seed_demo's after copying with the trigger off.
LOT_TOTALS_OF = """
    DELETE FROM treatments_lotpatient WHERE lot_id IN ({lots});
    DELETE FROM treatments_lottotal WHERE lot_id IN ({lots});
    DELETE FROM treatments_lotamount WHERE lot_id IN ({lots});
    INSERT INTO treatments_lotpatient (lot_id, patient_id, rows)
        SELECT lot_id, patient_id, count(*) FROM treatments_lotsession
        WHERE lot_id IN ({lots}) GROUP BY lot_id, patient_id;
    INSERT INTO treatments_lottotal (lot_id, patients, sessions, injections)
        SELECT lot_id, count(DISTINCT patient_id), count(DISTINCT session_id), sum(uses)
        FROM treatments_lotsession WHERE lot_id IN ({lots}) GROUP BY lot_id;
    INSERT INTO treatments_lotamount (lot_id, unit, amount)
        SELECT lot_id, unit, sum(amount) FROM treatments_lotsession
        WHERE lot_id IN ({lots}) GROUP BY lot_id, unit;
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class InjectionLot(models.Model):
    """The lot used for one compound of the injected formula: the traceability link."""

    injection = models.ForeignKey(
        Injection, verbose_name=_("injection"), on_delete=models.CASCADE, related_name="lots"
    )
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(
        CompoundLot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="uses"
    )
    # Copied from the catalogue when recorded (see Injection): the evidence stays as it was.
    compound_name = models.CharField(_("compound name"), max_length=120)
    lot_number = models.CharField(_("lot number"), max_length=60)
    lot_expiry = models.DateField(_("lot expiry date"))
    amount_per_ml = models.DecimalField(_("amount per mL"), max_digits=10, decimal_places=3)
    amount_unit = models.CharField(_("amount unit"), max_length=4)

    class Meta:
        verbose_name = _("injection lot")
        verbose_name_plural = _("injection lots")
        ordering = ["compound__name"]
        constraints = [
            models.UniqueConstraint(fields=["injection", "compound"], name="one_lot_per_compound")
        ]
        triggers = [
            _frozen_child(
                "injection_lot_frozen",
                "SELECT i.session_id FROM treatments_injection i "
                "WHERE i.id IN (NEW.injection_id, OLD.injection_id)",
            ),
            # Keeps LotSession in step with every write, whatever the path.
            OwnerTrigger(
                name="lot_facts",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("_session", "bigint"), ("_patient", "bigint"), ("_volume", "numeric")],
                func=LOT_FACTS,
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(compound)s: lot %(number)s") % {
            "compound": self.compound_name,
            "number": self.lot_number,
        }


class LotSession(models.Model):
    """What a lot's recall reads: the lot's use in one session (draft or signed), per unit
    of its compound, with the patient. Written only by the database (the lot_facts
    trigger on InjectionLot, running as the owner): the application's role may read it,
    never write it, so no path can leave a patient out of a recall.

    A recall of a lot used 235,000 times reads its recipients in name order through
    (lot, patient) and its totals from the lot's rows alone, instead of joining every
    use to its injection and session."""

    # DO_NOTHING: the rows go with the injection lots that made them (the trigger);
    # the constraints stay in the database.
    # No index of its own: the two below lead with it.
    lot = models.ForeignKey(
        CompoundLot, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    session = models.ForeignKey(TreatmentSession, on_delete=models.DO_NOTHING, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.DO_NOTHING, related_name="+")
    unit = models.CharField(max_length=4)
    uses = models.PositiveIntegerField()  # injections of the session that used the lot
    amount = models.DecimalField(max_digits=18, decimal_places=6)  # of the compound, in unit

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "session", "unit"],
                include=["uses", "amount"],
                name="lot_session_unit",
            )
        ]
        indexes = [models.Index(fields=["lot", "patient"], name="lot_session_patient")]
        triggers = [
            # Keeps LotTotal, LotAmount and LotPatient in step with every row.
            OwnerTrigger(
                name="lot_totals",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("_left", "integer"), ("_first", "boolean")],
                func=LOT_TOTALS,
            ),
        ]

    def __str__(self) -> str:
        return f"lot {self.lot_id} in session {self.session_id}: {self.uses} ({self.unit})"


class LotPatient(models.Model):
    """How many of a lot's LotSession rows are a patient's: kept by the lot_totals
    trigger so that LotTotal.patients counts each patient once."""

    lot = models.ForeignKey(
        CompoundLot, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    patient = models.ForeignKey(Patient, on_delete=models.DO_NOTHING, related_name="+")
    rows = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["lot", "patient"], name="one_count_per_lot_patient")
        ]

    def __str__(self) -> str:
        return f"lot {self.lot_id}, patient {self.patient_id}: {self.rows}"


class LotTotal(models.Model):
    """What a lot's recall counts: patients, sessions and injections (drafts and signed
    alike), one row per lot, kept by the database (the lot_totals trigger on LotSession,
    as the owner): a recall's totals are one row, not a count over 235,000 uses."""

    lot = models.OneToOneField(
        CompoundLot, on_delete=models.DO_NOTHING, primary_key=True, related_name="+"
    )
    patients = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField()
    injections = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"lot {self.lot_id}: {self.patients} patients, {self.injections} injections"


class LotAmount(models.Model):
    """How much of a lot's compound was injected, per unit (as LotTotal)."""

    lot = models.ForeignKey(
        CompoundLot, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    unit = models.CharField(max_length=4)
    amount = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["lot", "unit"], name="one_amount_per_lot_unit")
        ]

    def __str__(self) -> str:
        return f"lot {self.lot_id}: {self.amount} {self.unit}"


def attention_from_sql(row: str) -> str:
    """The follow-up rule, once, as SQL over `row` (NEW in the trigger below, the table
    in the backfill): when an effect begins to need the practitioner's attention, NULL
    if it never does. Infection and unexpected effects need it from their onset; the
    others once they last longer than their expected course (SideEffect.EXPECTED_COURSE):
    from the onset plus that course if ongoing, or if they resolved later than that.

    Stored (SideEffect.attention_from, by the attention_from trigger on every write), so
    that the dashboard's and the chart's lists read one partial index in onset order,
    whatever the clock says, instead of testing each kind's limit against now."""
    cases = []
    for kind, (limit, _course) in SideEffect.EXPECTED_COURSE.items():
        if limit is None:
            cases.append(f"WHEN '{kind}' THEN {row}.onset")
        else:
            after = f"{row}.onset + INTERVAL '{int(limit.total_seconds())} seconds'"
            cases.append(
                f"WHEN '{kind}' THEN CASE WHEN {row}.resolved_at IS NULL "
                f"OR {row}.resolved_at > {after} THEN {after} END"
            )
    return f"CASE {row}.kind {' '.join(cases)} END"


def needs_attention(now) -> Q:
    """Whether an effect needs the practitioner's attention at `now` (reviewed or not):
    the session page's flag, the review (review_side_effect), the chart's and the
    dashboard's lists all read it through the two QuerySet methods below."""
    return Q(attention_from__lte=now)


class SideEffectQuerySet(models.QuerySet):
    def with_attention(self, now=None) -> "SideEffectQuerySet":
        """Annotate `needs_attention` (the rule above, at `now`), reviewed or not."""
        now = now or timezone.now()
        # False, not NULL, for an effect that never needs attention.
        flag = Coalesce(
            ExpressionWrapper(needs_attention(now), output_field=BooleanField()),
            Value(False),
        )
        return self.annotate(needs_attention=flag)

    def needing_attention(self, now=None) -> "SideEffectQuerySet":
        """Flags a practitioner has not yet reviewed: the chart's and the dashboard's list."""
        now = now or timezone.now()
        return self.with_attention(now).filter(needs_attention(now), reviewed_at__isnull=True)


# attention_from is derived (the trigger below): not part of the record's history.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["attention_from"])
class SideEffect(models.Model):
    """A follow-up of an expected (or unexpected) effect after a session."""

    class Kind(models.TextChoices):
        BURNING_ITCHING = "burning", _("Burning or itching")
        SWELLING = "swelling", _("Swelling")
        SORENESS = "soreness", _("Soreness")
        DISCOLORATION = "discoloration", _("Skin discoloration")
        INFECTION = "infection", _("Infection")
        OTHER = "other", pgettext_lazy("side effect", "Other")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    # The expected course from the clinical description. None: always needs attention.
    EXPECTED_COURSE = {
        Kind.BURNING_ITCHING: (timedelta(minutes=20), _("15–20 minutes")),
        Kind.SWELLING: (timedelta(days=5), _("1–5 days")),
        Kind.SORENESS: (timedelta(days=7), _("several days")),
        Kind.DISCOLORATION: (timedelta(days=14), _("resolves in days to a couple of weeks")),
        Kind.INFECTION: (None, _("rare: always needs the practitioner's attention")),
        Kind.OTHER: (None, _("not an expected effect: review")),
    }

    session = models.ForeignKey(
        TreatmentSession,
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="side_effects",
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    onset = models.DateTimeField(_("onset"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    notes = FreeTextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # A flag is reviewed once by a practitioner: it then leaves the dashboard and the
    # chart's list, and stays on the session with who reviewed it and why.
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_note = FreeTextField(_("review note"), blank=True)
    # From when it needs the practitioner's attention (NULL: never): written by the
    # database on every write (attention_from_sql), never by the application.
    attention_from = models.DateTimeField(null=True, editable=False)

    objects = SideEffectQuerySet.as_manager()

    class Meta:
        verbose_name = _("side effect")
        verbose_name_plural = _("side effects")
        ordering = ["onset", "id"]
        indexes = [
            # The flags not yet reviewed (needing_attention), in onset order.
            models.Index(
                fields=["onset", "id"],
                name="side_effect_attention_idx",
                condition=Q(reviewed_at__isnull=True, attention_from__isnull=False),
            ),
        ]
        triggers = [NO_DELETE]

    def __str__(self) -> str:
        return gettext("%(kind)s from %(date)s") % {
            "kind": self.get_kind_display(),
            "date": f"{self.onset:%Y-%m-%d %H:%M}",
        }

    @property
    def expected(self) -> str:
        return self.EXPECTED_COURSE[self.kind][1]

    def clean(self) -> None:
        """An effect of a session begins after it, resolves after it began, and neither
        lies in the future."""
        errors = {}
        latest = timezone.now() + CLOCK_TOLERANCE
        if self.onset is not None:
            if self.session_id and self.onset < self.session.performed_at:
                began = timezone.localtime(self.session.performed_at)
                errors["onset"] = gettext(
                    "A side effect of this session cannot begin before it (%(date)s)."
                ) % {"date": f"{began:%Y-%m-%d %H:%M}"}
            elif self.onset > latest:
                errors["onset"] = gettext("The onset cannot be in the future.")
        if self.resolved_at is not None:
            if self.onset is not None and self.resolved_at < self.onset:
                errors["resolved_at"] = gettext("It cannot resolve before it began.")
            elif self.resolved_at > latest:
                errors["resolved_at"] = gettext("The time it resolved cannot be in the future.")
        if errors:
            raise ValidationError(errors)


# Registered here rather than in Meta: the rule needs the class's EXPECTED_COURSE.
pgtrigger.register(
    pgtrigger.Trigger(
        name="attention_from",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update,
        func=f"NEW.attention_from := {attention_from_sql('NEW')}; RETURN NEW;",
    )
)(SideEffect)


class Amendment(models.Model):
    """A correction to a signed session, shown beneath the original. Never edited."""

    session = models.ForeignKey(
        TreatmentSession,
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="amendments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set by add_amendment before the PDF is drawn, so the PDF shows the stored time.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    reason = FreeCharField(_("reason"), max_length=300)
    text = FreeTextField(_("text"))
    # The summary as amended: the original plus every amendment up to this one, drawn
    # when this one was recorded (the row is never updated, so set before the INSERT).
    pdf = models.FileField(_("PDF"), upload_to="summaries/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["created_at", "id"]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return gettext("Amendment of %(date)s by %(author)s") % {
            "date": f"{self.created_at:%Y-%m-%d}",
            "author": self.author,
        }


class Acknowledgement(models.Model):
    """A fact that changed after the treatment (a consent withdrawn, a lot quarantined, an
    alert recorded), acknowledged by whoever signed, with their note. Written with the
    signature, printed on the signed summary, never edited."""

    session = models.ForeignKey(
        TreatmentSession,
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="acknowledgements",
    )
    # What the change is (treatments.services.signature.Change.key): the sign page
    # posts it back, so a change that moved on since the page was drawn is asked again.
    key = models.CharField(_("change"), max_length=200)
    statement = FreeTextField(_("what changed"))  # the fact, as the summary prints it
    note = FreeTextField(_("note"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"))

    class Meta:
        verbose_name = _("acknowledgement at signing")
        verbose_name_plural = _("acknowledgements at signing")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "key"], name="one_acknowledgement_per_change"
            )
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            _frozen_child("acknowledgement_frozen", "NEW.session_id, OLD.session_id"),
        ]

    def __str__(self) -> str:
        return self.statement


class StoredRecord(models.Model):
    """The signed record's part of a session's summary (diagram, checklist, injections
    with their lots, totals, acknowledgements, signature) as HTML, in one language: drawn
    once from rows that cannot change any more, and read by the session page, the print
    view and the booklet instead of drawing it again (treatments/summary.py, records_of).
    Append-only, and for signed sessions only: the database refuses anything else."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8)  # a code of settings.LANGUAGES
    html = models.TextField()
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["session", "language"], name="one_record_per_language")
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="signed_only",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func="""
                    IF NOT EXISTS (SELECT 1 FROM treatments_treatmentsession
                                   WHERE id = NEW.session_id AND status = 'signed') THEN
                        RAISE EXCEPTION 'Only a signed session''s record is stored.'
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"record of session {self.session_id} ({self.language})"
