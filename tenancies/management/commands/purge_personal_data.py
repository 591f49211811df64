"""Run the retention job by hand (the same service as the nightly Celery task)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from tenancies.privacy import format_report, run_retention


class Command(BaseCommand):
    help = "Anonymise or delete the personal data past its retention term (every app's purge), and print a report."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="reference date, AAAA-MM-JJ (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="count only, change nothing")

    def handle(self, *args, as_of=None, dry_run=False, **options):
        day = None
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"Date « {as_of} » invalide : attendu AAAA-MM-JJ.") from None
        report = run_retention(as_of=day, dry_run=dry_run)
        self.stdout.write(format_report(report))
        if dry_run:
            self.stdout.write("(simulation : rien n'a été modifié)")
