"""Default matching parameters: typology occupancy, solvency thresholds, the simplified APL scale.

All are local policy or estimates, editable in the admin; a change is a new dated row. Loaded by
migration 0002 and re-ensured by `seed_committee_demo` (idempotent), so a flushed database gets
them back.
"""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps as global_apps

OCCUPANCY = {"T1": (1, 2), "T2": (1, 3), "T3": (2, 4), "T4": (3, 6), "T5": (4, 8), "T6": (5, 10)}

# Simplified APL estimate (not the CAF scale): rent ceilings by zone and household size (6 = 6+),
# a flat charges amount by size, a minimal participation and a participation rate of resources.
RENT_CEILINGS = {
    "I": ["333.00", "402.00", "454.00", "520.00", "586.00", "652.00"],
    "II": ["290.00", "355.00", "399.00", "458.00", "517.00", "576.00"],
    "III": ["272.00", "330.00", "370.00", "424.00", "478.00", "532.00"],
}
CHARGES_FLAT = ["58.00", "72.00", "85.00", "98.00", "111.00", "124.00"]
MIN_PARTICIPATION = Decimal("39.75")
PARTICIPATION_RATE = Decimal("0.3000")
SCALE_FROM = date(2025, 10, 1)
THRESHOLDS_FROM = date(2020, 1, 1)
MAX_EFFORT_RATE = Decimal("33.00")
MIN_DAILY_REST = Decimal("10.00")


def ensure_parameters(apps=global_apps) -> None:
    occupancy = apps.get_model("committee", "TypologyOccupancy")
    for typology, (low, high) in OCCUPANCY.items():
        occupancy.objects.get_or_create(typology=typology, defaults={"min_persons": low, "max_persons": high})
    threshold = apps.get_model("committee", "SolvencyThreshold")
    threshold.objects.get_or_create(
        valid_from=THRESHOLDS_FROM, defaults={"max_effort_rate": MAX_EFFORT_RATE, "min_daily_rest": MIN_DAILY_REST}
    )
    scale = apps.get_model("committee", "AplEstimateScale")
    for zone, ceilings in RENT_CEILINGS.items():
        for size, (rent, charges) in enumerate(zip(ceilings, CHARGES_FLAT, strict=True), start=1):
            scale.objects.get_or_create(
                valid_from=SCALE_FROM,
                apl_zone=zone,
                household_size=size,
                defaults={
                    "rent_ceiling": Decimal(rent),
                    "charges_flat": Decimal(charges),
                    "min_participation": MIN_PARTICIPATION,
                    "participation_rate": PARTICIPATION_RATE,
                },
            )


# --- Allocation parameters: legal quotas, contingent targets, first-quartile thresholds ----------
# Dated rows loaded from applications/committee/data/*.csv (each row with its source). Agency- and
# commune-keyed rows only load once the agency or commune exists (seed_demo creates them): the
# data migration loads what it can, `seed_committee_demo` calls this again.

DATA = Path(__file__).resolve().parent / "data"


def _rows(name):
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ensure_allocation_parameters(apps=global_apps) -> None:
    quota = apps.get_model("committee", "AllocationQuota")
    for row in _rows("allocation_quotas.csv"):
        quota.objects.update_or_create(
            kind=row["kind"],
            valid_from=date.fromisoformat(row["valid_from"]),
            defaults={"share": Decimal(row["share"]), "source": row["source"]},
        )
    agency_model = apps.get_model("tenancies", "Agency")
    agencies = dict(agency_model.objects.values_list("code", "id"))
    target = apps.get_model("committee", "ContingentTarget")
    for row in _rows("contingent_targets.csv"):
        code = row["agency_code"].strip()
        if code and code not in agencies:
            continue
        target.objects.update_or_create(
            agency_id=agencies.get(code) if code else None,
            contingent=row["contingent"],
            year=int(row["year"]),
            defaults={"target_share": Decimal(row["target_share"]), "source": row["source"]},
        )
    commune_model = apps.get_model("tenancies", "Commune")
    communes = dict(commune_model.objects.values_list("insee_code", "id"))
    threshold = apps.get_model("committee", "FirstQuartileThreshold")
    for row in _rows("first_quartile_thresholds.csv"):
        if row["insee_code"] not in communes:
            continue
        threshold.objects.update_or_create(
            year=int(row["year"]),
            commune_id=communes[row["insee_code"]],
            defaults={
                "territory": row["territory"],
                "amount": Decimal(row["amount"]),
                "demo": row["demo"] == "1",
                "source": row["source"],
            },
        )
