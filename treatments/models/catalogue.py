"""What may be injected, lot by lot and where: kept by the catalogue administrator."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from clinic.fields import FreeCharField, FreeTextField
from clinic.models import Jurisdiction
from clinic.numbers import format_amount
from patients.models import Phototype


class ActiveQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


def french_active() -> bool:
    """Whether the page or print being drawn is in French (fr, fr-ca)."""
    return (get_language() or "").lower().startswith("fr")


class BodyRegion(models.Model):
    """A zone of the body diagram. Shipped by a migration; shapes in treatments/diagram.py."""

    class View(models.TextChoices):
        FRONT = "front", pgettext_lazy("body view", "Front")
        BACK = "back", pgettext_lazy("body view", "Back")
        FACE = "face", _("Face and neck")

    class Side(models.TextChoices):
        LEFT = "left", pgettext_lazy("patient's side", "Left")
        RIGHT = "right", pgettext_lazy("patient's side", "Right")
        MIDLINE = "midline", _("Midline")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = FreeCharField(_("label"), max_length=100)
    # Shipped regions come with one (migration 0015); the console edits both.
    label_fr = FreeCharField(_("French label"), max_length=100, blank=True)
    view = models.CharField(_("view"), max_length=10, choices=View.choices)
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("body region")
        verbose_name_plural = _("body regions")
        # Front, then back, then face, as shipped (sort_order); a new region sorts by label.
        ordering = ["sort_order", "label"]

    def __str__(self) -> str:
        return self.shown_label()

    def shown_label(self, english: str = "") -> str:
        """The label in the active language: the French one in French where given, else
        `english` (an injection's snapshot of the label) or the English label."""
        if self.label_fr and french_active():
            return self.label_fr
        return english or self.label


class Indication(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = FreeCharField(_("name"), max_length=100, unique=True)
    # Shipped indications come with one (migration 0016); the console edits both.
    label_fr = FreeCharField(_("French label"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("indication")
        verbose_name_plural = _("indications")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.shown_label()

    def shown_label(self) -> str:
        """The name in the active language: the French label in French where given."""
        if self.label_fr and french_active():
            return self.label_fr
        return self.name


class CompoundCategory(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = FreeCharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("compound category")
        ordering = ["name"]
        verbose_name_plural = _("compound categories")

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Compound(models.Model):
    class Unit(models.TextChoices):
        MG_PER_ML = "mg/mL", "mg/mL"
        MCG_PER_ML = "mcg/mL", "µg/mL"
        IU_PER_ML = "IU/mL", _("IU/mL")
        PERCENT = "%", "%"
        DILUTION = "dil", _("homeopathic dilution")

    class Form(models.TextChoices):
        AMPOULE = "ampoule", _("Ampoule")
        VIAL = "vial", _("Vial")
        POWDER = "powder", _("Powder for reconstitution")
        SOLUTION = "solution", _("Solution")

    name = FreeCharField(_("name"), max_length=120, unique=True)
    category = models.ForeignKey(
        CompoundCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    concentration = models.DecimalField(
        _("concentration"),
        max_digits=10,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices)
    form = models.CharField(_("form"), max_length=10, choices=Form.choices, default=Form.AMPOULE)
    manufacturer = FreeCharField(_("manufacturer"), max_length=120, blank=True)
    notes = FreeTextField(_("notes"), blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive compounds cannot be planned.")
    )
    off_label = models.BooleanField(
        _("used off-label"),
        default=False,
        help_text=_(
            "Injected outside its authorised use: a session using it can be signed "
            "only with the patient's off-label consent in force."
        ),
    )

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {format_amount(self.concentration)} {self.unit}"


class Unusable(models.TextChoices):
    """Why a lot could not be used for an injection at a given moment."""

    NOT_RECEIVED = "not_received", _("not yet received on the session date")
    EXPIRED = "expired", _("expired on the session date")
    QUARANTINED = "quarantined", _("quarantined")


class CompoundLotQuerySet(models.QuerySet):
    def usable_on(self, day: date) -> "CompoundLotQuerySet":
        return self.filter(expiry_date__gte=day)

    def usable_at(self, when: datetime) -> "CompoundLotQuerySet":
        """The lots CompoundLot.unusable_at(when) has nothing against, as one query (the
        console's filter). tests/treatments/test_lot_usable.py keeps the two in step."""
        day = timezone.localtime(when).date()
        return self.usable_on(day).filter(received_on__lte=day).exclude(quarantined_at__lte=when)

    def expiring_within(self, day: date, days: int) -> "CompoundLotQuerySet":
        """Lots still usable on `day` that expire within `days` of it, soonest first."""
        return (
            self.usable_on(day)
            .filter(expiry_date__lte=day + timedelta(days=days))
            .order_by("expiry_date", "id")
        )

    def quarantined(self) -> "CompoundLotQuerySet":
        return self.filter(quarantined_at__isnull=False)

    def not_quarantined(self) -> "CompoundLotQuerySet":
        return self.filter(quarantined_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class CompoundLot(models.Model):
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), on_delete=models.PROTECT, related_name="lots"
    )
    lot_number = FreeCharField(_("lot number"), max_length=60)
    expiry_date = models.DateField(_("expiry date"))
    supplier = FreeCharField(_("supplier"), max_length=120, blank=True)
    # A lot is not offered, nor accepted, for a session before its delivery. Required
    # (blank=False, and the constraint below); nullable only because the lot's history
    # table, which copies the column, holds rows from before it was.
    received_on = models.DateField(_("received on"), null=True)
    # A lot under recall: refused for injections performed from `quarantined_at` on.
    # Set and cleared only by quarantine() and lift_quarantine(); every change is kept
    # in the lot's history (pghistory), so earlier quarantines stay readable.
    quarantined_at = models.DateTimeField(
        _("quarantined at"), null=True, blank=True, editable=False
    )
    quarantined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("quarantined by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    quarantine_reason = FreeCharField(
        _("quarantine reason"), max_length=300, blank=True, editable=False
    )
    # The last lift of a quarantine (cleared when the lot is quarantined again).
    quarantine_lifted_at = models.DateTimeField(
        _("quarantine lifted at"), null=True, blank=True, editable=False
    )
    quarantine_lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("quarantine lifted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    quarantine_lift_reason = FreeCharField(
        _("quarantine lift reason"), max_length=300, blank=True, editable=False
    )

    objects = CompoundLotQuerySet.as_manager()

    class Meta:
        verbose_name = _("compound lot")
        verbose_name_plural = _("compound lots")
        ordering = ["compound__name", "expiry_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "lot_number"], name="unique_lot_per_compound"
            ),
            models.CheckConstraint(
                condition=models.Q(quarantined_at__isnull=True) | ~models.Q(quarantine_reason=""),
                name="quarantine_has_a_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(received_on__isnull=False), name="lot_has_a_received_date"
            ),
        ]
        permissions = [
            ("quarantine_compoundlot", "Can quarantine a lot"),
            ("lift_quarantine_compoundlot", "Can lift the quarantine of a lot"),
        ]

    def __str__(self) -> str:
        return gettext("%(compound)s lot %(number)s (exp. %(date)s)") % {
            "compound": self.compound.name,
            "number": self.lot_number,
            "date": f"{self.expiry_date:%Y-%m-%d}",
        }

    def is_expired_on(self, day: date) -> bool:
        return self.expiry_date < day

    @property
    def is_expired(self) -> bool:
        return self.is_expired_on(timezone.localdate())

    @property
    def is_quarantined(self) -> bool:
        return self.quarantined_at is not None

    def unusable_at(self, when: datetime) -> Unusable | None:
        """Why this lot could not be used for an injection performed at `when`, or None.

        The one rule of which lots were usable at a moment: in stock by then, not expired
        on that day, not quarantined by then. The session form's choices, the session
        service's check and the console's column all ask it."""
        day = timezone.localtime(when).date()
        if self.received_on is not None and self.received_on > day:
            return Unusable.NOT_RECEIVED
        if self.is_expired_on(day):
            return Unusable.EXPIRED
        if self.is_quarantined_at(when):
            return Unusable.QUARANTINED
        return None

    def is_quarantined_at(self, when) -> bool:
        """Whether an injection performed at `when` falls under the quarantine. One given
        before the lot was quarantined happened: it can still be recorded (and recalled)."""
        return self.quarantined_at is not None and (when is None or when >= self.quarantined_at)

    def check_quarantine(self, reason: str) -> None:
        """The lot may be quarantined now, for this reason (else ValidationError)."""
        if self.is_quarantined:
            raise ValidationError(
                gettext("Lot %(number)s is already quarantined (since %(since)s).")
                % {
                    "number": self.lot_number,
                    "since": f"{timezone.localtime(self.quarantined_at):%Y-%m-%d %H:%M}",
                }
            )
        if not reason.strip():
            raise ValidationError(gettext("Give the reason for the quarantine."))

    def quarantine(self, *, by, reason: str, at=None) -> None:
        """Stop the lot from being used from now on. Saved by the caller (the service)."""
        self.check_quarantine(reason)
        self.quarantined_at = at or timezone.now()
        self.quarantined_by = by
        self.quarantine_reason = reason.strip()
        self.quarantine_lifted_at = self.quarantine_lifted_by = None
        self.quarantine_lift_reason = ""

    def check_lift_quarantine(self, reason: str) -> None:
        if not self.is_quarantined:
            raise ValidationError(
                gettext("Lot %(number)s is not quarantined.") % {"number": self.lot_number}
            )
        if not reason.strip():
            raise ValidationError(gettext("Give the reason for lifting the quarantine."))

    def lift_quarantine(self, *, by, reason: str, at=None) -> None:
        self.check_lift_quarantine(reason)
        self.quarantined_at = self.quarantined_by = None
        self.quarantine_reason = ""
        self.quarantine_lifted_at = at or timezone.now()
        self.quarantine_lifted_by = by
        self.quarantine_lift_reason = reason.strip()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Formula(models.Model):
    """A named mixture for an indication: its compounds and the amount of each per mL."""

    name = FreeCharField(_("name"), max_length=120, unique=True)
    indication = models.ForeignKey(
        Indication, verbose_name=_("indication"), on_delete=models.PROTECT, related_name="formulas"
    )
    notes = FreeTextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("formula")
        verbose_name_plural = _("formulas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormulaIngredient(models.Model):
    class Unit(models.TextChoices):
        MG = "mg", "mg"
        MCG = "mcg", "µg"
        ML = "mL", "mL"
        IU = "IU", _("IU")

    formula = models.ForeignKey(
        Formula, verbose_name=_("formula"), on_delete=models.CASCADE, related_name="ingredients"
    )
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    amount_per_ml = models.DecimalField(
        _("amount per mL of mixture"),
        max_digits=10,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unit"), max_length=4, choices=Unit.choices)

    class Meta:
        verbose_name = _("formula ingredient")
        verbose_name_plural = _("formula ingredients")
        ordering = ["formula", "compound__name"]
        constraints = [
            models.UniqueConstraint(fields=["formula", "compound"], name="unique_ingredient")
        ]

    def __str__(self) -> str:
        return f"{self.compound.name} {format_amount(self.amount_per_ml)} {self.unit}/mL"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class FormularyRule(models.Model):
    """Whether a compound may be injected in a jurisdiction. No rule means not on the
    formulary there: a compound must be listed before it can be planned."""

    class Status(models.TextChoices):
        PERMITTED = "permitted", _("Permitted")
        RESTRICTED = "restricted", _("Restricted (acknowledgement and note required)")
        PROHIBITED = "prohibited", _("Prohibited")

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="formulary_rules",
    )
    compound = models.ForeignKey(
        Compound,
        verbose_name=_("compound"),
        on_delete=models.PROTECT,
        related_name="formulary_rules",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    note = FreeTextField(
        _("note"), blank=True, help_text=_("Shown to the practitioner when planning.")
    )

    class Meta:
        verbose_name = _("formulary rule")
        verbose_name_plural = _("formulary rules")
        ordering = ["jurisdiction__code", "compound__name"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "compound"], name="one_rule_per_place")
        ]

    def __str__(self) -> str:
        return gettext("%(compound)s in %(place)s: %(status)s") % {
            "compound": self.compound.name,
            "place": self.jurisdiction.code,
            "status": self.get_status_display(),
        }


class NeedleRuleQuerySet(models.QuerySet):
    def for_patient(self, patient) -> "NeedleRule | None":
        """The default needle for the patient's phototype; None if not assessed or no rule."""
        if patient.phototype is None:
            return None
        return self.filter(phototype=patient.phototype).first()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class NeedleRule(models.Model):
    """Default needle for a skin phototype: the compounds must reach the right depth."""

    phototype = models.PositiveSmallIntegerField(
        _("phototype"), choices=Phototype.choices, unique=True
    )
    length_mm = models.DecimalField(
        _("needle length (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("13"))],
    )
    gauge = models.PositiveSmallIntegerField(
        _("gauge (G)"), validators=[MinValueValidator(25), MaxValueValidator(34)]
    )

    objects = NeedleRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("needle rule")
        verbose_name_plural = _("needle rules")
        ordering = ["phototype"]

    def __str__(self) -> str:
        return gettext("Phototype %(phototype)s: %(length)s mm, %(gauge)sG") % {
            "phototype": Phototype(self.phototype).name,
            "length": format_amount(self.length_mm),
            "gauge": self.gauge,
        }


# One cap for the plan and the session alike.
# Injection points in one zone, planned or given.
POINTS_PER_ZONE = [MinValueValidator(1), MaxValueValidator(500)]
MAX_VOLUME_PER_ZONE_ML = Decimal("10")
MAX_VOLUME_PER_ZONE = MaxValueValidator(
    MAX_VOLUME_PER_ZONE_ML,
    lazy(
        lambda: (
            gettext("At most %(volume)s mL in one zone per session.")
            % {"volume": format_amount(MAX_VOLUME_PER_ZONE_ML)}
        ),
        str,
    )(),
)


class FollowsNeedleRule:
    """The needle rules of a zone's plan and of an injection, written once.

    Subclasses have needle_length_mm, depth_mm and needle_override_reason, and say
    which NeedleRule applies (the patient's phototype) through `needle_rule()`.
    """

    def needle_rule(self) -> "NeedleRule | None":
        raise NotImplementedError

    def needle_off_default(self) -> bool:
        """The needle is not the patient's current default and no reason is given: what
        a change of phototype since the plan leaves behind (the rule refuses it at the
        next save)."""
        return "needle_override_reason" in self.needle_errors()

    def needle_errors(self) -> dict[str, str]:
        errors = {}
        length, depth = self.needle_length_mm, self.depth_mm
        if length is not None and depth is not None and depth > length:
            errors["depth_mm"] = gettext(
                "The depth cannot exceed the needle length (%(length)s mm)."
            ) % {"length": format_amount(length)}
        rule = self.needle_rule()
        if (
            rule is not None
            and length is not None
            and length != rule.length_mm
            and not self.needle_override_reason.strip()
        ):
            errors["needle_override_reason"] = gettext(
                "The default needle for phototype %(phototype)s is %(default)s mm: give the "
                "reason for %(length)s mm."
            ) % {
                "phototype": Phototype(rule.phototype).name,
                "default": format_amount(rule.length_mm),
                "length": format_amount(length),
            }
        return errors
