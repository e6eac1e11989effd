from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib import admin

from clinic.models import AccessLog, Jurisdiction, Location, SignInLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept through the application (or append-only): the console only shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}  # no bulk deletes, no clean-ups


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Readable, never writable: the table is append-only in the database too."""

    list_display = ["at", "user", "action", "content_type", "object_id", "patient_id", "path"]
    list_filter = ["action", "content_type"]
    search_fields = ["user__username", "object_id", "path"]
    date_hierarchy = "at"
    list_select_related = ["user", "content_type"]


class NoDeleteAdmin(admin.ModelAdmin):
    """Records point at these rows: retire them (Location.active), never delete."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Jurisdiction)
class JurisdictionAdmin(NoDeleteAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Location)
class LocationAdmin(NoDeleteAdmin):
    list_display = ["name", "jurisdiction", "active"]
    list_filter = ["active", "jurisdiction"]
    search_fields = ["name", "address"]
    list_select_related = ["jurisdiction"]


# Sign-in records are evidence: readable by whoever the role allows (privacy officer,
# superuser), changed or deleted by nobody. Lockouts are lifted with `axes_reset`.
# axes' own "Access logs" is shown as the sign-in log (a proxy), beside the patient
# record access log, so the console never lists two entries of the same name.
if admin.site.is_registered(AxesAccessLog):
    admin.site.unregister(AxesAccessLog)
for model, axes_model_admin in [
    (AccessAttempt, axes_admin.AccessAttemptAdmin),
    (SignInLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(
        model, type(f"ReadOnly{axes_model_admin.__name__}", (ReadOnlyAdmin, axes_model_admin), {})
    )

# pghistory's event browser (the "pghistory.admin" app) is not installed: it showed every
# tracked row's diffs (allergies, medications) with no access-log row. A patient's
# history is on the chart's "Who saw or changed this record" page, which checks the
# clinical permission and logs the view.
