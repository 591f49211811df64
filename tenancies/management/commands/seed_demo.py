"""`manage.py seed_demo [--dwellings N]`: load (or grow) the demonstration landlord."""

import os
import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from tenancies import demo
from tenancies.models import Agency, Dwelling
from tenancies.reference import ensure_reference_data

# Serialises concurrent runs (pg_advisory_xact_lock key).
LOCK_KEY = 7_402_026


def _number(n: int) -> str:
    return f"{n:,}".replace(",", " ")


class Command(BaseCommand):
    help = (
        "Charge les données de démonstration (agences, patrimoine, ménages, baux, un identifiant par rôle). "
        "Idempotent : relancé, ne change rien ; avec un --dwellings plus grand, ajoute des résidences."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dwellings",
            type=int,
            default=demo.DEFAULT_DWELLINGS,
            help=f"Nombre total de logements visé (défaut : {_number(demo.DEFAULT_DWELLINGS)}).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Autorise le chargement quand DEBUG est désactivé (crée un superutilisateur au mot de passe connu).",
        )

    def handle(self, *args, dwellings, allow_production, **options):
        if dwellings < 1:
            raise CommandError("--dwellings doit valoir au moins 1.")
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG est désactivé : les données de démonstration créent des comptes au mot de passe public "
                "(dont un superutilisateur). Relancez avec --allow-production si c'est bien voulu."
            )
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        started = time.monotonic()
        counts = {}
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            demo_present = Agency.objects.filter(code="SA").exists()
            existing = Dwelling.objects.count()
            ensure_reference_data()
            agencies, communes = demo.ensure_territory()
            if existing < dwellings:
                self.stdout.write(
                    f"Création des données de démonstration : {_number(dwellings - existing)} logements à ajouter "
                    f"({_number(existing)} existants, {_number(dwellings)} visés)…"
                )
                # The fresh demo uses the seed as is; a growth run derives it from the starting size.
                rng = random.Random(demo.SEED if existing == 0 else demo.SEED + existing)
                plans = demo.plan_estates(rng, existing, dwellings)
                try:
                    counts = demo.build_stock(rng, plans, agencies, communes)
                except LookupError as exc:
                    raise CommandError(f"Types de charges manquants : {exc} (migrations appliquées ?).") from exc
            elif demo_present:
                self.stdout.write(
                    self.style.WARNING(
                        f"Données de démonstration déjà présentes ({_number(existing)} logements) : rien à ajouter."
                    )
                )
            else:
                self.stdout.write(f"Le parc compte déjà {_number(existing)} logements : aucun logement ajouté.")
            logins = demo.ensure_users(password)
        if counts:
            demo.analyze()
            for label, count in counts.items():
                self.stdout.write(f"  {label:<36} {_number(count):>10}")
            elapsed = f"{time.monotonic() - started:.1f}".replace(".", ",")
            self.stdout.write(self.style.SUCCESS(f"Données de démonstration chargées en {elapsed} s."))
        self._print_logins(logins, password)

    def _print_logins(self, logins, password):
        headers = ("Identifiant", "Rôle", "Agences", "Mot de passe")
        rows = [(username, role, territory, password) for username, role, territory in logins]
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        line = "  ".join("-" * w for w in widths)
        self.stdout.write("")
        self.stdout.write("Comptes de démonstration :")
        self.stdout.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        self.stdout.write(line)
        for row in rows:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        self.stdout.write("")
        self.stdout.write(f"Application : {demo.DEMO_URL}")
