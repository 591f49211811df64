from django.contrib.auth.backends import ModelBackend

from . import security  # noqa: F401  (connects the login-time and deactivation signal handlers)


class PasswordBackend(ModelBackend):
    """Authenticates by username and password; grants no permission.

    Permissions come only from the declared role matrix (tenancies.roles, via django-rules), so
    no per-user or per-group Django permission can widen access behind its back; superusers keep
    every permission through Django's own PermissionsMixin.
    """

    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False

    def get_all_permissions(self, user_obj, obj=None):
        return set()
