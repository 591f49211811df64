"""Reference lists loaded from applications/data/*.csv: the national list of supporting documents
(arrêté du 22 décembre 2020 modifié) and the priority publics of CCH L441-1.

Loaded by migration 0003 and re-ensured by `seed_applications_demo` (idempotent), so a flushed
database gets them back."""

import csv
from pathlib import Path

from django.apps import apps as global_apps

DATA = Path(__file__).resolve().parent / "data"


def _rows(name):
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def ensure_reference_data(apps=global_apps) -> None:
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
