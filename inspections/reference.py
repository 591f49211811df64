"""Load the dated reference tables from the app's CSVs (idempotent: one row per code and date)."""

import csv
from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
GRID_LABELS = {
    "paint_wallpaper": "Peintures, papiers peints",
    "carpet": "Moquette",
    "plastic_floor_covering": "Revêtement de sol plastique",
    "tiles_parquet": "Carrelage, parquet",
    "interior_joinery": "Menuiseries intérieures",
    "locks_hardware": "Serrurerie, quincaillerie",
    "taps": "Robinetterie",
    "water_heater": "Chauffe-eau",
}
GRID_SOURCE = "Grille d'exemple (association de consommateurs, illustrative) — DOMAIN.md §2.2.3"
GRID_FROM = "2016-06-01"  # décret 2016-382 in force


def load(VetusteRule, RepairPrice) -> None:
    with open(DATA / "vetuste_example_grid.csv", newline="") as f:
        for row in csv.DictReader(f):
            VetusteRule.objects.update_or_create(
                element_type=row["element"],
                valid_from=GRID_FROM,
                defaults={
                    "label": GRID_LABELS.get(row["element"], row["element"]),
                    "lifetime_years": int(row["lifetime_years"]),
                    "franchise_years": int(row["franchise_years"]),
                    "yearly_abatement_pct": Decimal(row["yearly_abatement_pct"]),
                    "residual_share_pct": Decimal(row["residual_tenant_share_pct"]),
                    "source": GRID_SOURCE,
                },
            )
    with open(DATA / "repair_prices_example.csv", newline="") as f:
        for row in csv.DictReader(f):
            RepairPrice.objects.update_or_create(
                code=row["code"],
                valid_from=row["valid_from"],
                defaults={
                    "label": row["label"],
                    "element_type": row["element_type"],
                    "unit": row["unit"],
                    "unit_price": Decimal(row["unit_price"]),
                },
            )
