"""`manage.py seed_applications_demo`: demo applications, cotation grids, duplicates and renewals due."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from applications import demo
from applications.reference import ensure_reference_data
from applications.services import renewals_run
from tenancies.models import Agency


class Command(BaseCommand):
    help = "Ajoute au jeu de démonstration des demandes de logement, une grille de cotation par agence, des doublons."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Autorise le chargement sans DEBUG.")

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("DEBUG est désactivé : relancez avec --allow-production si c'est bien voulu.")
        if not Agency.objects.exists():
            raise CommandError("Lancez d'abord seed_demo.")
        ensure_reference_data()
        today = timezone.localdate()
        seeded = demo.seed_applications(today=today)
        renewals = renewals_run(as_of=today)
        self.stdout.write(
            f"Demandes de démonstration : {seeded.grids} grilles créées, {seeded.applications} demandes "
            f"({seeded.people} personnes, {seeded.duplicates} doublons), {renewals.notices} avis de renouvellement."
        )
