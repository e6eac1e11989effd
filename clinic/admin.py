from django.contrib import admin

from clinic.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Readable, never writable: the table is append-only in the database too."""

    list_display = ["at", "user", "action", "content_type", "object_id", "patient_id", "path"]
    list_filter = ["action", "content_type"]
    search_fields = ["user__username", "object_id", "path"]
    date_hierarchy = "at"
    list_select_related = ["user", "content_type"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
