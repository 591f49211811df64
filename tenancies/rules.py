"""Register the role matrix of tenancies.roles with django-rules (autodiscovered at start-up)."""

import rules

from .roles import PERMISSION_ROLES


def _has_any_role(roles):
    @rules.predicate
    def predicate(user):
        return user.is_authenticated and user.is_active and bool(user.roles & roles)

    return predicate


for _perm, _roles in PERMISSION_ROLES.items():
    rules.add_perm(_perm, _has_any_role(_roles))
