"""`manage.py seed_security_demo [--codes]`: TOTP devices with known secrets for the demo logins.

The demo's direction and administrator logins need a second factor (settings.OTP_REQUIRED_ROLES).
This command gives them a confirmed TOTP device whose secret is derived from the username (so it
is the same on every machine, and can be added to an authenticator app), and prints the secret,
the otpauth:// URL and the current code. `--codes` only prints the current codes.
Never for production: the secrets are public.
"""

import base64
import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_DEVICE_NAME = "Démo (secret public)"


def demo_key(username: str) -> str:
    """20 bytes (hex) derived from the username: a public, reproducible demo secret."""
    return hashlib.sha256(f"locatif-demo-totp:{username}".encode()).hexdigest()[:40]


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


class Command(BaseCommand):
    help = "Donne aux identifiants de démonstration direction et administrateur un appareil TOTP au secret connu."

    def add_arguments(self, parser):
        parser.add_argument("--codes", action="store_true", help="Affiche seulement les codes du moment.")
        parser.add_argument("--allow-production", action="store_true", help="Autorise quand DEBUG est désactivé.")

    def handle(self, *args, codes=False, allow_production=False, **options):
        if not (settings.DEBUG or allow_production):
            raise CommandError("Démo seulement : DEBUG est désactivé (ajoutez --allow-production pour forcer).")
        users = get_user_model().objects.filter(
            groups__name__in=settings.OTP_REQUIRED_ROLES or ["direction", "administrateur"]
        )
        for user in users.distinct().order_by("username"):
            device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
            if device is None and not codes:
                device = TOTPDevice.objects.create(
                    user=user, name=DEMO_DEVICE_NAME, key=demo_key(user.username), confirmed=True
                )
            if device is None:
                continue
            if codes:
                self.stdout.write(f"{user.username}: {current_code(device)}")
                continue
            secret = base64.b32encode(device.bin_key).decode().rstrip("=")
            self.stdout.write(
                f"{user.username}: secret TOTP {secret}  (code du moment : {current_code(device)}; "
                f"`manage.py seed_security_demo --codes` pour les suivants)"
            )
