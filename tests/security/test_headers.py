"""HTTP hardening headers on every answer; no-store on authenticated pages.

`check --deploy` with production settings (HSTS, secure cookies, SSL redirect) runs in scripts/test.
"""

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_strict_csp_without_unsafe_inline_scripts(client):
    response = client.get(reverse("login"))
    csp = _directives(response)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert not any("http" in source for sources in csp.values() for source in sources), "no third-party origin"


def test_csp_nonce_is_per_response_when_a_template_uses_it(rf):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    def view(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    middleware = CSPMiddleware(view)
    first = middleware(rf.get("/"))
    second = middleware(rf.get("/"))
    nonce = re.compile(r"'nonce-([^']+)'")
    a = nonce.search(first["Content-Security-Policy"]).group(1)
    b = nonce.search(second["Content-Security-Policy"]).group(1)
    assert a != b and a in first.content.decode()


@pytest.mark.parametrize("authenticated", [False, True])
def test_security_headers(client, authenticated):
    if authenticated:
        client.force_login(UserFactory())
    response = client.get(reverse("home") if authenticated else reverse("login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_health_check_is_not_marked_private(client):
    response = client.get(reverse("health"))
    assert "private" not in response.get("Cache-Control", "")
