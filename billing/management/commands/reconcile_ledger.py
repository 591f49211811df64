"""`manage.py reconcile_ledger`: every account balance must equal the sum of its entries."""

from django.core.management.base import BaseCommand, CommandError

from billing.ledger import reconcile
from billing.models import Account


class Command(BaseCommand):
    help = "Vérifie que le solde de chaque compte est égal à la somme de ses écritures."

    def handle(self, *args, **options):
        gaps = reconcile()
        for account_id, cached, actual in gaps[:50]:
            self.stderr.write(f"Compte {account_id} : solde affiché {cached} €, somme des écritures {actual} €")
        if gaps:
            raise CommandError(f"{len(gaps)} compte(s) en écart.")
        self.stdout.write(f"{Account.objects.count()} comptes vérifiés : aucun écart.")
