"""Load the national list of supporting documents (arrêté du 22 décembre 2020 modifié) and the
priority publics of CCH L441-1 from applications/data/*.csv; create the local number sequence."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def _rows(name):
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def load(apps, schema_editor):
    DocumentType = apps.get_model("applications", "DocumentType")
    PriorityCriterion = apps.get_model("applications", "PriorityCriterion")
    for row in _rows("document_types.csv"):
        DocumentType.objects.update_or_create(
            code=row["code"],
            defaults={
                "label": row["label"],
                "category": row["category"],
                "valid_from": row["valid_from"],
                "position": int(row["position"]),
            },
        )
    for row in _rows("priority_criteria.csv"):
        PriorityCriterion.objects.update_or_create(
            code=row["code"],
            defaults={
                "label": row["label"],
                "legal_reference": row["legal_reference"],
                "valid_from": row["valid_from"],
                "position": int(row["position"]),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("applications", "0002_cotation_renewals_duplicates")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS applications_local_number_seq",
            "DROP SEQUENCE IF EXISTS applications_local_number_seq",
        ),
    ]
