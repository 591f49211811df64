"""Lease number sequence, the staff role groups and the recoverable charge types."""

from django.db import migrations

ROLES = [
    "responsable_agence",
    "charge_clientele",
    "agent_edl",
    "agent_apl",
    "charge_precontentieux",
    "charge_quittancement",
    "membre_commission",
    "direction",
    "administrateur",
]

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


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    ChargeType = apps.get_model("tenancies", "ChargeType")
    for code, label, position in CHARGE_TYPES:
        ChargeType.objects.update_or_create(code=code, defaults={"label": label, "position": position})


class Migration(migrations.Migration):
    dependencies = [("tenancies", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS tenancies_lease_number_seq START 1",
            "DROP SEQUENCE IF EXISTS tenancies_lease_number_seq",
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
