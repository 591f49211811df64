"""`manage.py load_arrears_parameters`: reload arrears/data/*.csv (detection rule, ladder)."""

from django.core.management.base import BaseCommand

from arrears.reference import load_parameters


class Command(BaseCommand):
    help = "Recharge la règle de détection des impayés et l'échelle amiable depuis arrears/data/."

    def handle(self, *args, **options):
        self.stdout.write(f"{load_parameters()} paramètre(s) d'impayés chargé(s).")
