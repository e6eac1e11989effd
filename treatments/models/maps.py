"""Treatment maps: the zones marked on the patient standing, and the plan for each."""

from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import (
    F,
    Q,
)
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from clinic.fields import FreeCharField, FreeTextField
from clinic.models import NO_DELETE, Location
from clinic.triggers import OwnerTrigger
from clinic.validators import not_in_future
from patients.models import Measurement, Patient
from treatments.models.catalogue import (
    MAX_VOLUME_PER_ZONE,
    POINTS_PER_ZONE,
    BodyRegion,
    FollowsNeedleRule,
    Formula,
    Indication,
    NeedleRule,
)


class TreatmentMapQuerySet(models.QuerySet):
    def for_patient(self, patient: Patient) -> "TreatmentMapQuerySet":
        return self.filter(patient=patient)

    def due_before(self, until, *, now) -> "TreatmentMapQuerySet":
        """Active maps of patients in care with sessions left, whose next session falls
        due before `until` (the latest session plus the map's days between sessions; the
        mapping itself for the first), with nothing booked from `now` on. Annotated
        with `due` and `done` (sessions so far); the most overdue first."""
        # From the facts the database keeps per map (MapSchedule): a walk of its partial
        # index in due order, rather than counting and dating every active map's
        # sessions (3,591 maps: 25-33 ms at 100,000 patients, issue 24).
        booked = Q(schedule__booked_until__gte=now)
        return (
            self.filter(schedule__open=True, schedule__due_at__lt=until, patient__archived=False)
            .filter(~booked | Q(schedule__booked_until__isnull=True))
            .annotate(due=F("schedule__due_at"), done=F("schedule__sessions"))
            .order_by("schedule__due_at", "id")
        )


# The map_schedule triggers and the backfill: MapSchedule's row of each map in `maps`
# (an SQL expression giving map ids), recomputed from the map and its sessions.
# 'active' is TreatmentMap.Status.ACTIVE (tests/treatments/test_map_schedule.py).
MAP_SCHEDULE = """
    INSERT INTO treatments_mapschedule AS f
        (treatment_map_id, sessions, last_session_at, booked_until, due_at, open)
    SELECT m.id, count(s.id), max(s.performed_at), max(s.next_appointment),
           COALESCE(max(s.performed_at) + m.days_between * INTERVAL '1 day', m.mapped_at),
           m.status = 'active' AND count(s.id) < m.planned_sessions
    FROM treatments_treatmentmap m
    LEFT JOIN treatments_treatmentsession s ON s.treatment_map_id = m.id
    WHERE m.id IN ({maps})
    GROUP BY m.id
    ON CONFLICT (treatment_map_id) DO UPDATE SET
        sessions = EXCLUDED.sessions, last_session_at = EXCLUDED.last_session_at,
        booked_until = EXCLUDED.booked_until, due_at = EXCLUDED.due_at, open = EXCLUDED.open;
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class TreatmentMap(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        ABANDONED = "abandoned", _("Abandoned")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="treatment_maps"
    )
    indication = models.ForeignKey(
        Indication, verbose_name=_("indication"), on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Where the sessions take place: its jurisdiction sets the formulary."),
    )
    # Cellulite and fat pads largely disappear lying down: the mapping is done standing.
    mapped_standing = models.BooleanField(
        _("the area was mapped and measured with the patient standing")
    )
    mapped_at = models.DateTimeField(_("mapped at"), validators=[not_in_future])
    planned_sessions = models.PositiveSmallIntegerField(
        _("planned sessions"), validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    days_between = models.PositiveSmallIntegerField(
        _("days between sessions"), validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    notes = FreeTextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = TreatmentMapQuerySet.as_manager()

    class Meta:
        verbose_name = _("treatment map")
        verbose_name_plural = _("treatment maps")
        ordering = ["-mapped_at", "-id"]
        triggers = [
            NO_DELETE,
            # Keeps MapSchedule in step: the status, the plan's length and its rhythm.
            OwnerTrigger(
                name="map_schedule",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=MAP_SCHEDULE.format(maps="NEW.id") + "RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(indication)s map of %(date)s") % {
            "indication": self.indication,
            "date": f"{self.mapped_at:%Y-%m-%d}",
        }

    def get_absolute_url(self) -> str:
        return reverse("treatments:map", args=[self.pk])

    def clean(self) -> None:
        # The attestation is the map's, whichever way it is written (form, service, console).
        if not self.mapped_standing:
            raise ValidationError(
                {
                    "mapped_standing": ValidationError(
                        gettext(
                            "Confirm that the area was mapped and measured with the patient "
                            "standing."
                        ),
                        code="not_standing",
                    )
                }
            )

    @cached_property
    def needle_rule(self) -> NeedleRule | None:
        return NeedleRule.objects.for_patient(self.patient)


class MapSchedule(models.Model):
    """When a map's next session falls due: the facts the dashboard's "due" section
    reads, a row per map. Written only by the database (the map_schedule triggers on
    TreatmentMap and TreatmentSession, running as the owner), whenever a map or one of
    its sessions is written; the application's role may only read it."""

    treatment_map = models.OneToOneField(
        TreatmentMap, on_delete=models.DO_NOTHING, primary_key=True, related_name="schedule"
    )
    sessions = models.PositiveIntegerField()  # recorded so far, drafts included
    last_session_at = models.DateTimeField(null=True)
    booked_until = models.DateTimeField(null=True)  # the latest next appointment given
    due_at = models.DateTimeField()  # the latest session plus the rhythm; else the mapping
    open = models.BooleanField()  # active, with sessions left

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(
                fields=["due_at", "treatment_map"], name="map_schedule_due", condition=Q(open=True)
            )
        ]

    def __str__(self) -> str:
        return f"map {self.treatment_map_id}: due {self.due_at:%Y-%m-%d}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MapZone(FollowsNeedleRule, models.Model):
    """One zone of a map and how it is to be treated."""

    class Technique(models.TextChoices):
        NAPPAGE = "nappage", _("Nappage")
        POINT = "point", _("Point by point")
        PAPULE = "papule", _("Papule")
        OTHER = "other", pgettext_lazy("technique", "Other")

    treatment_map = models.ForeignKey(
        TreatmentMap,
        verbose_name=_("treatment map"),
        on_delete=models.CASCADE,
        related_name="zones",
    )
    region = models.ForeignKey(
        BodyRegion, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    needle_length_mm = models.DecimalField(
        _("needle length (mm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("13"))],
    )
    needle_override_reason = FreeCharField(
        _("reason for a non-default needle"), max_length=200, blank=True
    )
    gauge = models.PositiveSmallIntegerField(
        _("gauge (G)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(25), MaxValueValidator(34)],
    )
    depth_mm = models.DecimalField(
        _("depth (mm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("13"))],
    )
    technique = models.CharField(
        _("technique"), max_length=10, choices=Technique.choices, blank=True
    )
    spacing_mm = models.DecimalField(
        _("spacing between points (mm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("50"))],
    )
    formula = models.ForeignKey(
        Formula,
        verbose_name=_("formula"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    planned_volume_ml = models.DecimalField(
        _("planned volume (mL)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MAX_VOLUME_PER_ZONE],
    )
    # Prefills the session form's points; a plan without it leaves them to be typed.
    planned_points = models.PositiveIntegerField(
        _("planned injection points"),
        null=True,
        blank=True,
        validators=POINTS_PER_ZONE,
    )
    restricted_acknowledged = models.BooleanField(
        _("I acknowledge the restricted compounds in this formula"), default=False
    )
    restricted_note = FreeCharField(_("restricted note"), max_length=300, blank=True)
    baseline = models.ForeignKey(
        Measurement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("baseline measurement"),
    )

    class Meta:
        verbose_name = _("map zone")
        verbose_name_plural = _("map zones")
        ordering = ["region__sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["treatment_map", "region"], name="one_zone_per_region")
        ]

    def __str__(self) -> str:
        return str(self.region)

    def needle_rule(self) -> NeedleRule | None:
        return self.treatment_map.needle_rule

    def clean(self) -> None:
        if errors := self.needle_errors():
            raise ValidationError(errors)

    # What a zone's plan needs before a session can follow it.
    PLAN_FIELDS = (
        "needle_length_mm",
        "gauge",
        "depth_mm",
        "technique",
        "formula",
        "planned_volume_ml",
    )

    @property
    def is_planned(self) -> bool:
        return all(
            getattr(self, self._meta.get_field(name).attname) not in (None, "")
            for name in self.PLAN_FIELDS
        )
