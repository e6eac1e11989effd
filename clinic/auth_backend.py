"""Django's ModelBackend with a user's permissions read in one query instead of two.

ModelBackend already loads a user's permissions once per request (cached on the user
object) but in two statements, the user's own and their groups' (the roles of
clinic/roles.py); every signed-in page ran both. Here one UNION reads them together,
with the same result and the same caches.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class OneQueryPermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                own = Permission.objects.filter(user=user_obj)
                permissions = own.union(Permission.objects.filter(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                )
            }
        return user_obj._perm_cache
