"""Forms of the session log: the session with its checklist, and one row per zone."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from clinic.forms import DateTimeInput, LoadedChoiceField, show_problems
from clinic.models import Location
from clinic.numbers import int_or_none
from treatments import formulary
from treatments.forms.apply import ApplyBoxForm
from treatments.models import (
    Amendment,
    Checklist,
    CompoundLot,
    Formula,
    Injection,
    MapZone,
    SideEffect,
    TreatmentSession,
)
from treatments.services.sessions import (
    PlannedInjection,
    formulary_rules,
    injection_problems,
)


class SessionForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = TreatmentSession
        fields = [
            "location",
            "performed_at",
            *Checklist.FIELDS,
            "immediate_reactions",
            "aftercare",
            "next_appointment",
            "notes",
        ]
        widgets = {
            "performed_at": DateTimeInput(),
            "next_appointment": DateTimeInput(),
            "immediate_reactions": forms.Textarea(attrs={"rows": 2}),
            "aftercare": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            **{
                f"check_{name}": forms.CheckboxInput(attrs={"class": "form-check-input"})
                for name, _label in Checklist.ITEMS
            },
            **{
                f"check_{name}_reason": forms.TextInput(
                    attrs={
                        "placeholder": _("Reason, if not done"),
                        "class": "form-control form-control-sm",
                    }
                )
                for name, _label in Checklist.ITEMS
            },
        }
        labels = {
            "location": _("Location"),
            "immediate_reactions": _("Immediate reactions"),
            "next_appointment": _("Next appointment"),
            "notes": _("Notes"),
            **{
                f"check_{name}_reason": format_lazy(_("{item}: reason, if not done"), item=label)
                for name, label in Checklist.ITEMS
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.active().select_related("jurisdiction")
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def checklist_rows(self):
        return [
            (self[f"check_{name}"], self[f"check_{name}_reason"])
            for name, _label in Checklist.ITEMS
        ]


class InjectionForm(forms.ModelForm):
    """One zone treated in the session; a lot field per compound of the chosen formula."""

    treated = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Treated today"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    restricted_acknowledged = forms.BooleanField(
        required=False, label=_("I acknowledge the restricted compounds")
    )
    restricted_note = forms.CharField(required=False, max_length=300, label=_("Note"))

    class Meta:
        model = Injection
        fields = [
            "map_zone",
            "formula",
            "volume_ml",
            "points",
            "depth_mm",
            "needle_length_mm",
            "needle_override_reason",
            "gauge",
            "technique",
        ]
        widgets = {"map_zone": forms.HiddenInput}
        # Chosen among the rows loaded once for the whole formset (RowChoices).
        field_classes = {"map_zone": LoadedChoiceField, "formula": LoadedChoiceField}
        # Short labels: a row's fields share one line on a 1,366 px screen.
        labels = {
            "formula": _("Formula"),
            "volume_ml": _("Volume (mL)"),
            "points": _("Points"),
            "depth_mm": _("Depth (mm)"),
            "needle_length_mm": _("Needle (mm)"),
            "gauge": _("Gauge (G)"),
            "technique": _("Technique"),
            "needle_override_reason": _("Why another needle"),
        }

    def __init__(
        self,
        *args,
        session,
        zones,
        formulas,
        shared: "RowChoices",
        keep_unusable_choice: bool = True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        # A row drawn again for another date or mixture (injection_row) offers only the
        # lots usable then; a saved or posted row keeps its lot listed, marked.
        self.keep_unusable_choice = keep_unusable_choice
        # The row is checked as part of this session (its patient's needle rule, its date).
        self.instance.session = session
        self.empty_permitted = False  # a prefilled row left as it is still counts
        if self.is_bound and not self.data.get(self.add_prefix("treated")):
            for form_field in self.fields.values():
                form_field.required = False
        # A POST is checked against, and the choices shown come from, rows loaded once
        # for the whole formset (not a query per row and per field).
        self.fields["map_zone"].queryset = zones
        self.fields["map_zone"].load(shared.zones)
        self.fields["formula"].queryset = formulas
        self.fields["formula"].load(shared.formulas)
        self.fields["formula"].choices = shared.formula_choices
        self.fields["volume_ml"].widget.attrs.update({"step": "0.1", "min": "0.01"})
        self.zone = self._zone(shared.zones)
        self.lot_fields = []
        self.lot_compounds = {}  # lot field name -> its compound
        formula = self._formula(shared.formulas)
        if formula is not None:
            for ingredient in formula.ingredients.all():
                self._add_lot_field(ingredient.compound, shared)
        # What the formulary says of the chosen mixture, shown before any save.
        self.verdict = shared.verdicts.get(formula.pk) if formula is not None else None
        # The acknowledgement is asked for only where the formula has a restricted compound.
        self.restricted = self.verdict is not None and self.verdict.needs_acknowledgement
        if not self.restricted:
            for name in ("restricted_acknowledged", "restricted_note"):
                self.fields[name].widget = forms.HiddenInput()

    # The fields on the zone's compact row of the session form, whose messages are
    # listed beneath the row rather than under each narrow field.
    ROW_FIELDS = (
        "formula",
        "volume_ml",
        "points",
        "depth_mm",
        "technique",
        "needle_length_mm",
        "gauge",
        "needle_override_reason",
    )

    @property
    def row_errors(self) -> list[tuple[str, str]]:
        """(label, message) for each error of the row's fields, in the row's order."""
        return [
            (self.fields[name].label, message)
            for name in self.ROW_FIELDS
            for message in self.errors.get(name, [])
        ]

    def _add_lot_field(self, compound, shared: "RowChoices") -> None:
        """The lots usable at the session's moment (CompoundLot.unusable_at: received by
        then, not expired, not quarantined by then), soonest expiry first, the only one
        preselected; a lot the row already holds stays listed (marked) so the session
        service's verdict on it shows."""
        name = f"lot_{compound.pk}"
        lots = shared.lots.get(compound.pk, [])
        usable = [lot for lot in lots if lot.unusable_at(shared.moment) is None]
        chosen = str(
            (self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name))
            or ""
        )
        if not self.keep_unusable_choice and chosen not in {str(lot.pk) for lot in usable}:
            chosen = ""
            self.initial.pop(name, None)
        shown = [lot for lot in lots if lot in usable or str(lot.pk) == chosen]
        # Valid: any loaded lot; the session service says what is wrong with an unusable one.
        self.fields[name] = LoadedChoiceField(
            rows=lots,
            label=(
                gettext("Lot of %(compound)s (off-label) *")
                if compound.off_label
                else gettext("Lot of %(compound)s *")
            )
            % {"compound": compound.name},
            required=False,  # required for a treated zone: checked in clean()
        )
        self.fields[name].choices = [
            ("", gettext("choose the lot")),
            *((lot.pk, _lot_label(lot, shared.moment)) for lot in shown),
        ]
        if len(usable) == 1 and not self.is_bound and name not in self.initial:
            self.initial[name] = usable[0].pk
        self.lot_fields.append(name)
        self.lot_compounds[name] = compound

    @property
    def needle_off(self) -> bool:
        """The needle shown is not the patient's current default and no reason is given
        (FollowsNeedleRule.needle_off_default): the row the "default needle" button changes."""
        try:
            length = self.fields["needle_length_mm"].clean(self._shown("needle_length_mm"))
        except ValidationError:
            return False
        probe = Injection(
            session=self.instance.session,
            needle_length_mm=length,
            needle_override_reason=self._shown("needle_override_reason") or "",
        )
        return probe.needle_off_default()

    def _shown(self, name: str):
        """The field's value as drawn, read afresh (a bulk button may have changed the
        initial values after the bound field cached its own)."""
        field = self.fields[name]
        initial = self.get_initial_for_field(field, name)
        if not self.is_bound:
            return initial
        posted = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        return field.bound_data(posted, initial)

    @property
    def shows_reason(self) -> bool:
        """The "why another needle" field is drawn open where it holds a reason or its
        error; elsewhere it opens when the needle is changed by hand (session-form.js).
        A row whose needle is off the default is marked, and the box offers the default."""
        return bool(
            self._shown("needle_override_reason") or self.errors.get("needle_override_reason")
        )

    def _get_validation_exclusions(self):
        # Whether the zone and mixture exist was answered when their fields found them
        # among the loaded rows; save_session asks it again for all rows at once.
        return super()._get_validation_exclusions() | {"map_zone", "formula"}

    def full_clean(self):
        super().full_clean()
        if self.is_bound and not self.cleaned_data.get("treated"):
            # A zone not treated today: whatever its row holds is not recorded.
            self._errors = forms.utils.ErrorDict()
            self.cleaned_data = {"treated": False}

    def _zone(self, zones) -> MapZone | None:
        value = self["map_zone"].value()
        return next((z for z in zones if str(z.pk) == str(value)), None) if value else None

    def _formula(self, formulas) -> Formula | None:
        value = self["formula"].value()
        if not value:
            return None
        return next((f for f in formulas if str(f.pk) == str(value)), None)

    def clean(self):
        data = super().clean()
        if data.get("treated") and data.get("map_zone") is None:
            raise ValidationError(gettext("This row is not a zone of the treatment map."))
        return data

    def planned(self) -> PlannedInjection:
        # The instance holds every field that converted (save(commit=False) would refuse
        # a row with errors, whose other problems are still worth showing).
        injection = self.instance
        injection.region = self.cleaned_data["map_zone"].region
        injection.restricted_acknowledged = self.restricted and self.cleaned_data.get(
            "restricted_acknowledged", False
        )
        injection.restricted_note = (
            self.cleaned_data.get("restricted_note", "") if self.restricted else ""
        )
        lots = [self.cleaned_data[name] for name in self.lot_fields if self.cleaned_data.get(name)]
        return PlannedInjection(injection, lots)


class BaseInjectionFormSet(forms.BaseFormSet):
    def treated_forms(self) -> list[InjectionForm]:
        return [form for form in self.forms if form.cleaned_data.get("treated")]

    def check_with(self, session: TreatmentSession) -> bool:
        """What the session service says of each row (formulary, lots on the session's
        date), shown beside the row's fields before anything is saved. Rows with field
        errors are checked too, so that one save reports every problem."""
        checked = [
            (form, form.planned())
            for form in self.treated_forms()
            if form.cleaned_data.get("map_zone") is not None
        ]
        rules = formulary_rules(session=session, injections=[planned for _, planned in checked])
        for form, planned in checked:
            show_problems(form, injection_problems(session=session, planned=planned, rules=rules))
        return not any(form.errors for form in self.forms)


def _lot_label(lot: CompoundLot, moment: datetime) -> str:
    """The lot number and its expiry, short enough for a narrow dropdown; a lot the rule
    refuses at the session's moment says why."""
    label = gettext("%(number)s — exp. %(date)s") % {
        "number": lot.lot_number,
        "date": f"{lot.expiry_date:%Y-%m-%d}",
    }
    if reason := lot.unusable_at(moment):
        label += f" — {reason.label}"
    return label


@dataclass
class RowChoices:
    """What every row of the injection formset offers, loaded once."""

    zones: list[MapZone]
    formulas: list[Formula]
    formula_choices: list
    lots: dict[int, list[CompoundLot]]
    verdicts: dict[int, "formulary.Verdict"]
    moment: datetime  # when the session took place: the lots offered are those usable then

    @classmethod
    def load(
        cls, *, zones: list, formulas: list, jurisdiction, moment: datetime | None
    ) -> "RowChoices":
        moment = moment or timezone.now()
        # Loaded: the lots that had not expired a year before the session, so that a row
        # holding a lot the rule refuses still shows it with the service's verdict.
        oldest = timezone.localtime(moment).date() - timedelta(days=365)
        compound_ids = {i.compound_id for f in formulas for i in f.ingredients.all()}
        lots: dict[int, list[CompoundLot]] = defaultdict(list)
        for lot in (
            CompoundLot.objects.filter(compound_id__in=compound_ids, expiry_date__gte=oldest)
            .select_related("compound")
            .order_by("expiry_date")
        ):
            lots[lot.compound_id].append(lot)
        verdicts = formulary.assess_formulas(formulas, jurisdiction) if jurisdiction else {}
        return cls(
            zones=zones,
            formulas=formulas,
            formula_choices=[
                ("", "---------"),
                *((f.pk, verdicts[f.pk].marked(str(f)) if verdicts else str(f)) for f in formulas),
            ],
            lots=lots,
            verdicts=verdicts,
            moment=moment,
        )


InjectionFormSet = forms.formset_factory(
    InjectionForm, formset=BaseInjectionFormSet, extra=0, max_num=60
)


def injection_formset(
    *,
    session: TreatmentSession,
    data=None,
    moment: datetime | None = None,
    shown: list[dict] | None = None,
) -> BaseInjectionFormSet:
    """Rows prefilled from the map's zones (new session) or from the saved injections;
    with `shown` (posted_rows), unbound rows showing those values instead."""
    treatment_map = session.treatment_map
    zones = treatment_map.zones.select_related("region").order_by("region__sort_order")
    formulas = Formula.objects.active().prefetch_related("ingredients__compound")
    zone_list, formula_list = list(zones), list(formulas)
    if session.pk:
        saved = session.injections.prefetch_related("lots").select_related("region")
        initial = [_from_injection(injection) for injection in saved]
        treated = {row["map_zone"] for row in initial}
        initial += [
            {**_from_zone(zone), "treated": False} for zone in zone_list if zone.pk not in treated
        ]
    else:
        initial = [_from_zone(zone) for zone in zone_list]
    if shown is not None:
        initial = shown
    formset = InjectionFormSet(
        data,
        initial=initial,
        form_kwargs={
            "session": session,
            "zones": zones,
            "formulas": formulas,
            "shared": RowChoices.load(
                zones=zone_list,
                formulas=formula_list,
                jurisdiction=session.location.jurisdiction,
                moment=moment,
            ),
        },
    )
    return formset


def posted_rows(data, prefix: str = "form") -> list[dict]:
    """The injection rows as posted, for unbound rows showing them again (an "apply to
    several zones" round trip): raw values, ticked boxes as booleans."""
    count = min(int_or_none(data.get(f"{prefix}-TOTAL_FORMS")) or 0, InjectionFormSet.max_num)
    rows = []
    for index in range(count):
        start = f"{prefix}-{index}-"
        row = {key[len(start) :]: value for key, value in data.items() if key.startswith(start)}
        for box in ("treated", "restricted_acknowledged"):
            row[box] = box in row
        rows.append(row)
    return rows


# What the session form's "apply to several zones" box sets, besides a lot per compound.
APPLIED_TO_ROWS = ["points", "needle_length_mm", "gauge", "needle_override_reason"]


class ApplyToRowsForm(ApplyBoxForm):
    """Values typed once and copied into the injection rows ticked (or all): the points,
    the needle, and a lot per compound of the mixtures shown (the lots usable at the
    session's moment). A blank value leaves the rows as they are; nothing is saved."""

    def __init__(self, *args, formset: BaseInjectionFormSet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Injection, fields=APPLIED_TO_ROWS))
        for name, field in self.fields.items():
            field.required = False
            field.label = InjectionForm._meta.labels.get(name, field.label)
        rows = formset.forms
        shared = formset.form_kwargs["shared"]
        compounds = {}
        for form in rows:
            compounds.update(form.lot_compounds)
        for name, compound in sorted(compounds.items(), key=lambda item: item[1].name):
            usable = [
                lot
                for lot in shared.lots.get(compound.pk, [])
                if lot.unusable_at(shared.moment) is None
            ]
            self.fields[name] = forms.TypedChoiceField(
                label=gettext("Lot of %(compound)s") % {"compound": compound.name},
                choices=[
                    ("", gettext("(leave as is)")),
                    *((lot.pk, _lot_label(lot, shared.moment)) for lot in usable),
                ],
                coerce=int,
                required=False,
            )
        self.lot_fields = [self[name] for name in self.fields if name.startswith("lot_")]
        self.add_zones([form.zone for form in rows if form.zone])
        self.boxes = {box.data["value"]: box for box in self["zones"].subwidgets}
        for form in rows:
            form.apply_box = self.boxes.get(form.zone.pk) if form.zone else None

    def fill(self, formset: BaseInjectionFormSet, which: str) -> int:
        """Copy the values into the rows ticked ("ticked") or all ("all"); the number of
        rows filled. A lot goes only to the rows whose mixture holds its compound."""
        if not self.is_valid():
            return 0
        chosen = set(self.cleaned_data["zones"])
        rows = [f for f in formset.forms if f.zone and (which == "all" or f.zone.pk in chosen)]
        if not rows:
            self.add_error("zones", _("Tick the zones to fill, or apply to all zones."))
        values = self.values()
        for form in rows:
            form.initial.update(
                {
                    k: v
                    for k, v in values.items()
                    if not k.startswith("lot_") or k in form.lot_fields
                }
            )
        return len(rows)


def default_needle_everywhere(formset: BaseInjectionFormSet, rule) -> int:
    """The patient's default needle and gauge in every row whose needle is off it with
    no reason (the session form's one-step button without JavaScript); how many."""
    rows = [form for form in formset.forms if form.needle_off]
    for form in rows:
        form.initial.update(needle_length_mm=rule.length_mm, gauge=rule.gauge)
    return len(rows)


def injection_row(
    *, prefix: str, formula: str, lots: dict[str, str], location, moment: datetime | None
) -> InjectionForm:
    """One unbound row with this mixture chosen: its lot fields and formulary note, as
    the session form would draw them (a script swaps them in when the mixture changes)."""
    formulas = Formula.objects.active().prefetch_related("ingredients__compound")
    formula_list = list(formulas)
    return InjectionForm(
        prefix=prefix,
        initial={"formula": formula, **lots},
        keep_unusable_choice=False,
        session=TreatmentSession(location=location),
        zones=MapZone.objects.none(),
        formulas=formulas,
        shared=RowChoices.load(
            zones=[],
            formulas=formula_list,
            jurisdiction=location.jurisdiction if location else None,
            moment=moment,
        ),
    )


def _from_zone(zone: MapZone) -> dict:
    return {
        "treated": True,
        "map_zone": zone.pk,
        "formula": zone.formula_id,
        "volume_ml": zone.planned_volume_ml,
        "points": zone.planned_points,
        "depth_mm": zone.depth_mm,
        "needle_length_mm": zone.needle_length_mm,
        "needle_override_reason": zone.needle_override_reason,
        "gauge": zone.gauge,
        "technique": zone.technique,
        "restricted_acknowledged": zone.restricted_acknowledged,
        "restricted_note": zone.restricted_note,
    }


def _from_injection(injection: Injection) -> dict:
    row = {
        "restricted_acknowledged": injection.restricted_acknowledged,
        "restricted_note": injection.restricted_note,
        "treated": True,
        "map_zone": injection.map_zone_id,
        "formula": injection.formula_id,
        "volume_ml": injection.volume_ml,
        "points": injection.points,
        "depth_mm": injection.depth_mm,
        "needle_length_mm": injection.needle_length_mm,
        "needle_override_reason": injection.needle_override_reason,
        "gauge": injection.gauge,
        "technique": injection.technique,
    }
    row.update({f"lot_{used.compound_id}": used.lot_id for used in injection.lots.all()})
    return row


class SideEffectForm(forms.ModelForm):
    class Meta:
        model = SideEffect
        fields = ["kind", "onset", "resolved_at", "severity", "notes"]
        labels = {
            "kind": _("Kind"),
            "onset": _("Onset"),
            "resolved_at": _("Resolved at"),
            "severity": _("Severity"),
            "notes": _("Notes"),
        }
        widgets = {
            "onset": DateTimeInput(),
            "resolved_at": DateTimeInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, session: TreatmentSession, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.session = session  # SideEffect.clean checks the dates against it
        self.fields["onset"].initial = timezone.localtime(session.performed_at).replace(second=0)


class AmendmentForm(forms.ModelForm):
    class Meta:
        model = Amendment
        fields = ["reason", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        labels = {"reason": pgettext_lazy("amendment", "Reason"), "text": _("Correction")}


class ResolveForm(forms.Form):
    resolved_at = forms.DateTimeField(label=_("Resolved at"), widget=DateTimeInput())


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("What was decided"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what was decided (seen, called, treated…).")},
    )
