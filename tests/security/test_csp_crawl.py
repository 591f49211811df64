"""Chromium crawl of every GET page of the route declarations: zero CSP violations.

RELIABILITY.md HTTP hardening. Debian's chromium through Playwright (never `playwright install`).
Each page is opened as the route's declared role of agency A; a `securitypolicyviolation`
listener (installed before any page script) and the console record violations. The login,
second-factor enrolment (QR code as a data: image) and code pages are included.

Figures: pages crawled, CSP violations (0).
"""

import os

import pytest
from django.conf import settings
from django.test import Client

from tenancies.roles import Role
from tests.factories import UserFactory
from tests.test_url_access import ROUTES, _url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture
def browser(chromium):
    return chromium  # the session's browser (tests/conftest.py): one Playwright instance per run


def _context(browser, live_server, user=None):
    context = browser.new_context(locale="fr-FR")
    if user is not None:
        client = Client()
        client.force_login(user)
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": live_server.url}])
    context.add_init_script(LISTENER)
    return context


def _visit(page, url, violations, console):
    console.clear()
    try:
        response = page.goto(url, wait_until="load")
    except Exception:  # noqa: BLE001 - a download (PDF, export) is not a page
        return False
    if response is None or "text/html" not in response.headers.get("content-type", ""):
        return False
    page.wait_for_timeout(50)
    found = page.evaluate("window.__cspViolations || []") + [m for m in console if "Content Security Policy" in m]
    violations.extend(f"{url}: {v}" for v in found)
    return True


def test_no_csp_violation_on_any_page(browser, live_server, world):
    violations, console, crawled = [], [], 0
    contexts = {}
    try:
        anonymous = _context(browser, live_server)
        page = anonymous.new_page()
        page.on("console", lambda m: console.append(m.text))
        crawled += _visit(page, f"{live_server.url}/connexion/", violations, console)
        for name in sorted(ROUTES):
            route = ROUTES[name]
            if route.method != "get":
                continue
            if route.role not in contexts:
                user = UserFactory(username=f"csp-{route.role}", roles=[route.role], agencies_list=[world["A"].agency])
                context = _context(browser, live_server, user)
                role_page = context.new_page()
                role_page.on("console", lambda m: console.append(m.text))
                contexts[route.role] = (context, role_page)
            _, role_page = contexts[route.role]
            crawled += _visit(role_page, live_server.url + _url(name, world, "A"), violations, console)
        # Second factor: the enrolment page shows the QR code as a data: image.
        _, role_page = contexts.get(Role.CHARGE_CLIENTELE) or next(iter(contexts.values()))
        crawled += _visit(role_page, f"{live_server.url}/connexion/?etape=activer", violations, console)
        assert role_page.locator("img.otp-qr").evaluate("img => img.naturalWidth") > 0
    finally:
        for context, _ in contexts.values():
            context.close()
    print(f"\nFIGURE CSP crawl: {crawled} pages in Chromium, {len(violations)} violations")
    assert crawled >= 10
    assert not violations, "\n".join(violations)
