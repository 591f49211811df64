"""`manage.py bill --period 2026-12`: run the monthly billing (the same service as the page)."""

from django.core.management.base import BaseCommand, CommandError

from billing import batch
from billing.models import BillingRun, RunStatus
from tenancies.formatting import format_euros


class Command(BaseCommand):
    help = "Lance le quittancement d'un mois (AAAA-MM). Relancé, il ne crée rien de plus."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="Mois à facturer, AAAA-MM")
        parser.add_argument("--resume", action="store_true", help="Relance les lots non terminés du run en cours")

    def handle(self, *args, period, resume, **options):
        try:
            month = batch.parse_period(period)
            if resume:
                run = BillingRun.objects.filter(period=month, status=RunStatus.RUNNING).first()
                if run is None:
                    raise CommandError("Aucun quittancement en cours pour cette période.")
                self.stdout.write(f"{batch.resume_run(run)} lot(s) relancé(s).")
            else:
                run, created = batch.start_run(period=month)
                if not created:
                    self.stdout.write("Un quittancement de cette période est déjà en cours : suivi de celui-ci.")
        except batch.BillingError as exc:
            raise CommandError(str(exc)) from exc
        run.refresh_from_db()
        done, total = batch.run_progress(run)
        self.stdout.write(
            f"Quittancement {run.period:%m/%Y} — statut : {run.get_status_display()} ({done}/{total} lots)\n"
            f"Baux : {run.lease_count} · avis émis : {run.notice_count} · déjà facturés : "
            f"{run.already_billed_count} · échecs : {run.failure_count} · total : {format_euros(run.total_due)}"
        )
        for row in run.totals_by_agency:
            self.stdout.write(f"  {row['agency']} : {row['count']} avis, {format_euros(row['due'])}")
