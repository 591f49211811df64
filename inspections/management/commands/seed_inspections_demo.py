"""`manage.py seed_inspections_demo`: vétusté grid, example bordereau and demo appointments."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inspections import demo


class Command(BaseCommand):
    help = "Charge la grille de vétusté, le bordereau d'exemple et quelques rendez-vous d'entrée et de sortie."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Autorise le chargement sans DEBUG.")

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("DEBUG est désactivé : relancez avec --allow-production si c'est bien voulu.")
        counts = demo.seed()
        self.stdout.write(
            f"Entrées et sorties de démonstration : {counts['inspections']} rendez-vous, {counts['notices']} congé(s)."
        )
