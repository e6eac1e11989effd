from django.contrib import admin

from patients.models import ConsentTemplate


@admin.register(ConsentTemplate)
class ConsentTemplateAdmin(admin.ModelAdmin):
    """Consent wording. Signed consents point at a version, so a version never changes:
    a new wording is added as the next version of its kind."""

    list_display = ["kind", "version", "title", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "text", "title_fr", "text_fr"]
    readonly_fields = ["version", "created_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
