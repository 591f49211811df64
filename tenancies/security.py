"""Authentication and session hardening: context-word passwords, session limits, second factor.

- `ForbiddenWordsValidator`: a password made mostly of the landlord's own words (locatif, hlm,
  caleol, agency names…, listed in tenancies/data/forbidden_passwords.txt plus the agencies'
  names in the database) is refused.
- `SessionSecurityMiddleware`: ends a session 10 hours after login whatever the activity
  (the 30-minute idle limit is SESSION_COOKIE_AGE), ends the session of a user whose role needs
  a second factor when the session was not verified by one (a login that bypassed our login view,
  e.g. the admin site's), and marks every authenticated response `Cache-Control: no-store`.
- `end_user_sessions(user)`: deletes every session of a user; called when a user is deactivated.
"""

from __future__ import annotations

import re
import time
import unicodedata
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db.models.signals import post_save
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import patch_cache_control

LOGIN_AT_SESSION_KEY = "_locatif_login_at"
FORBIDDEN_WORDS_FILE = Path(__file__).resolve().parent / "data" / "forbidden_passwords.txt"


# --- Passwords ---------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """Lower case, accents removed, common digit-for-letter swaps undone, only letters and digits."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.translate(str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"}))
    return re.sub(r"[^a-z0-9]", "", text)


@cache
def file_words() -> frozenset[str]:
    words = set()
    for line in FORBIDDEN_WORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.add(_normalise(line))
    return frozenset(w for w in words if len(w) >= 3)


def context_words() -> set[str]:
    """The file's words plus every agency's name (each word of it of 4 letters or more)."""
    from .models import Agency

    words = set(file_words())
    for name in Agency.objects.values_list("name", flat=True):
        for part in re.split(r"[\s'’-]+", name):
            part = _normalise(part)
            if len(part) >= 4 and part not in {"agence"}:
                words.add(part)
    return words


class ForbiddenWordsValidator:
    """Refuses a password that is still shorter than `min_length` once the landlord's words
    (locatif, bailleur, hlm, caleol, agency names…) are taken out of it."""

    def __init__(self, min_length: int = 12):
        self.min_length = min_length

    def validate(self, password, user=None):
        rest = _normalise(password)
        for word in sorted(context_words(), key=len, reverse=True):
            rest = rest.replace(word, "")
        if len(rest) < self.min_length and rest != _normalise(password):
            raise ValidationError(
                "Ce mot de passe est construit sur des mots trop prévisibles (nom de l’organisme, "
                "de l’application ou d’une agence).",
                code="password_context_word",
            )

    def get_help_text(self):
        return "Votre mot de passe ne doit pas reposer sur le nom de l’organisme, de l’application ou d’une agence."


# --- Sessions ----------------------------------------------------------------------------------


def end_user_sessions(user, *, keep: str | None = None) -> int:
    """Delete every live session of `user` (except the session key `keep`); returns the count."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep:
            continue
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


def _remember_login_time(sender, request, user, **kwargs):
    if getattr(request, "session", None) is not None:
        request.session[LOGIN_AT_SESSION_KEY] = int(time.time())


def _end_sessions_of_deactivated_user(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        end_user_sessions(instance)


def connect_signals():
    user_logged_in.connect(_remember_login_time, dispatch_uid="locatif_login_time")
    post_save.connect(
        _end_sessions_of_deactivated_user, sender=settings.AUTH_USER_MODEL, dispatch_uid="locatif_deactivation"
    )


connect_signals()


def requires_second_factor(user) -> bool:
    required = set(getattr(settings, "OTP_REQUIRED_ROLES", ()))
    return bool(required) and bool(user.roles & required)


class SessionSecurityMiddleware:
    """After AuthenticationMiddleware and django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ended = self._check(request, user)
            if ended is not None:
                return ended
            response = self.get_response(request)
            patch_cache_control(response, no_store=True, private=True)
            return response
        return self.get_response(request)

    def _check(self, request, user):
        session = request.session
        now = int(time.time())
        login_at = session.get(LOGIN_AT_SESSION_KEY)
        if login_at is None:
            session[LOGIN_AT_SESSION_KEY] = now
        elif now - login_at > settings.SESSION_ABSOLUTE_AGE:
            logout(request)
            messages.info(request, "Votre session a expiré après 10 heures : reconnectez-vous.")
            return redirect(settings.LOGIN_URL)
        if requires_second_factor(user) and not (hasattr(user, "is_verified") and user.is_verified()):
            logout(request)
            messages.warning(request, "Votre rôle demande une connexion avec un code de vérification.")
            return redirect(settings.LOGIN_URL)
        return None
