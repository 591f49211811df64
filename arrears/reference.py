"""Load arrears/data/*.csv (detection rule, amicable ladder) into their dated tables (idempotent;
used by a data migration and by `manage.py load_arrears_parameters`)."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps as global_apps

DATA = Path(__file__).resolve().parent / "data"


def _rows(name):
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load_parameters(apps=global_apps) -> int:
    ArrearsRule = apps.get_model("arrears", "ArrearsRule")
    LadderStep = apps.get_model("arrears", "LadderStep")
    count = 0
    for row in _rows("rules.csv"):
        start_month, start_day = (int(x) for x in row["truce_start"].split("-"))
        end_month, end_day = (int(x) for x in row["truce_end"].split("-"))
        ArrearsRule.objects.update_or_create(
            valid_from=date.fromisoformat(row["valid_from"]),
            defaults={
                "detection_day": int(row["detection_day"]),
                "open_threshold": Decimal(row["open_threshold"]),
                "caf_threshold_months": Decimal(row["caf_threshold_months"]),
                "plan_missed_to_break": int(row["plan_missed_to_break"]),
                "plan_max_months": int(row["plan_max_months"]),
                "write_off_direction_threshold": Decimal(row["write_off_direction_threshold"]),
                "truce_start_month": start_month,
                "truce_start_day": start_day,
                "truce_end_month": end_month,
                "truce_end_day": end_day,
                "source": row["source"],
            },
        )
        count += 1
    for row in _rows("ladder.csv"):
        LadderStep.objects.update_or_create(
            valid_from=date.fromisoformat(row["valid_from"]),
            position=int(row["position"]),
            defaults={
                "code": row["code"],
                "label": row["label"],
                "delay_days": int(row["delay_days"]),
                "letter_title": row["letter_title"],
                "letter_text": row["letter_text"],
                "task": row["task"],
            },
        )
        count += 1
    return count
