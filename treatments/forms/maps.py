from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.forms import show_problems
from clinic.models import Location
from patients.forms import DateTimeInput
from patients.models import Measurement
from treatments.models import BodyRegion, Formula, Indication, MapZone, TreatmentMap
from treatments.services.maps import zone_problems


class MapForm(forms.ModelForm):
    """Step 1: the indication, where, the zones, and the standing attestation."""

    regions = forms.ModelMultipleChoiceField(
        queryset=BodyRegion.objects.active(),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        label="Zones to treat",
        error_messages={"required": "Choose at least one zone on the diagram or in the list."},
    )

    class Meta:
        model = TreatmentMap
        fields = [
            "indication",
            "location",
            "mapped_standing",
            "mapped_at",
            "planned_sessions",
            "days_between",
            "notes",
        ]
        widgets = {"mapped_at": DateTimeInput(), "notes": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "mapped_standing": "Cellulite and fat pads largely disappear lying down: map and "
            "measure with the patient standing, before cleansing and positioning on the table.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indication"].queryset = Indication.objects.active()
        locations = Location.objects.active().select_related("jurisdiction")
        self.fields["location"].queryset = locations
        only = list(locations[:2])
        if len(only) == 1 and not self.initial.get("location"):  # one clinic: nothing to choose
            self.initial["location"] = only[0].pk
        self.fields["mapped_at"].initial = lambda: timezone.localtime().replace(second=0)
        self.fields["planned_sessions"].initial = 6
        self.fields["days_between"].initial = 14

    def clean_mapped_standing(self):
        if not self.cleaned_data.get("mapped_standing"):
            raise ValidationError(
                "Confirm that the area was mapped and measured with the patient standing.",
                code="not_standing",
            )
        return True


class ZonePlanForm(forms.ModelForm):
    """Step 2, one per zone: needle, depth, technique, mixture and volume. The rules are
    the zone's (MapZone.clean) and the map service's (zone_problems)."""

    class Meta:
        model = MapZone
        fields = [
            "needle_length_mm",
            "needle_override_reason",
            "gauge",
            "depth_mm",
            "technique",
            "spacing_mm",
            "formula",
            "planned_volume_ml",
            "restricted_acknowledged",
            "restricted_note",
            "baseline",
        ]

    def __init__(self, *args, baselines, formulas, baseline_rows: list, formula_rows: list, **kw):
        super().__init__(*args, **kw)
        for name in (
            "needle_length_mm",
            "gauge",
            "depth_mm",
            "technique",
            "formula",
            "planned_volume_ml",
        ):
            self.fields[name].required = True
        # Querysets validate a POST; the choices shown were loaded once for all zones.
        self.fields["formula"].queryset = formulas
        self.fields["formula"].choices = [
            ("", "---------"),
            *((f.pk, str(f)) for f in formula_rows),
        ]
        self.fields["baseline"].queryset = baselines
        self.fields["baseline"].choices = [("", "none"), *((m.pk, str(m)) for m in baseline_rows)]
        self.fields["baseline"].required = False
        for name in ("needle_length_mm", "depth_mm", "spacing_mm"):
            self.fields[name].widget.attrs["step"] = "0.5"
        self.fields["planned_volume_ml"].widget.attrs["step"] = "0.1"


class BaseZoneFormSet(forms.BaseModelFormSet):
    def is_valid(self) -> bool:
        """The fields, then what the map service says of each zone (the formulary)."""
        if not super().is_valid():
            return False
        for form in self.forms:
            show_problems(form, zone_problems(form.instance))
        return not any(form.errors for form in self.forms)


def zone_formset(*, treatment_map: TreatmentMap, data=None):
    """One ZonePlanForm per zone of the map, sharing the querysets they need."""
    patient = treatment_map.patient
    baselines = Measurement.objects.filter(patient=patient).order_by("site", "-measured_on")
    formulas = Formula.objects.active().prefetch_related("ingredients__compound")
    FormSet = forms.modelformset_factory(
        MapZone, form=ZonePlanForm, formset=BaseZoneFormSet, extra=0
    )
    return FormSet(
        data,
        queryset=treatment_map.zones.select_related("region").order_by("region__sort_order"),
        form_kwargs={
            "baselines": baselines,
            "formulas": formulas,
            "baseline_rows": list(baselines),
            "formula_rows": list(formulas),
        },
    )
