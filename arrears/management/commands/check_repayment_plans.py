"""`manage.py check_repayment_plans [--as-of jj/mm/aaaa]`: the monthly check of the plans, by hand."""

from django.core.management.base import BaseCommand

from arrears.services import check_plans

from .detect_arrears import parse_day


class Command(BaseCommand):
    help = "Contrôle les plans d'apurement signés : respectés, en retard ou rompus."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Jour du contrôle (par défaut aujourd'hui).")

    def handle(self, *args, as_of=None, **options):
        counts = check_plans(as_of=parse_day(as_of))
        labels = {"active": "respectés", "late": "en retard", "broken": "rompus", "completed": "soldés"}
        detail = ", ".join(f"{n} {labels.get(k, k)}" for k, n in sorted(counts.items())) or "aucun plan en cours"
        self.stdout.write(f"Contrôle des plans d'apurement : {detail}.")
