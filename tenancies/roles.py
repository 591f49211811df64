"""Staff roles (stored as auth groups) and what each one may do.

This module holds the declared role matrix: PERMISSION_ROLES (permission -> roles) and the
header NAVIGATION. Each app adds its own entries from its `rules.py` with `register()`
(imports point down: higher apps register into this registry), and every permission is then
registered with django-rules.
"""

import rules
from django.db import models


class Role(models.TextChoices):
    RESPONSABLE_AGENCE = "responsable_agence", "Responsable d'agence"
    CHARGE_CLIENTELE = "charge_clientele", "Chargé(e) de clientèle"
    AGENT_EDL = "agent_edl", "Agent d'état des lieux"
    AGENT_APL = "agent_apl", "Agent de gestion APL"
    CHARGE_PRECONTENTIEUX = "charge_precontentieux", "Chargé(e) du pré-contentieux"
    CHARGE_QUITTANCEMENT = "charge_quittancement", "Chargé(e) du quittancement"
    MEMBRE_COMMISSION = "membre_commission", "Membre de commission"
    DIRECTION = "direction", "Direction"
    ADMINISTRATEUR = "administrateur", "Administrateur"


# Roles whose holders see every agency's records; everyone else sees their own agencies only.
ALL_AGENCIES_ROLES = frozenset({Role.DIRECTION, Role.ADMINISTRATEUR})

AGENCY_STAFF = frozenset(
    {
        Role.RESPONSABLE_AGENCE,
        Role.CHARGE_CLIENTELE,
        Role.AGENT_EDL,
        Role.AGENT_APL,
        Role.CHARGE_PRECONTENTIEUX,
        Role.CHARGE_QUITTANCEMENT,
        Role.DIRECTION,
        Role.ADMINISTRATEUR,
    }
)

# permission name -> roles granted it. A committee member only sees committee pages (issue 4),
# never the tenant files.
PERMISSION_ROLES: dict[str, frozenset[str]] = {
    "tenancies.browse_stock": AGENCY_STAFF | {Role.MEMBRE_COMMISSION},
    "tenancies.browse_tenants": AGENCY_STAFF,
    "tenancies.manage_leases": frozenset({Role.RESPONSABLE_AGENCE, Role.CHARGE_CLIENTELE, Role.ADMINISTRATEUR}),
}

# Header navigation: (menu, label, url name, permission needed), in display order. Links of one
# menu show as a drop-down when there are several for the user, as a plain link otherwise.
NAVIGATION: list[tuple[str, str, str, str]] = [
    ("Patrimoine", "Résidences", "tenancies:estate_list", "tenancies.browse_stock"),
    ("Patrimoine", "Logements", "tenancies:dwelling_list", "tenancies.browse_stock"),
    ("Locataires", "Locataires et ménages", "tenancies:household_list", "tenancies.browse_tenants"),
    ("Locataires", "Baux", "tenancies:lease_list", "tenancies.browse_tenants"),
]


def has_any_role(roles):
    roles = frozenset(roles)

    @rules.predicate
    def predicate(user):
        return user.is_authenticated and user.is_active and bool(user.roles & roles)

    return predicate


def register(permissions: dict[str, frozenset[str]], navigation=()) -> None:
    """Declare an app's permissions (with the roles granted each) and its header links."""
    for perm, roles in permissions.items():
        PERMISSION_ROLES[perm] = frozenset(roles)
        rules.add_perm(perm, has_any_role(roles))
    NAVIGATION.extend(navigation)
