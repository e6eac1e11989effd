"""The catalogue console: compounds, lots, formulas, formulary, needle rules, reference data.

Nothing here can be deleted: clinical records refer to these rows. Retire a row by
unticking "active" instead.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.admin import NoDeleteAdmin, ReadOnlyAdmin
from clinic.audit import record_access, record_list_access
from clinic.models import AccessLog
from treatments.models import (
    BodyRegion,
    Compound,
    CompoundCategory,
    CompoundLot,
    Formula,
    FormulaIngredient,
    FormularyRule,
    Indication,
    NeedleRule,
    TreatmentSession,
)
from treatments.services.lots import (
    change_quarantine,
    check_quarantine_change,
    may_change_quarantine,
)


class NoDeleteInline(admin.TabularInline):
    extra = 0

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LotStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("usable", _("Usable today")),
            ("expired", _("Expired")),
            ("quarantined", _("Quarantined")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "usable":
            return queryset.usable_at(timezone.now())
        if self.value() == "expired":
            return queryset.filter(expiry_date__lt=today)
        if self.value() == "quarantined":
            return queryset.quarantined()
        return queryset


class LotInline(NoDeleteInline):
    model = CompoundLot
    fields = ["lot_number", "expiry_date", "supplier", "received_on"]


class FormularyRuleForm(forms.ModelForm):
    # The console's default note box is 48em wide: in the compound's table of rules it
    # ran past the page. A few lines at the width of the other fields are enough.
    class Meta:
        model = FormularyRule
        fields = ["jurisdiction", "compound", "status", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3, "cols": 30})}


class FormularyRuleInline(NoDeleteInline):
    model = FormularyRule
    form = FormularyRuleForm
    fields = ["jurisdiction", "status", "note"]
    autocomplete_fields = ["jurisdiction"]


@admin.register(Compound)
class CompoundAdmin(NoDeleteAdmin):
    list_display = [
        "name",
        "category",
        "concentration",
        "unit",
        "form",
        "manufacturer",
        "active",
        "off_label",
    ]
    list_filter = ["active", "off_label", "category", "form"]
    search_fields = ["name", "manufacturer"]
    list_select_related = ["category"]
    inlines = [LotInline, FormularyRuleInline]


QUARANTINE_FIELDS = ("quarantine_change", "quarantine_note", "quarantine_action")


class CompoundLotForm(forms.ModelForm):
    """The lot, and its quarantine: put in place or lifted with a reason. The form checks
    the change as the service will (check_quarantine_change); CompoundLotAdmin.save_model
    makes it through the service, on the row locked, who and when recorded."""

    quarantine_change = forms.BooleanField(required=False)
    # What the box said when the page was drawn, as the recall page's button: a second
    # submission of "Quarantine this lot" is refused as already done, never lifts it.
    quarantine_action = forms.ChoiceField(
        choices=[("quarantine", "quarantine"), ("lift", "lift")],
        required=False,
        widget=forms.HiddenInput,
    )
    quarantine_note = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"size": 60}),
    )
    # Set by CompoundLotAdmin.get_form: who is editing, and whether they may change the
    # quarantine (without the permission the fields are gone, not merely hidden).
    user = None
    may_change_quarantine = False

    class Meta:
        model = CompoundLot
        fields = ["compound", "lot_number", "expiry_date", "supplier", "received_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.may_change_quarantine:
            for name in QUARANTINE_FIELDS:
                del self.fields[name]
            return
        lifting = self.instance.is_quarantined
        self.fields["quarantine_action"].initial = "lift" if lifting else "quarantine"
        self.fields["quarantine_change"].label = (
            gettext("Lift the quarantine") if lifting else gettext("Quarantine this lot")
        )

    @property
    def lifting(self) -> bool:
        return self.cleaned_data.get("quarantine_action") == "lift"

    def clean(self):
        data = super().clean()
        if data.get("quarantine_change"):
            try:
                check_quarantine_change(
                    lot=self.instance,
                    user=self.user,
                    reason=data.get("quarantine_note", ""),
                    lifting=self.lifting,
                )
            except ValidationError as error:
                self.add_error("quarantine_note", error)
        return data


@admin.register(CompoundLot)
class CompoundLotAdmin(NoDeleteAdmin):
    form = CompoundLotForm
    list_display = [
        "compound",
        "lot_number",
        "expiry_date",
        "usable",
        "quarantine",
        "supplier",
        "received_on",
    ]
    list_filter = [LotStatusFilter, "compound__category"]
    search_fields = ["lot_number", "compound__name", "supplier"]
    list_select_related = ["compound"]
    autocomplete_fields = ["compound"]
    date_hierarchy = "expiry_date"
    readonly_fields = ["quarantine"]

    # The icon answers the column's question: a green tick is a lot that may be used.
    @admin.display(boolean=True, description=_("Usable today"))
    def usable(self, lot: CompoundLot) -> bool:
        return lot.unusable_at(timezone.now()) is None

    @admin.display(description=_("Quarantine"))
    def quarantine(self, lot: CompoundLot) -> str:
        if lot.is_quarantined:
            since = timezone.localtime(lot.quarantined_at)
            return gettext("Quarantined since %(since)s: %(reason)s") % {
                "since": f"{since:%Y-%m-%d %H:%M}",
                "reason": lot.quarantine_reason,
            }
        if lot.quarantine_lifted_at is not None:
            lifted = timezone.localtime(lot.quarantine_lifted_at)
            return gettext("Quarantine lifted %(lifted)s: %(reason)s") % {
                "lifted": f"{lifted:%Y-%m-%d %H:%M}",
                "reason": lot.quarantine_lift_reason,
            }
        return ""

    def _may_change_quarantine(self, request, obj) -> bool:
        return self.has_change_permission(request, obj) and may_change_quarantine(
            request.user, lifting=obj is not None and obj.is_quarantined
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self._may_change_quarantine(request, obj):
            fields = [f for f in fields if f not in QUARANTINE_FIELDS]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        form.may_change_quarantine = self._may_change_quarantine(request, obj)
        return form

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not form.cleaned_data.get("quarantine_change"):
            return
        try:
            change_quarantine(
                lot=obj,
                user=request.user,
                reason=form.cleaned_data["quarantine_note"],
                lifting=form.lifting,
            )
        except ValidationError as error:  # changed by someone else since the check
            for message in error.messages:
                self.message_user(request, message, level=messages.ERROR)


class IngredientInline(NoDeleteInline):
    model = FormulaIngredient
    fields = ["compound", "amount_per_ml", "unit"]
    autocomplete_fields = ["compound"]
    extra = 1


@admin.register(Formula)
class FormulaAdmin(NoDeleteAdmin):
    list_display = ["name", "indication", "ingredient_list", "active"]
    list_filter = ["active", "indication"]
    search_fields = ["name", "ingredients__compound__name"]
    inlines = [IngredientInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("indication")
            .prefetch_related("ingredients__compound")
        )

    @admin.display(description=_("Ingredients"))
    def ingredient_list(self, formula: Formula) -> str:
        return "; ".join(str(ingredient) for ingredient in formula.ingredients.all())


@admin.register(FormularyRule)
class FormularyRuleAdmin(NoDeleteAdmin):
    form = FormularyRuleForm
    list_display = ["compound", "jurisdiction", "status", "note"]
    list_filter = ["status", "jurisdiction"]
    search_fields = ["compound__name", "jurisdiction__code", "jurisdiction__name"]
    list_select_related = ["compound", "jurisdiction"]
    autocomplete_fields = ["compound", "jurisdiction"]


@admin.register(NeedleRule)
class NeedleRuleAdmin(NoDeleteAdmin):
    list_display = ["phototype", "length_mm", "gauge"]

    def has_add_permission(self, request) -> bool:
        # One rule per phototype, shipped for all six.
        return False


@admin.register(BodyRegion)
class BodyRegionAdmin(NoDeleteAdmin):
    list_display = ["label", "label_fr", "code", "view", "side", "sort_order", "active"]
    list_filter = ["view", "side", "active"]
    search_fields = ["label", "label_fr", "code"]


@admin.register(Indication)
class IndicationAdmin(NoDeleteAdmin):
    list_display = ["name", "label_fr", "code", "active"]
    list_filter = ["active"]
    search_fields = ["name", "label_fr"]


@admin.register(CompoundCategory)
class CompoundCategoryAdmin(NoDeleteAdmin):
    list_display = ["name", "code"]
    search_fields = ["name"]


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(ReadOnlyAdmin):
    list_display = ["performed_at", "patient", "practitioner", "location", "status"]
    list_filter = ["status", "location"]
    list_select_related = ["patient", "practitioner", "location"]
    search_fields = ["patient__last_name", "patient__chart_number"]
    date_hierarchy = "performed_at"
    exclude = ["pdf"]

    # Reading sessions here is reading patients' records: log it like the app does, and
    # only once the console has allowed the request (a refusal shows nothing).

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            record_list_access(request, [session.patient for session in changelist.result_list])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self._log_view(request, object_id, response)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._log_view(request, object_id, response)
        return response

    def _log_view(self, request, object_id, response) -> None:
        # Logged after the console answered: a refused request (a POST to this read-only
        # page, a role without the right) raised before, and a missing id redirects.
        if response.status_code != 200:
            return
        session = self.get_object(request, object_id)
        if session is not None:
            record_access(
                request, patient=session.patient, action=AccessLog.Action.VIEW, subject=session
            )
