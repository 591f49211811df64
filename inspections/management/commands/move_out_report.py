"""`manage.py move_out_report [--date AAAA-MM-JJ]`: the daily list (same service as the Celery task)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inspections import services


class Command(BaseCommand):
    help = "Liste les décomptes de sortie en retard ou proches de leur date limite et les délais de remarques ouverts."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Date du jour (AAAA-MM-JJ), aujourd'hui par défaut.")

    def handle(self, *args, date=None, **options):
        try:
            as_of = _parse(date) if date else timezone.localdate()
        except ValueError as exc:
            raise CommandError("Date invalide : format AAAA-MM-JJ attendu.") from exc
        report = services.daily_report(as_of=as_of)
        for title, key in (("En retard", "overdue"), ("À échéance sous 10 jours", "due_soon")):
            self.stdout.write(f"{title} : {len(report[key])}")
            for s in report[key]:
                self.stdout.write(
                    f"  bail {s.lease.number} — limite {s.deadline:%d/%m/%Y} ({(s.deadline - as_of).days} j) — "
                    f"{s.lease.dwelling.building.estate.agency.name} — {s.get_status_display()}"
                )
        self.stdout.write(f"Délais de remarques sur EDL d'entrée ouverts : {len(report['remarks_open'])}")
        for i in report["remarks_open"]:
            self.stdout.write(f"  bail {i.lease.number} — jusqu'au {services.remarks_deadline(i):%d/%m/%Y}")


def _parse(text: str) -> date:
    return date.fromisoformat(text)
