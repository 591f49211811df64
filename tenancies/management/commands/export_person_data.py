"""Export everything held about a person (RGPD access right) as PDF and JSON files."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenancies.models import Person
from tenancies.privacy import export_person, export_person_pdf


class Command(BaseCommand):
    help = "Write a person's personal data export: donnees-personnelles-<id>.pdf and .json in --out."

    def add_arguments(self, parser):
        parser.add_argument("person_id", type=int)
        parser.add_argument("--out", default=".", help="folder for the two files (default: current folder)")

    def handle(self, *args, person_id, out, **options):
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise CommandError(f"Aucune personne n° {person_id}.")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        export = export_person(person)
        json_path = folder / f"donnees-personnelles-{person.pk}.json"
        json_path.write_text(json.dumps(export, ensure_ascii=False, indent=2), encoding="utf-8")
        pdf_path = folder / f"donnees-personnelles-{person.pk}.pdf"
        pdf_path.write_bytes(export_person_pdf(person, export))
        rows = sum(len(section["rows"]) for section in export["sections"])
        self.stdout.write(f"{rows} enregistrements dans {len(export['sections'])} rubriques : {pdf_path}, {json_path}")
