"""Staff roles (stored as auth groups) and what each one may do.

This module is the declared role matrix: permissions are registered with `rules` from
PERMISSION_ROLES, the navigation reads NAVIGATION, and the tests compare both with the views.
"""

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

_AGENCY_STAFF = frozenset(
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
    "tenancies.browse_stock": _AGENCY_STAFF | {Role.MEMBRE_COMMISSION},
    "tenancies.browse_tenants": _AGENCY_STAFF,
    "tenancies.manage_leases": frozenset({Role.RESPONSABLE_AGENCE, Role.CHARGE_CLIENTELE, Role.ADMINISTRATEUR}),
}

# Header navigation: (label, url name, permission needed).
NAVIGATION = [
    ("Patrimoine", "tenancies:estate_list", "tenancies.browse_stock"),
    ("Logements", "tenancies:dwelling_list", "tenancies.browse_stock"),
    ("Locataires", "tenancies:household_list", "tenancies.browse_tenants"),
    ("Baux", "tenancies:lease_list", "tenancies.browse_tenants"),
]
