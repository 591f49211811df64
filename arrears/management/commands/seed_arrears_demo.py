"""`manage.py seed_arrears_demo`: arrears cases on the demo stock (after seed_demo and seed_billing_demo)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arrears import demo


class Command(BaseCommand):
    help = "Ajoute au jeu de démonstration les dossiers d'impayés (détection, premières relances, un plan)."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Autorise le chargement sans DEBUG.")

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("DEBUG est désactivé : relancez avec --allow-production si c'est bien voulu.")
        counts = demo.seed()
        self.stdout.write(
            f"Impayés de démonstration : {counts['opened']} dossiers ouverts, {counts['letters']} relances, "
            f"{counts['plans']} plan(s)."
        )
