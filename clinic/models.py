"""The clinic's own records, beside the patient's: the permissions roles carry
(Capability), the access and sign-in logs, jurisdictions and locations, and each
user's profile."""

import pghistory
import pgtrigger
from axes.models import AccessLog as AxesAccessLog
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.fields import ADDRESS_MAX_LENGTH, FreeCharField, FreeTextField

# Clinical rows are archived, withdrawn or amended, never deleted: the database
# refuses a DELETE whatever issues it. Used in each clinical model's Meta.triggers.
NO_DELETE = pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete)


class Capability(models.Model):
    """Carries role permissions that belong to no single model (no table)."""

    class Meta:
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")
        managed = False
        default_permissions = ()
        permissions = [
            ("access_console", "Can open the catalogue console"),
            ("view_clinical_record", "Can read clinical records"),
            ("change_clinical_record", "Can write clinical records"),
            ("record_injections", "Can record and sign injections"),
            ("view_demographics", "Can read patient demographics"),
            ("change_demographics", "Can edit patient demographics"),
            ("view_session_list", "Can see the session list"),
            ("manage_catalogue", "Can change the compound catalogue"),
            ("view_audit", "Can search the access log and record history"),
        ]

    def __str__(self) -> str:
        return "capability"


class AccessLog(models.Model):
    """Who read, printed, exported or downloaded which patient record, and when.

    Append-only: a database trigger refuses updates and deletes, so not even the
    application (or the admin) can rewrite it.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        PRINT = "print", _("Printed")
        EXPORT = "export", _("Exported")
        DOWNLOAD = "download", _("Downloaded")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # The patient record (or the part of it) that was accessed. Generic, so this
    # cross-cutting app does not depend on the apps that hold patient data.
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("content type"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64)
    subject = GenericForeignKey("content_type", "object_id")
    patient_id = models.BigIntegerField(_("patient id"))  # indexed with the time, below
    path = models.CharField(_("path"), max_length=500)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name_plural = _("patient record access logs")
        # Not just "access log": the console also lists the sign-in log (axes).
        verbose_name = _("patient record access log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"]),
            # The privacy officer's search for a patient, newest first: the patient's rows
            # in time order, not the whole log walked by date.
            models.Index(fields=["patient_id", "-at", "-id"], name="accesslog_patient_newest"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user} {self.get_action_display().lower()} {self.content_type} {self.object_id}"
        )


# Changes to accounts and role membership are part of the audit trail: who
# granted whom the Practitioner role, and when. Password hashes are not copied.
UserEvent = pghistory.create_event_model(
    User,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
    app_label="clinic",
    model_name="UserEvent",
    abstract=False,
)

UserGroupEvent = pghistory.create_event_model(
    User.groups.through,
    pghistory.InsertEvent(),
    pghistory.DeleteEvent(),
    obj_field=None,
    app_label="clinic",
    model_name="UserGroupEvent",
    abstract=False,
)


class SignInLog(AxesAccessLog):
    """axes' record of each sign-in and sign-out, named so the console cannot confuse it
    with the patient record access log (a proxy: axes keeps its table and its writes)."""

    class Meta:
        verbose_name_plural = _("sign-in logs")
        proxy = True
        verbose_name = _("sign-in log")


class Jurisdiction(models.Model):
    """A province or state (ISO 3166-2): it decides which compounds may be injected."""

    code = models.CharField(
        _("ISO 3166-2 code"),
        max_length=6,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z]{2}-[A-Z0-9]{1,3}$", _("Use an ISO 3166-2 code such as CA-ON or US-FL.")
            )
        ],
    )
    name = FreeCharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class LocationQuerySet(models.QuerySet):
    def active(self) -> "LocationQuerySet":
        return self.filter(active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Location(models.Model):
    """A clinic where sessions take place; its jurisdiction sets the formulary."""

    name = FreeCharField(_("name"), max_length=100, unique=True)
    address = FreeTextField(_("address"), blank=True, max_length=ADDRESS_MAX_LENGTH)
    phone = FreeCharField(
        _("phone"),
        max_length=25,
        blank=True,
        help_text=_("Printed on session summaries for patients to call."),
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """A user's own settings: the language pages are shown in (blank: the browser's).

    Read once at sign-in and kept in the session (clinic.i18n), not on every request."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Blank: the language your browser asks for."),
    )

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return f"profile of {self.user}"
