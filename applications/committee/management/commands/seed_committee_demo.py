"""`manage.py seed_committee_demo`: the committee demo (members, an open session with its agenda)."""

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from applications.committee import demo
from applications.models import Application
from tenancies.models import Agency


class Command(BaseCommand):
    help = (
        "Ajoute au jeu de démonstration trois membres de commission, une présidente et une séance de CALEOL "
        "ouverte avec son ordre du jour. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Autorise le chargement sans DEBUG.")

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("DEBUG est désactivé : relancez avec --allow-production si c'est bien voulu.")
        if not Agency.objects.filter(code=demo.AGENCY_CODE).exists():
            raise CommandError("Lancez d'abord seed_demo.")
        if (
            "seed_applications_demo" in get_commands()
            and not Application.objects.exclude(local_number__startswith=demo.LOCAL_PREFIX).exists()
        ):
            call_command("seed_applications_demo", allow_production=True, verbosity=options["verbosity"])
        try:
            seeded = demo.seed()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        session = seeded.session
        if seeded.created:
            closes = timezone.localtime(session.closes_at)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Séance de démonstration ouverte : {session} (votes jusqu'au {closes:%d/%m/%Y %H:%M})."
                )
            )
            if seeded.applications:
                self.stdout.write(f"  {seeded.applications} demandes de démonstration créées pour la commission.")
            if seeded.free_dwelling:
                self.stdout.write(f"  Logement vacant à rapprocher : {seeded.free_dwelling.reference}.")
        else:
            self.stdout.write(f"Séance de démonstration déjà ouverte : {session}.")
        if seeded.history:
            self.stdout.write(f"  {seeded.history} séance(s) passée(s) avec attribution pour les tableaux de bord.")
        self.stdout.write(
            "Identifiants : president.caleol, commission, commission2, commission3 (mot de passe de démo)."
        )
