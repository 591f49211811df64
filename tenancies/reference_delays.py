"""Load tenancies/data/legal_delays.csv into LegalDelay (idempotent; used by a data migration and
by `manage.py load_figures`)."""

import csv
from datetime import date
from pathlib import Path

from django.apps import apps as global_apps

DELAYS_CSV = Path(__file__).resolve().parent / "data" / "legal_delays.csv"


def load_legal_delays(apps=global_apps) -> int:
    LegalDelay = apps.get_model("tenancies", "LegalDelay")
    count = 0
    with DELAYS_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            LegalDelay.objects.update_or_create(
                code=row["code"],
                valid_from=date.fromisoformat(row["valid_from"]),
                defaults={
                    "days": int(row["days"]),
                    "weeks": int(row["weeks"]),
                    "months": int(row["months"]),
                    "label": row["label"],
                    "source": row["source"],
                },
            )
            count += 1
    return count
