"""Load the dated figures (RLS, IRL, resource ceilings) from the CSV copies kept in the project.

The CSVs are transcribed from ../shared/data (DOMAIN.md gives their legal sources). Loading is
idempotent: a row is keyed by its date and dimensions and its amount updated if it changed.
"""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps as global_apps

BILLING_DATA = Path(__file__).resolve().parent / "data"
TENANCIES_DATA = Path(__file__).resolve().parent.parent / "tenancies" / "data"


def _rows(path: Path):
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load_figures(apps=global_apps) -> dict[str, int]:
    RlsAmount = apps.get_model("billing", "RlsAmount")
    RlsCeiling = apps.get_model("billing", "RlsCeiling")
    IrlIndex = apps.get_model("billing", "IrlIndex")
    ResourceCeiling = apps.get_model("tenancies", "ResourceCeiling")
    counts = {}
    for row in _rows(BILLING_DATA / "rls_amounts.csv"):
        RlsAmount.objects.update_or_create(
            valid_from=date.fromisoformat(row["valid_from"]),
            apl_zone=row["apl_zone"],
            composition=row["composition"],
            defaults={"monthly_amount": Decimal(row["monthly_eur"]), "source": f"confiance {row['confidence']}"},
        )
        counts["rls_amounts"] = counts.get("rls_amounts", 0) + 1
    for row in _rows(BILLING_DATA / "rls_ceilings.csv"):
        RlsCeiling.objects.update_or_create(
            valid_from=date.fromisoformat(row["valid_from"]),
            apl_zone=row["apl_zone"],
            composition=row["composition"],
            defaults={
                "monthly_resources": Decimal(row["monthly_resources_eur"]),
                "source": f"confiance {row['confidence']}",
            },
        )
        counts["rls_ceilings"] = counts.get("rls_ceilings", 0) + 1
    for row in _rows(BILLING_DATA / "irl.csv"):
        year, quarter = row["quarter"].split("-Q")
        IrlIndex.objects.update_or_create(
            year=int(year), quarter=int(quarter), defaults={"value": Decimal(row["value"]), "source": row["note"]}
        )
        counts["irl"] = counts.get("irl", 0) + 1
    for row in _rows(TENANCIES_DATA / "resource_ceilings.csv"):
        ResourceCeiling.objects.update_or_create(
            valid_from=date.fromisoformat(row["valid_from"]),
            financing=row["financing"],
            zone=row["zone"],
            category=row["category"],
            defaults={"amount": Decimal(row["amount_eur"]), "confidence": row["confidence"]},
        )
        counts["resource_ceilings"] = counts.get("resource_ceilings", 0) + 1
    return counts
