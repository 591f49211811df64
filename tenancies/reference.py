"""Reference rows every installation needs: the role groups and the recoverable charge types.

Created by migration 0002 and re-ensured by `seed_demo` (idempotent), so a flushed database
gets them back.
"""

from django.apps import apps as global_apps

from .roles import Role

# Recoverable charges of social housing (CCH L442-3, décret 82-955), in notice order.
CHARGE_TYPES = [
    ("eau_froide", "Eau froide", 10),
    ("eau_chaude", "Eau chaude", 20),
    ("chauffage", "Chauffage collectif", 30),
    ("entretien", "Entretien des parties communes", 40),
    ("ascenseur", "Ascenseur", 50),
    ("teom", "Taxe d'enlèvement des ordures ménagères", 60),
    ("espaces_verts", "Espaces verts", 70),
]


def ensure_reference_data(apps=global_apps) -> None:
    """Create the missing role groups and charge types; `apps` is the migration state when migrating."""
    Group = apps.get_model("auth", "Group")
    for name in Role.values:
        Group.objects.get_or_create(name=name)
    ChargeType = apps.get_model("tenancies", "ChargeType")
    for code, label, position in CHARGE_TYPES:
        ChargeType.objects.get_or_create(code=code, defaults={"label": label, "position": position})
