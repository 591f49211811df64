"""`manage.py applications_renewals [--date AAAA-MM-JJ]`: the daily renewal job, by hand."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from applications.services import renewals_run


class Command(BaseCommand):
    help = "Avis de renouvellement des demandes de logement, radiation des demandes non renouvelées, recotation."

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="as_of", help="Date de traitement (AAAA-MM-JJ), aujourd'hui par défaut.")

    def handle(self, *args, as_of=None, **options):
        day = None
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError as exc:
                raise CommandError(f"Date invalide : {as_of} (format AAAA-MM-JJ).") from exc
        result = renewals_run(as_of=day)
        self.stdout.write(
            f"{result.notices} avis de renouvellement produits ({result.late_notices} en retard), "
            f"{result.cancelled} demandes radiées pour non-renouvellement, {result.rescored} cotations modifiées."
        )
