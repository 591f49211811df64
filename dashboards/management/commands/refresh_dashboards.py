from datetime import date

from django.core.management.base import BaseCommand, CommandError

from dashboards.services import refresh_dashboards


class Command(BaseCommand):
    help = "Recalcule les chiffres des tableaux de bord (incrémental ; --full : tout l'historique)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recalculer tout l'historique conservé")
        parser.add_argument("--as-of", help="date de situation AAAA-MM-JJ (défaut : aujourd'hui)")

    def handle(self, *args, full=False, as_of=None, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(f"Date invalide : {as_of} (attendu AAAA-MM-JJ).") from exc
        refresh = refresh_dashboards(as_of=day, full=full, reason="commande")
        self.stdout.write(
            f"Tableaux de bord calculés : {refresh.first_month:%m/%Y} à {refresh.last_month:%m/%Y}, "
            f"{refresh.rows_scanned} lignes lues, {refresh.duration_ms} ms."
        )
