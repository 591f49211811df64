"""Sessions: cookie attributes, 30 minutes idle, 10 hours absolute, ended by logout, deactivation
and a password change; no-store on authenticated pages.

RELIABILITY.md AU-4, AU-5. Figures: cookies missing an attribute (0), requests accepted past either
limit (0), stale-session replays accepted (0).
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def production_settings(*names):
    """Values of `names` in the production settings (DJANGO_DEBUG=0), read in a fresh process."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"LOCATIF_TESTING", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="locatif.example.fr",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: str(getattr(settings, n, None)) for n in {list(names)!r}}}))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_cookies_and_transport_settings():
    values = production_settings(
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_NAME",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_AGE",
        "SESSION_ABSOLUTE_AGE",
        "OTP_REQUIRED_ROLES",
    )
    assert values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == "True"
    assert values["SESSION_COOKIE_HTTPONLY"] == "True"
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert values["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert int(values["SECURE_HSTS_SECONDS"]) >= 31536000
    assert values["SECURE_SSL_REDIRECT"] == "True"
    assert int(values["SESSION_COOKIE_AGE"]) == 30 * 60
    assert int(values["SESSION_ABSOLUTE_AGE"]) == 10 * 3600
    assert "direction" in values["OTP_REQUIRED_ROLES"] and "administrateur" in values["OTP_REQUIRED_ROLES"]


def _password_login(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def test_login_cookie_is_httponly_lax_and_a_new_session_key(client):
    UserFactory(username="camille")
    session = client.session
    session["before"] = 1
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before
    response = _password_login(client, "camille")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie.value != before, "the session key must change at login"
    assert not Session.objects.filter(session_key=before).exists()


def test_idle_session_ends_after_thirty_minutes(client):
    UserFactory(username="camille")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _password_login(client, "camille")
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get(reverse("home")).status_code == 200  # activity renews the idle limit
        traveller.shift(timedelta(minutes=31))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_session_ends_ten_hours_after_login_even_with_activity(client):
    UserFactory(username="camille")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _password_login(client, "camille")
        for _ in range(29):  # a request every 20 minutes: 9 h 40 min
            traveller.shift(timedelta(minutes=20))
            assert client.get(reverse("home")).status_code == 200
        traveller.shift(timedelta(minutes=21))  # 10 h 01 min after the login
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert client.get(reverse("home")).status_code == 302


def _logged_in_client(username):
    client = Client()
    _password_login(client, username)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def _replay(session_key):
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return replay.get(reverse("home"))


def test_logout_ends_the_session_server_side():
    UserFactory(username="camille")
    client, key = _logged_in_client("camille")
    assert _replay(key).status_code == 200
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert _replay(key).status_code == 302


def test_deactivating_a_user_ends_all_their_sessions():
    user = UserFactory(username="camille")
    UserFactory(username="dominique")
    _first, key1 = _logged_in_client("camille")
    _second, key2 = _logged_in_client("camille")
    _other, other_key = _logged_in_client("dominique")
    user.is_active = False
    user.save()
    assert not Session.objects.filter(session_key__in=[key1, key2]).exists()
    assert _replay(key1).status_code == _replay(key2).status_code == 302
    assert _replay(other_key).status_code == 200


def test_a_password_change_ends_the_other_sessions():
    UserFactory(username="camille")
    changer, _ = _logged_in_client("camille")
    _elsewhere, other_key = _logged_in_client("camille")
    new = "Tournesol-velo-pluie-42"
    response = changer.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert changer.get(reverse("home")).status_code == 200  # the changing session stays
    assert _replay(other_key).status_code == 302


def test_authenticated_pages_are_not_cached(client):
    client.force_login(UserFactory(username="camille"))
    response = client.get(reverse("home"))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
