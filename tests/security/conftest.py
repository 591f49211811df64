"""Helpers for the security tests (issue 8: access, authentication, HTTP hardening)."""

import re

import pytest
from django_otp.oath import totp

PASSWORD = "Mot-de-passe-test-2026"  # tests.factories.UserFactory's


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def without_csrf(html: str) -> str:
    """The page with its (masked, so per-response) CSRF tokens and the typed username blanked out."""
    html = re.sub(r'(name="username"[^>]*value=")[^"]*"', r'\1USER"', html)
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF", html)


@pytest.fixture
def otp_required(settings):
    settings.OTP_REQUIRED_ROLES = ["direction", "administrateur"]
