"""Default matching parameters: typology occupancy, solvency thresholds, the simplified APL scale.

All are local policy or estimates, editable in the admin; a change is a new dated row. Loaded by
migration 0002 and re-ensured by `seed_committee_demo` (idempotent), so a flushed database gets
them back.
"""

from datetime import date
from decimal import Decimal

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
