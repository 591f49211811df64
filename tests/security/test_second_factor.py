"""Second factor (TOTP, django-otp): required for direction and administrators, optional for staff.

RELIABILITY.md AU-1. Figures: protected pages reachable without the second factor (0), accepted
code replays (0).
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenancies.roles import Role
from tests.factories import UserFactory

from .conftest import PASSWORD, current_code

pytestmark = pytest.mark.django_db

LOGIN = "/connexion/"


def _password(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def _is_logged_in(client):
    return client.get(reverse("home")).status_code == 200


def test_direction_without_a_device_must_enrol_before_anything(client, otp_required):
    user = UserFactory(username="isabelle", roles=[Role.DIRECTION])
    response = _password(client, "isabelle")
    assert response["Location"] == LOGIN + "?etape=activer"
    assert not _is_logged_in(client)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    assert "img-src" in page["Content-Security-Policy"] and "data:" in page["Content-Security-Policy"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        wrong = client.post(LOGIN + "?etape=activer", {"otp_token": "12345"})
        assert "Code incorrect" in wrong.content.decode()
        assert not _is_logged_in(client)
        traveller.shift(timedelta(seconds=3))  # django-otp throttles the next try for 1 s, then 2 s, 4 s…
        done = client.post(LOGIN + "?etape=activer", {"otp_token": current_code(device)})
    assert done.status_code == 302 and done["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert _is_logged_in(client)


def test_direction_with_a_device_needs_the_code_and_a_code_is_used_once(client, otp_required):
    user = UserFactory(username="isabelle", roles=[Role.ADMINISTRATEUR])
    device = TOTPDevice.objects.create(user=user, name="téléphone", confirmed=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = _password(client, "isabelle")
        assert response["Location"] == LOGIN + "?etape=code"
        assert not _is_logged_in(client)
        code = current_code(device)
        assert client.post(LOGIN + "?etape=code", {"otp_token": code})["Location"] == "/"
        assert _is_logged_in(client)
        client.post(reverse("logout"))
        # Replay: the same code, in the same 30-second step, on a new login.
        _password(client, "isabelle")
        replay = client.post(LOGIN + "?etape=code", {"otp_token": code})
        assert replay.status_code == 200 and "Code incorrect" in replay.content.decode()
        assert not _is_logged_in(client)
    print("\nFIGURE second factor: 0 code replays accepted")


def test_the_code_step_expires_after_five_minutes(client, otp_required):
    user = UserFactory(username="isabelle", roles=[Role.DIRECTION])
    device = TOTPDevice.objects.create(user=user, name="téléphone", confirmed=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _password(client, "isabelle")
        traveller.shift(timedelta(minutes=6))
        response = client.post(LOGIN + "?etape=code", {"otp_token": current_code(device)})
        assert response.status_code == 302 and response["Location"] == LOGIN
        assert not _is_logged_in(client)


def test_a_session_of_a_required_role_without_the_second_factor_is_ended(client, otp_required):
    # e.g. a password login through the admin site's own login page.
    client.force_login(UserFactory(username="isabelle", roles=[Role.DIRECTION]))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not _is_logged_in(client)


def test_staff_without_a_device_log_in_with_the_password_only(client, otp_required):
    UserFactory(username="karim", roles=[Role.CHARGE_CLIENTELE])
    assert _password(client, "karim")["Location"] == "/"
    assert _is_logged_in(client)


def test_staff_may_enrol_and_then_need_the_code(client, otp_required):
    user = UserFactory(username="karim", roles=[Role.CHARGE_CLIENTELE])
    client.force_login(user)
    page = client.get(LOGIN + "?etape=activer")
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(LOGIN + "?etape=activer", {"otp_token": current_code(device)})["Location"] == reverse(
        "password_change"
    )
    client.post(reverse("logout"))
    assert _password(client, "karim")["Location"] == LOGIN + "?etape=code"
    assert not _is_logged_in(client)


def test_enrolment_page_needs_a_login_or_a_pending_password_step(client, otp_required):
    response = client.get(LOGIN + "?etape=activer")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not TOTPDevice.objects.exists()


def test_demo_devices_have_known_secrets(db, settings, capsys):
    from django.core.management import call_command

    settings.DEBUG = True
    UserFactory(username="direction", roles=[Role.DIRECTION])
    call_command("seed_security_demo")
    call_command("seed_security_demo")  # idempotent
    assert TOTPDevice.objects.filter(user__username="direction", confirmed=True).count() == 1
    call_command("seed_security_demo", codes=True)
    out = capsys.readouterr().out
    assert "direction: secret TOTP" in out
    device = TOTPDevice.objects.get(user__username="direction")
    assert f"direction: {current_code(device)}" in out
