"""`manage.py detect_arrears [--as-of jj/mm/aaaa]`: the daily detection, by hand."""

from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.detection import run_detection


def parse_day(text: str | None) -> date:
    if not text:
        return timezone.localdate()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar day, no time
        except ValueError:
            continue
    raise CommandError(f"Date « {text} » invalide : attendu jj/mm/aaaa.")


class Command(BaseCommand):
    help = "Calcule l'ancienneté des impayés de chaque compte et ouvre, rouvre ou solde les dossiers."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Jour de calcul (par défaut aujourd'hui).")

    def handle(self, *args, as_of=None, **options):
        report = run_detection(as_of=parse_day(as_of))
        self.stdout.write(
            f"Détection au {report.as_of:%d/%m/%Y} : {report.snapshots} comptes débiteurs, {report.opened} dossiers "
            f"ouverts, {report.reopened} rouverts, {report.closed} soldés, "
            f"{report.caf_reports} signalement(s) CAF à faire."
        )
