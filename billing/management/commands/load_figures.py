from django.core.management.base import BaseCommand

from billing.figures import load_figures
from tenancies.reference_delays import load_legal_delays


class Command(BaseCommand):
    help = "Charge ou met à jour les barèmes datés (RLS, IRL, plafonds, délais légaux) depuis les CSV du projet."

    def handle(self, *args, **options):
        counts = load_figures()
        counts["délais légaux"] = load_legal_delays()
        self.stdout.write(", ".join(f"{name} : {n} lignes" for name, n in counts.items()))
