"""`manage.py offers_follow_up [--as-of AAAA-MM-JJ]`: the daily offer job, by hand."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from applications.committee.services import offers_follow_up


class Command(BaseCommand):
    help = (
        "Propositions de logement : expire celles dont le délai de réponse est dépassé (le silence vaut refus, "
        "le candidat suivant reçoit la proposition) et radie pour attribution les demandes dont le bail est signé."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Date du traitement (AAAA-MM-JJ), aujourd'hui par défaut.")

    def handle(self, *args, as_of=None, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError as exc:
            raise CommandError("--as-of attend une date AAAA-MM-JJ.") from exc
        counts = offers_follow_up(as_of=day)
        self.stdout.write(
            f"{counts['expired']} proposition(s) expirée(s), {counts['next_offers']} nouvelle(s) proposition(s), "
            f"{counts['leases_signed']} demande(s) radiée(s) pour attribution."
        )
