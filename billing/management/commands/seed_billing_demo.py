"""`manage.py seed_billing_demo`: benefits, three billed months and payments on the demo stock."""

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing import demo
from billing.models import Payment


class Command(BaseCommand):
    help = "Ajoute au jeu de démonstration les aides au logement, trois mois de quittancement et les paiements."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Autorise le chargement sans DEBUG.")

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("DEBUG est désactivé : relancez avec --allow-production si c'est bien voulu.")
        rng = random.Random(demo.SEED)
        benefits = demo.seed_benefits(rng)
        months = demo.bill_months()
        payments = (
            0 if Payment.objects.filter(idempotency_key__startswith="demo-").exists() else demo.seed_payments(rng)
        )
        self.stdout.write(
            f"Quittancement de démonstration : {benefits} aides créées, {sum(months)} avis émis "
            f"({len(months)} mois), {payments} paiements."
        )
