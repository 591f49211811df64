"""Register the stock and tenancy permissions (autodiscovered by django-rules at start-up)."""

import rules

from .roles import PERMISSION_ROLES, has_any_role

for _perm, _roles in PERMISSION_ROLES.items():
    rules.add_perm(_perm, has_any_role(_roles))
