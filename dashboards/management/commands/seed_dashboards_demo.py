from django.core.management.base import BaseCommand

from dashboards.services import refresh_dashboards


class Command(BaseCommand):
    help = "Calcule les tableaux de bord de la démonstration (après seed_demo et seed_billing_demo)."

    def handle(self, *args, **options):
        refresh = refresh_dashboards(full=True, reason="démonstration")
        self.stdout.write(f"Tableaux de bord calculés en {refresh.duration_ms} ms.")
