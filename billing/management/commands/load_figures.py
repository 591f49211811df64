from django.core.management.base import BaseCommand

from billing.figures import load_figures


class Command(BaseCommand):
    help = "Charge ou met à jour les barèmes datés (RLS, IRL, plafonds de ressources) depuis les CSV du projet."

    def handle(self, *args, **options):
        counts = load_figures()
        self.stdout.write(", ".join(f"{name} : {n} lignes" for name, n in counts.items()))
