import base64
import binascii

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.forms import DateInput, DateTimeInput
from patients.images import MAX_UPLOAD_BYTES, CleanImage, clean_image
from patients.models import (
    ALERT_FIELDS,
    CONTRAINDICATION_FLAGS,
    AllergyStatus,
    Consent,
    ConsentTemplate,
    Measurement,
    Patient,
    Photo,
)
from patients.search import SORTS
from patients.services import check_photo_allowed

DEMOGRAPHIC_FIELDS = [
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "preferred_language",
    "address",
]
CLINICAL_FIELDS = ["phototype", *ALERT_FIELDS]


class PatientForm(forms.ModelForm):
    """Demographics for everyone who may edit them; clinical fields only with the right."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS + CLINICAL_FIELDS
        widgets = {
            "date_of_birth": DateInput(),
            "address": forms.Textarea(attrs={"rows": 2}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "current_medications": forms.Textarea(attrs={"rows": 2}),
            "medical_history": forms.Textarea(attrs={"rows": 3}),
            "contraindication_notes": forms.Textarea(attrs={"rows": 2}),
            "phototype": forms.RadioSelect,
            "allergy_status": forms.RadioSelect,
        }
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "date_of_birth": _("Date of birth"),
            "sex": _("Sex"),
            "phone": _("Phone"),
            "email": _("Email"),
            "address": _("Address"),
            "allergy_status": _("Allergies"),
            "allergies": _("List of allergies"),
            "current_medications": _("Current medications"),
            "medical_history": _("Medical history"),
            "contraindication_notes": _("Contraindication notes"),
        }
        help_texts = {
            "allergies": _(
                "Required when the answer is “Allergies listed”: as the patient tells them."
            ),
            "phototype": _(
                "Sets the default needle length (the catalogue's needle rules; "
                "shipped: 4 mm for I–IV, 6 mm for V–VI)."
            ),
        }

    def __init__(self, *args, clinical: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phototype"].choices = Patient._meta.get_field("phototype").choices
        if clinical:
            self.fields["phototype"].required = True
            self.fields["allergy_status"].choices = AllergyStatus.choices  # no blank choice
        else:
            for name in CLINICAL_FIELDS:
                del self.fields[name]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        # Left out of a post (older clients, scripts): the patient's language stays as it is.
        self.fields["preferred_language"].required = False
        self.helper = self._layout(clinical)

    def clean_preferred_language(self) -> str:
        return self.cleaned_data["preferred_language"] or self.instance.preferred_language

    @staticmethod
    def _layout(clinical: bool) -> FormHelper:
        def pair(first: str, second: str) -> Row:
            return Row(Column(first, css_class="col-md-6"), Column(second, css_class="col-md-6"))

        sections = [
            Fieldset(
                _("Identity and contact"),
                pair("first_name", "last_name"),
                pair("date_of_birth", "sex"),
                pair("phone", "email"),
                "preferred_language",
                "address",
            )
        ]
        if clinical:
            sections += [
                Fieldset(_("Skin"), "phototype"),
                Fieldset(
                    _("Medical"),
                    "allergy_status",
                    pair("allergies", "current_medications"),
                    "medical_history",
                ),
                Fieldset(
                    _("Contraindications"),
                    *(
                        pair(first, second)
                        for first, second in zip(
                            CONTRAINDICATION_FLAGS[::2], CONTRAINDICATION_FLAGS[1::2], strict=True
                        )
                    ),
                    "contraindication_notes",
                ),
            ]
        helper = FormHelper()
        helper.form_tag = False
        helper.layout = Layout(*sections, "version")
        return helper

    # The names, the date of birth and the phone are checked by the model (validators
    # and Patient.clean), so the console, a service or an import keep the same rules.

    def clean_email(self):
        return self.cleaned_data.get("email", "").strip().lower()


class PatientSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=_("Find a patient"))
    archived = forms.BooleanField(required=False, label=_("Include archived"))
    # A crafted sort is simply not one of the choices: the form drops it.
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])

    def clean_sort(self):
        return self.cleaned_data.get("sort") or None


class ArchiveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ConsentForm(forms.ModelForm):
    """Record a signed consent: drawn on screen (data URL) or a scan of the paper form."""

    signature_data = forms.CharField(required=False, widget=forms.HiddenInput)
    scan = forms.FileField(
        required=False,
        label=_("Scan of the signed form (JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    class Meta:
        model = Consent
        fields = ["template", "signed_on", "signed_by", "method"]
        widgets = {"signed_on": DateInput(), "method": forms.RadioSelect}
        labels = {
            "template": _("Consent"),
            "signed_on": _("Signed on"),
            "method": _("Method"),
        }

    def __init__(self, *args, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the newest wording of each kind can be signed.
        current = ConsentTemplate.objects.current()
        self.fields["template"].queryset = current
        self.fields["template"].empty_label = None
        self.fields["template"].label_from_instance = lambda t: (
            gettext("%(kind)s (version %(version)s)")
            % {"kind": t.get_kind_display(), "version": t.version}
        )
        self.fields["method"].choices = Consent.Method.choices  # no blank choice
        self.initial["method"] = self.initial.get("method") or Consent.Method.DRAWN
        if kind:
            self.initial.setdefault("template", None)
            self.initial["template"] = self.initial["template"] or current.filter(kind=kind).first()
        if self.instance.patient_id and not self.initial.get("signed_by"):
            self.initial["signed_by"] = self.instance.patient.full_name
        self.initial["signed_on"] = self.initial.get("signed_on") or timezone.localdate()
        self.cleaned_image: CleanImage | None = None

    def clean(self):
        data = super().clean()
        method = data.get("method")
        try:
            if method == Consent.Method.DRAWN:
                self.cleaned_image = clean_image(_decode_data_url(data.get("signature_data")))
            elif method == Consent.Method.SCAN:
                if not data.get("scan"):
                    raise ValidationError(gettext("Attach the scan of the signed form."))
                self.cleaned_image = clean_image(data["scan"])
        except ValidationError as error:
            field = "signature_data" if method == Consent.Method.DRAWN else "scan"
            self.add_error(field, error)
        return data


def _decode_data_url(value: str | None) -> SimpleUploadedFile:
    prefix = "data:image/png;base64,"
    if not value:
        raise ValidationError(gettext("Draw the signature in the box, or choose the scanned form."))
    unreadable = gettext("The drawn signature could not be read; please sign again.")
    if not value.startswith(prefix) or len(value) > MAX_UPLOAD_BYTES * 4 // 3:
        raise ValidationError(unreadable)
    try:
        raw = base64.b64decode(value[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(unreadable) from None
    return SimpleUploadedFile("signature.png", raw, content_type="image/png")


class WithdrawConsentForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, label=_("Reason for withdrawal")
    )


class PhotoForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("Photo (JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    class Meta:
        model = Photo
        fields = ["taken_at", "region", "view", "posture", "phase", "notes"]
        widgets = {
            "taken_at": DateTimeInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "taken_at": _("Taken at"),
            "view": _("View"),
            "posture": _("Posture"),
            "phase": _("Phase"),
            "notes": _("Notes"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.initial.get("taken_at"):
            self.initial["taken_at"] = timezone.localtime().replace(second=0, microsecond=0)
        self.cleaned_image: CleanImage | None = None

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        check_photo_allowed(self.instance.patient)  # before decoding a pixel
        self.cleaned_image = clean_image(upload)
        return upload


class MeasurementForm(forms.ModelForm):
    class Meta:
        model = Measurement
        fields = ["site", "landmark", "value", "unit", "posture", "measured_on", "notes"]
        widgets = {"measured_on": DateInput()}
        labels = {
            "site": _("Site"),
            "landmark": _("Landmark"),
            "value": _("Value"),
            "unit": _("Unit"),
            "posture": _("Posture"),
            "measured_on": _("Measured on"),
            "notes": _("Notes"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["measured_on"] = self.initial.get("measured_on") or timezone.localdate()
        self.fields["value"].widget.attrs.update({"step": "0.1", "min": "0.1"})
        self.fields["site"].widget.attrs["list"] = "known-sites"  # earlier sites, as suggestions

    def clean_site(self):
        return " ".join(self.cleaned_data["site"].split()).capitalize()
