"""Patients and what is kept about them: consents, photos, measurements."""

import dataclasses
import re
import uuid
from datetime import date
from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Coalesce, Concat, Lower
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.fields import ADDRESS_MAX_LENGTH, FreeCharField, FreeTextField
from clinic.models import NO_DELETE
from clinic.validators import not_in_future

PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9 ().-]+$",
    _("Enter a phone number using digits, spaces, dots, dashes, brackets and a leading +."),
)
MAX_AGE_YEARS = 120


def chart_number_for(number: int) -> str:
    """The chart number of the sequence's `number`: "MC-000123" (saving, the search, the
    demo data)."""
    return f"MC-{number:06d}"


def validate_phone(value: str) -> None:
    """A phone number as typed: digits with spaces, dots, dashes, brackets and a leading
    +, 7 to 15 digits in all (the form, the services, an import and the console)."""
    PHONE_VALIDATOR(value)
    if not 7 <= len(re.sub(r"\D", "", value)) <= 15:
        raise ValidationError(gettext("A phone number has 7 to 15 digits."), code="phone_digits")


def validate_date_of_birth(value: date) -> None:
    """Not after today, nor more than MAX_AGE_YEARS back (a mistyped year)."""
    today = timezone.localdate()
    if value > today:
        raise ValidationError(gettext("The date of birth cannot be in the future."), code="future")
    if today.year - value.year > MAX_AGE_YEARS:
        raise ValidationError(
            gettext("That would make the patient older than %(years)d; check the year.")
            % {"years": MAX_AGE_YEARS},
            code="too_old",
        )


def tidy_name(value: str) -> str:
    """A name as it is kept: runs of spaces (and tabs, line breaks) made one space."""
    return " ".join(value.split())


class Unaccent(Func):
    """mesochart_unaccent(): PostgreSQL's unaccent, declared IMMUTABLE so it can be indexed."""

    function = "mesochart_unaccent"
    output_field = models.TextField()


class NameKeys(Func):
    """mesochart_name_keys(): the letters of each word of a folded name, sorted. A word
    with two letters swapped keeps its key, so the search finds transpositions through
    an index (patients/search.py)."""

    function = "mesochart_name_keys"

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=ArrayField(models.TextField()), **extra)


class SlipKeys(NameKeys):
    """mesochart_slip_keys(): for each word of a folded name, its key (its letters,
    sorted) and, from four letters, each key with one letter left out. A word typed one
    slip away (two letters swapped, one dropped, added or mistyped) shares a key with
    it: patients/search.py looks up the typed word's own keys the same way, a dozen
    where listing every neighbour took 270 for a nine-letter word."""

    function = "mesochart_slip_keys"


class Phototype(models.IntegerChoices):
    """Fitzpatrick skin phototype. It sets the default needle length."""

    I = 1, _("I — very fair: always burns, never tans")  # noqa: E741
    II = 2, _("II — fair: usually burns, tans with difficulty")
    III = 3, _("III — medium: sometimes burns, tans gradually")
    IV = 4, _("IV — olive: rarely burns, tans easily")
    V = 5, _("V — brown: very rarely burns, tans very easily")
    VI = 6, _("VI — dark brown to black: never burns")


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    INTERSEX = "X", _("Intersex")
    UNDISCLOSED = "U", _("Not disclosed")


# The contraindications asked of every patient, in the order the form and the alerts
# show them: the form's section, Patient.contraindications and the demo data read this.
CONTRAINDICATION_FLAGS = (
    "pregnant_or_breastfeeding",
    "anticoagulant_treatment",
    "active_skin_infection",
    "compound_allergy",
)

# What the alerts read of a patient (Patient.alerts), in the order the form shows them:
# the list page loads these columns for its badge, and signing asks about any of them
# that changed after a draft was saved (treatments.services.signature).
ALERT_FIELDS = [
    "allergy_status",
    "allergies",
    "current_medications",
    "medical_history",
    *CONTRAINDICATION_FLAGS,
    "contraindication_notes",
]


class AllergyStatus(models.TextChoices):
    """Allergies are an answer: "none known" is a fact, "not asked yet" a gap to fill."""

    NOT_ASKED = "not_asked", _("Not asked yet")
    NONE_KNOWN = "none_known", _("No known allergies")
    LISTED = "listed", _("Allergies listed")


class AlertLevel(models.TextChoices):
    """How loudly the alerts speak: red, amber, or the green "nothing recorded"."""

    DANGER = "danger", _("Allergy or contraindication")
    WARNING = "warning", _("Check before injecting")
    CLEAR = "clear", _("Nothing recorded")


@dataclasses.dataclass(frozen=True)
class PatientAlerts:
    """What the alerts partial shows, decided here once (Patient.alerts); the partial
    only displays it. Free text is shown as typed, never read for keywords."""

    level: str
    allergy_status: str
    allergies: str
    contraindications: list[str]
    contraindication_notes: str
    medical_history: str
    current_medications: str

    @property
    def shown(self) -> bool:
        """Something to read: a banner or a paper shows the box."""
        return self.level != AlertLevel.CLEAR

    @property
    def danger(self) -> bool:
        return self.level == AlertLevel.DANGER

    @property
    def allergies_not_recorded(self) -> bool:
        return self.allergy_status == AllergyStatus.NOT_ASKED

    @property
    def no_known_allergies(self) -> bool:
        return self.allergy_status == AllergyStatus.NONE_KNOWN

    @property
    def summary(self) -> str:
        """All of it on one line, for a tooltip (the patient list's badge)."""
        parts = []
        if self.allergies:
            parts.append(gettext("Allergies: %(allergies)s.") % {"allergies": self.allergies})
        elif self.allergies_not_recorded:
            parts.append(gettext("Allergies not recorded yet."))
        if self.contraindications:
            parts.append(
                gettext("Contraindications: %(contraindications)s.")
                % {"contraindications": "; ".join(self.contraindications)}
            )
        if self.contraindication_notes:
            parts.append(gettext("Notes: %(notes)s") % {"notes": self.contraindication_notes})
        if self.medical_history:
            parts.append(
                gettext("Medical history: %(history)s") % {"history": self.medical_history}
            )
        if self.current_medications:
            parts.append(
                gettext("Medications: %(medications)s") % {"medications": self.current_medications}
            )
        return " ".join(parts)


class PatientQuerySet(models.QuerySet):
    def active(self) -> "PatientQuerySet":
        return self.filter(archived=False)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # Derived columns: PostgreSQL computes them and refuses copies into history.
    exclude=["search_name", "name_keys", "phone_digits", "sort_last", "sort_first"],
)
class Patient(models.Model):
    chart_number = models.CharField(_("chart number"), max_length=16, unique=True, editable=False)
    first_name = FreeCharField(_("first name"), max_length=100)
    last_name = FreeCharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), validators=[validate_date_of_birth])
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNDISCLOSED)
    phone = FreeCharField(_("phone"), max_length=25, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    address = FreeTextField(_("address"), blank=True, max_length=ADDRESS_MAX_LENGTH)
    # The language of what is handed to the patient: printed summary, signed PDF, booklet,
    # consent wording (clinic.i18n.in_patient_language).
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the printed summaries, the booklet and the consent forms."),
    )

    # Null until a practitioner assesses it (an assistant may register the patient).
    phototype = models.PositiveSmallIntegerField(
        _("skin phototype (Fitzpatrick)"), choices=Phototype.choices, null=True, blank=True
    )
    # Answered, not guessed from the text: the text is required when "listed" and
    # empty otherwise (clean(), and the patient_allergy_answer constraint).
    allergy_status = models.CharField(
        _("allergies"),
        max_length=12,
        choices=AllergyStatus.choices,
        default=AllergyStatus.NOT_ASKED,
    )
    allergies = FreeTextField(_("list of allergies"), blank=True)
    current_medications = FreeTextField(_("current medications"), blank=True)
    medical_history = FreeTextField(_("medical history"), blank=True)
    # Contraindications to mesotherapy the practitioner must see before injecting.
    pregnant_or_breastfeeding = models.BooleanField(_("pregnancy or breastfeeding"), default=False)
    anticoagulant_treatment = models.BooleanField(_("anticoagulant treatment"), default=False)
    active_skin_infection = models.BooleanField(
        _("active skin infection at the site"), default=False
    )
    compound_allergy = models.BooleanField(_("known allergy to a compound"), default=False)
    contraindication_notes = FreeTextField(_("contraindication notes"), blank=True)

    archived = models.BooleanField(_("archived"), default=False)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Optimistic concurrency: a save must name the version it was edited from.
    version = models.PositiveIntegerField(_("version"), default=1)

    # Maintained by PostgreSQL: accent- and case-folded names for trigram search.
    search_name = models.GeneratedField(
        expression=Unaccent(Lower(Concat(F("first_name"), Value(" "), F("last_name")))),
        output_field=models.TextField(),
        db_persist=True,
    )
    # The typo search's keys (SlipKeys), stored: computing them for each candidate row
    # cost more than the rest of the search (patients/search.py).
    name_keys = models.GeneratedField(
        # PostgreSQL computes no generated column from another: search_name's expression.
        expression=SlipKeys(
            Unaccent(
                Lower(
                    Concat(
                        F("first_name"),
                        Value(" "),
                        F("last_name"),
                        output_field=models.TextField(),
                    )
                )
            )
        ),
        output_field=ArrayField(models.TextField()),
        db_persist=True,
    )
    # The name order of every list (case and accents ignored), stored: folding the
    # names of a common surname's 1,659 holders cost a search 10 ms (patients/search.py).
    sort_last = models.GeneratedField(
        expression=Unaccent(Lower("last_name")), output_field=models.TextField(), db_persist=True
    )
    sort_first = models.GeneratedField(
        expression=Unaccent(Lower("first_name")), output_field=models.TextField(), db_persist=True
    )
    phone_digits = models.GeneratedField(
        expression=Func(F("phone"), Value(r"\D"), Value(""), Value("g"), function="regexp_replace"),
        output_field=models.CharField(max_length=25),
        db_persist=True,
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["sort_last", "sort_first", "id"]
        indexes = [
            GinIndex(
                fields=["search_name"], name="patient_search_name_trgm", opclasses=["gin_trgm_ops"]
            ),
            GinIndex(
                fields=["phone_digits"],
                name="patient_phone_digits_trgm",
                opclasses=["gin_trgm_ops"],
            ),
            # The typo search's index: a slipped word's neighbours are looked up by key.
            GinIndex(fields=["name_keys"], name="patient_name_keys_stored"),
            models.Index(fields=["date_of_birth"], name="patient_date_of_birth"),
            # Matches SORTS["name"] in patients/search.py: case and accents ignored.
            models.Index(fields=["sort_last", "sort_first", "id"], name="patient_name_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(phototype__gte=1, phototype__lte=6), name="patient_phototype_range"
            ),
            # The database's copy of clean()'s rule, for writes that skip full_clean().
            models.CheckConstraint(
                condition=(
                    Q(allergy_status=AllergyStatus.LISTED, allergies__regex=r"\S")
                    | (~Q(allergy_status=AllergyStatus.LISTED) & ~Q(allergies__regex=r"\S"))
                ),
                name="patient_allergy_answer",
                violation_error_message=_(
                    "List the allergies only when the answer is “Allergies listed”."
                ),
            ),
        ]
        triggers = [NO_DELETE]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.chart_number})"

    def save(self, *args, **kwargs) -> None:
        if not self.chart_number:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval('patients_chart_number_seq')")
                (number,) = cursor.fetchone()
            self.chart_number = chart_number_for(number)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("patients:chart", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    @property
    def phototype_numeral(self) -> str:
        return Phototype(self.phototype).name if self.phototype else ""

    def clean(self) -> None:
        self.first_name, self.last_name = tidy_name(self.first_name), tidy_name(self.last_name)
        self.phone = self.phone.strip()
        for field in ("first_name", "last_name"):
            if not getattr(self, field):  # spaces alone are no name
                raise ValidationError(
                    {field: ValidationError(gettext("This field is required."), code="required")}
                )
        listed = self.allergy_status == AllergyStatus.LISTED
        if listed and not self.allergies.strip():
            raise ValidationError(
                {
                    "allergies": ValidationError(
                        _("List the allergies, or answer “No known allergies” or “Not asked yet”."),
                        code="allergies_missing",
                    )
                }
            )
        if not listed and self.allergies.strip():
            raise ValidationError(
                {
                    "allergies": ValidationError(
                        _(
                            "Allergies are typed here but the answer is “%(answer)s”: choose "
                            "“Allergies listed”, or clear the text."
                        ),
                        code="allergies_unlisted",
                        params={"answer": self.get_allergy_status_display()},
                    )
                }
            )
        if not listed:
            self.allergies = ""  # whitespace alone is no answer

    def check_writable(self) -> None:
        """Every write to the record goes through here: an archived record is read-only.
        Asks the database, not this copy: the record may have been archived since it was
        loaded (another tab, another user)."""
        archived = self.archived
        if self.pk is not None:
            archived = Patient.objects.filter(pk=self.pk, archived=True).exists()
        if archived:
            raise ValidationError(
                gettext(
                    "This patient is archived: the record is read-only. Restore it before "
                    "recording anything."
                ),
                code="archived",
            )

    @property
    def alerts(self) -> PatientAlerts:
        """What every screen and paper shows before injecting. Red: allergies listed, a
        contraindication ticked or noted. Amber: allergies never asked, or a medical
        history or medications to read (free text is shown, not interpreted). Green only
        when allergies are answered "none known" and every other field is empty."""
        listed = self.allergy_status == AllergyStatus.LISTED
        contraindications = self.contraindications
        notes = self.contraindication_notes.strip()
        history = self.medical_history.strip()
        medications = self.current_medications.strip()
        if listed or contraindications or notes:
            level = AlertLevel.DANGER
        elif self.allergy_status != AllergyStatus.NONE_KNOWN or history or medications:
            level = AlertLevel.WARNING
        else:
            level = AlertLevel.CLEAR
        return PatientAlerts(
            level=level,
            allergy_status=self.allergy_status,
            allergies=self.allergies if listed else "",
            contraindications=contraindications,
            contraindication_notes=notes,
            medical_history=history,
            current_medications=medications,
        )

    @property
    def contraindications(self) -> list[str]:
        """Labels of the contraindications ticked for this patient."""
        return [
            str(self._meta.get_field(name).verbose_name).capitalize()
            for name in CONTRAINDICATION_FLAGS
            if getattr(self, name)
        ]


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    PHOTOGRAPHY = "photography", _("Photography")
    OFF_LABEL = "off_label", _("Off-label use of compounds and mixtures")


class ConsentTemplateQuerySet(models.QuerySet):
    def current(self) -> "ConsentTemplateQuerySet":
        """The newest version of each kind (a plain filter, so .get(pk=old) finds nothing)."""
        newest = ConsentTemplate.objects.order_by("kind", "-version").distinct("kind").values("pk")
        return self.filter(pk__in=newest).order_by("kind")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ConsentTemplate(models.Model):
    """The wording a patient signs. A new wording is a new version, never an edit."""

    kind = models.CharField(_("kind"), max_length=20, choices=ConsentKind.choices)
    version = models.PositiveIntegerField(_("version"), editable=False)
    title = FreeCharField(_("title"), max_length=200)
    text = FreeTextField(_("text"), max_length=20_000)
    # The French wording, versioned with the English one. Versions made before it
    # existed have none: the English is then shown, with a note (wording_in).
    title_fr = FreeCharField(_("title (French)"), max_length=200, blank=True)
    text_fr = FreeTextField(_("text (French)"), max_length=20_000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ConsentTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent template")
        verbose_name_plural = _("consent templates")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consent_template_version"),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s consent, version %(version)s") % {
            "kind": self.get_kind_display(),
            "version": self.version,
        }

    def save(self, *args, **kwargs) -> None:
        if self.version is None:
            latest = ConsentTemplate.objects.filter(kind=self.kind).aggregate(
                models.Max("version")
            )["version__max"]
            self.version = (latest or 0) + 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # A new version carries its wording in both languages; versions made before
        # the French wording existed keep their English alone.
        if self._state.adding and not (self.title_fr.strip() and self.text_fr.strip()):
            raise ValidationError(
                {
                    field: ValidationError(
                        _("A new version needs the French wording too."), code="french_required"
                    )
                    for field in ("title_fr", "text_fr")
                    if not getattr(self, field).strip()
                }
            )

    def wording_in(self, language: str) -> "ConsentWording":
        """The title and text to show in `language`, and the language they are really in."""
        if language.startswith("fr") and self.text_fr.strip():
            return ConsentWording(self.title_fr or self.title, self.text_fr, "fr-ca")
        return ConsentWording(self.title, self.text, "en")


@dataclasses.dataclass(frozen=True)
class ConsentWording:
    title: str
    text: str
    language: str


def _server_name(folder: str, filename: str) -> str:
    # The client's file name is never used on disk; the extension is set by the
    # image pipeline (patients.images), which re-encodes every upload.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{folder}/{uuid.uuid4().hex}.{suffix}"


def consent_upload_to(instance, filename: str) -> str:
    return _server_name("consents", filename)


def photo_upload_to(instance, filename: str) -> str:
    return _server_name("photos", filename)


def thumbnail_upload_to(instance, filename: str) -> str:
    return _server_name("thumbnails", filename)


class ConsentQuerySet(models.QuerySet):
    def in_force(self, *, kind: str | None = None, at=None) -> "ConsentQuerySet":
        """Consents in force at `at` (default: now): signed on or before that day, not
        withdrawn by then, and on the wording of their kind that was the newest then (a
        wording published later does not reach back to a session already performed; when
        no wording existed yet, the first one counts). The one definition, used by the
        chart, the session form, signing and photo uploads."""
        at = at or timezone.now()
        of_kind = ConsentTemplate.objects.filter(kind=models.OuterRef("template__kind"))
        newest_then = Coalesce(
            models.Subquery(
                of_kind.filter(created_at__lte=at).order_by("-version").values("version")[:1]
            ),
            models.Subquery(of_kind.order_by("version").values("version")[:1]),
        )
        consents = self.filter(
            Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=at),
            signed_on__lte=timezone.localtime(at).date(),
            template__version=newest_then,
        )
        return consents.filter(template__kind=kind) if kind else consents


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Consent(models.Model):
    """A consent signed by (or for) a patient, on one version of a template."""

    class Method(models.TextChoices):
        DRAWN = "drawn", _("Signed on screen")
        SCAN = "scan", _("Scan of the signed paper form")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="consents"
    )
    template = models.ForeignKey(
        ConsentTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    signed_on = models.DateField(_("signed on"), validators=[not_in_future])
    signed_by = FreeCharField(
        _("signed by"), max_length=200, help_text=_("The patient, or the legal representative.")
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    # Evidence: the language of the wording shown when it was signed (blank: before this
    # was recorded, the English).
    wording_language = models.CharField(
        _("wording language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    signature = models.ImageField(_("signature"), upload_to=consent_upload_to)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawal_reason = FreeTextField(_("withdrawal reason"), blank=True, max_length=1_000)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-signed_on", "-id"]
        triggers = [NO_DELETE]

    def __str__(self) -> str:
        return gettext("%(template)s signed %(date)s by %(name)s") % {
            "template": self.template,
            "date": f"{self.signed_on:%Y-%m-%d}",
            "name": self.signed_by,
        }

    @property
    def kind(self) -> str:
        return self.template.kind


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Photo(models.Model):
    class View(models.TextChoices):
        FRONT = "front", _("Front")
        BACK = "back", _("Back")
        LEFT = "left", _("Left side")
        RIGHT = "right", _("Right side")

    class Posture(models.TextChoices):
        STANDING = "standing", _("Standing")
        LYING = "lying", _("Lying")

    class Phase(models.TextChoices):
        BEFORE = "before", _("Before treatment")
        AFTER = "after", _("After treatment")
        FOLLOW_UP = "follow_up", _("Follow-up")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="photos"
    )
    taken_at = models.DateTimeField(_("taken at"), validators=[not_in_future])
    region = FreeCharField(_("body region"), max_length=100)
    view = models.CharField(_("view"), max_length=10, choices=View.choices)
    posture = models.CharField(
        _("posture"), max_length=10, choices=Posture.choices, default=Posture.STANDING
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices)
    notes = FreeTextField(_("notes"), blank=True)
    image = models.ImageField(
        _("image"), upload_to=photo_upload_to, width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(_("thumbnail"), upload_to=thumbnail_upload_to)
    width = models.PositiveIntegerField(_("width"), editable=False, default=0)
    height = models.PositiveIntegerField(_("height"), editable=False, default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["patient", "region", "view", "taken_at"])]
        triggers = [NO_DELETE]

    def __str__(self) -> str:
        return f"{self.region}, {self.get_view_display()} ({self.get_phase_display()})"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Measurement(models.Model):
    class Unit(models.TextChoices):
        CM = "cm", "cm"
        MM = "mm", "mm"
        KG = "kg", "kg"

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="measurements"
    )
    site = FreeCharField(_("site"), max_length=100, help_text=_("For example: right thigh"))
    landmark = FreeCharField(
        _("landmark"),
        max_length=200,
        blank=True,
        help_text=_("For example: 15 cm above the patella"),
    )
    value = models.DecimalField(
        _("value"),
        max_digits=6,
        decimal_places=1,
        validators=[
            MinValueValidator(Decimal("0.1")),
            MaxValueValidator(Decimal("500"), _("That value is implausible; check the unit.")),
        ],
    )
    unit = models.CharField(_("unit"), max_length=4, choices=Unit.choices, default=Unit.CM)
    posture = models.CharField(
        _("posture"), max_length=10, choices=Photo.Posture.choices, default=Photo.Posture.STANDING
    )
    measured_on = models.DateField(_("measured on"), validators=[not_in_future])
    notes = FreeCharField(_("notes"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["site", "measured_on", "id"]
        indexes = [models.Index(fields=["patient", "site", "measured_on"])]
        triggers = [NO_DELETE]

    def __str__(self) -> str:
        return gettext("%(site)s: %(value)s %(unit)s on %(date)s") % {
            "site": self.site,
            "value": formats.localize(self.value),
            "unit": self.unit,
            "date": f"{self.measured_on:%Y-%m-%d}",
        }
