"""The catalogue console: compounds, lots, formulas, formulary, needle rules, reference data.

Nothing here can be deleted: clinical records refer to these rows. Retire a row by
unticking "active" instead.
"""

from django.contrib import admin
from django.utils import timezone

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


class NoDeleteInline(admin.TabularInline):
    extra = 0

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ExpiredFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("expired", "Expired"), ("usable", "Not expired")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "expired":
            return queryset.filter(expiry_date__lt=today)
        if self.value() == "usable":
            return queryset.filter(expiry_date__gte=today)
        return queryset


class LotInline(NoDeleteInline):
    model = CompoundLot
    fields = ["lot_number", "expiry_date", "supplier", "received_on"]


class FormularyRuleInline(NoDeleteInline):
    model = FormularyRule
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


@admin.register(CompoundLot)
class CompoundLotAdmin(NoDeleteAdmin):
    list_display = ["compound", "lot_number", "expiry_date", "expired", "supplier", "received_on"]
    list_filter = [ExpiredFilter, "compound__category"]
    search_fields = ["lot_number", "compound__name", "supplier"]
    list_select_related = ["compound"]
    autocomplete_fields = ["compound"]
    date_hierarchy = "expiry_date"

    @admin.display(boolean=True, description="Expired", ordering="expiry_date")
    def expired(self, lot: CompoundLot) -> bool:
        return lot.is_expired


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

    @admin.display(description="Ingredients")
    def ingredient_list(self, formula: Formula) -> str:
        return "; ".join(str(ingredient) for ingredient in formula.ingredients.all())


@admin.register(FormularyRule)
class FormularyRuleAdmin(NoDeleteAdmin):
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
    list_display = ["label", "code", "view", "side", "sort_order", "active"]
    list_filter = ["view", "side", "active"]
    search_fields = ["label", "code"]


@admin.register(Indication)
class IndicationAdmin(NoDeleteAdmin):
    list_display = ["name", "code", "active"]
    list_filter = ["active"]
    search_fields = ["name"]


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
