from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.forms import DateTimeInput, refill, show_problems
from clinic.models import Location
from patients.models import Measurement
from treatments import formulary
from treatments.forms.apply import ApplyBoxForm
from treatments.models import BodyRegion, Formula, Indication, MapZone, TreatmentMap
from treatments.services.maps import zone_problems


class MapForm(forms.ModelForm):
    """Step 1: the indication, where, the zones, and the standing attestation."""

    regions = forms.ModelMultipleChoiceField(
        queryset=BodyRegion.objects.active(),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        label=_("Zones to treat"),
        error_messages={"required": _("Choose at least one zone on the diagram or in the list.")},
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
            "mapped_standing": _(
                "Cellulite and fat pads largely disappear lying down: map and measure with "
                "the patient standing, before cleansing and positioning on the table."
            ),
        }
        labels = {
            "indication": _("Indication"),
            "location": _("Location"),
            "planned_sessions": _("Planned sessions"),
            "notes": _("Notes"),
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


# Short labels: a zone's fields share one line on a 1,366 px screen.
SHORT_LABELS = {
    "needle_length_mm": _("Needle (mm)"),
    "gauge": _("Gauge (G)"),
    "depth_mm": _("Depth (mm)"),
    "spacing_mm": _("Spacing (mm)"),
    "planned_volume_ml": _("Volume (mL)"),
    "planned_points": _("Points"),
    "baseline": _("Baseline"),
    "needle_override_reason": _("Why another needle"),
    "technique": _("Technique"),
    "formula": _("Formula"),
    "restricted_note": _("Restricted note"),
}


def _formula_choices(formula_rows: list, verdicts: dict, blank: str) -> list:
    """The mixtures, each marked with what the formulary of the map's place says of it."""
    return [("", blank), *((f.pk, verdicts[f.pk].marked(str(f))) for f in formula_rows)]


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
            "planned_points",
            "restricted_acknowledged",
            "restricted_note",
            "baseline",
        ]

    def __init__(
        self, *args, baselines, formulas, baseline_rows: list, formula_rows: list, verdicts, **kw
    ):
        super().__init__(*args, **kw)
        for name, label in SHORT_LABELS.items():
            self.fields[name].label = label
        for name in REQUIRED_IN_PLAN:
            self.fields[name].required = True
        # Querysets validate a POST; the choices shown were loaded once for all zones.
        self.fields["formula"].queryset = formulas
        self.fields["formula"].choices = _formula_choices(formula_rows, verdicts, "---------")
        self.fields["baseline"].queryset = baselines
        self.fields["baseline"].choices = [
            ("", _("none")),
            *((m.pk, str(m)) for m in baseline_rows),
        ]
        self.fields["baseline"].required = False
        for name in ("needle_length_mm", "depth_mm", "spacing_mm"):
            self.fields[name].widget.attrs["step"] = "0.5"
        self.fields["planned_volume_ml"].widget.attrs["step"] = "0.1"


# The plan's "apply to several zones" box sets, once for the zones ticked, what a zone's
# plan needs (MapZone.PLAN_FIELDS, required) and the points that prefill its sessions.
REQUIRED_IN_PLAN = MapZone.PLAN_FIELDS
APPLIED_FIELDS = [*REQUIRED_IN_PLAN, "planned_points"]


class ApplyToZonesForm(ApplyBoxForm):
    """Values typed once and copied into the zones ticked (or all): a blank one is left
    as each zone has it. Nothing is saved: the copied values are checked on saving."""

    def __init__(
        self, *args, zones: list[MapZone], formula_rows: list, formulas, verdicts, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(MapZone, fields=APPLIED_FIELDS))
        for name, field in self.fields.items():
            field.required = False
            field.label = SHORT_LABELS.get(name, field.label)
        self.fields["formula"].queryset = formulas
        self.fields["formula"].choices = _formula_choices(
            formula_rows, verdicts, _("(leave as is)")
        )
        self.fields["technique"].choices = [("", _("(leave as is)")), *MapZone.Technique.choices]
        for name in ("needle_length_mm", "depth_mm"):
            self.fields[name].widget.attrs["step"] = "0.5"
        self.fields["planned_volume_ml"].widget.attrs["step"] = "0.1"
        self.add_zones(zones)


class BaseZoneFormSet(forms.BaseModelFormSet):
    def is_valid(self) -> bool:
        """The fields, and what the map service says of each zone's mixture (the
        formulary), even in a zone with other errors: one save shows every problem."""
        if not super().is_valid() and (not self.is_bound or self.non_form_errors()):
            return False
        for form in self.forms:
            if form.cleaned_data.get("formula") is not None:
                show_problems(form, zone_problems(form.instance))
        return not any(form.errors for form in self.forms)


def zone_forms(*, treatment_map: TreatmentMap, data=None, applying: str = ""):
    """The zone formset and its "apply to several zones" box.

    `applying` ("ticked" or "all"): the zone forms are shown again unbound, filled with
    what was typed, the box's values copied into the zones chosen; nothing is checked
    beyond the box itself until the plan is saved.
    """
    rows = zone_formset(treatment_map=treatment_map, data=None if applying else data)
    apply_form = ApplyToZonesForm(
        data if applying else None,
        zones=list(rows.get_queryset()),
        formula_rows=rows.form_kwargs["formula_rows"],
        formulas=rows.form_kwargs["formulas"],
        verdicts=rows.form_kwargs["verdicts"],
    )
    boxes = {box.data["value"]: box for box in apply_form["zones"].subwidgets}
    for form in rows.forms:  # a row posted beyond the map's zones gets no box
        form.apply_box = boxes.get(form.instance.pk)
    if not applying:
        return rows, apply_form
    for form in rows.forms:
        refill(form, data)
    if apply_form.is_valid():
        chosen = set(apply_form.cleaned_data["zones"])
        if applying == "all":
            chosen = {form.instance.pk for form in rows.forms}
        if not chosen:
            apply_form.add_error("zones", _("Tick the zones to fill, or apply to all zones."))
        for form in rows.forms:
            if form.instance.pk in chosen:
                form.initial.update(apply_form.values())
    return rows, apply_form


def zone_formset(*, treatment_map: TreatmentMap, data=None):
    """One ZonePlanForm per zone of the map, sharing the querysets they need."""
    patient = treatment_map.patient
    baselines = Measurement.objects.filter(patient=patient).order_by("site", "-measured_on")
    formulas = Formula.objects.active().prefetch_related("ingredients__compound")
    formula_rows = list(formulas)
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
            "formula_rows": formula_rows,
            "verdicts": formulary.assess_formulas(
                formula_rows, treatment_map.location.jurisdiction
            ),
        },
    )
