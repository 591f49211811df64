"""Every URL pattern: anonymous users are sent to the login page, another agency's staff get 404.

A new URL pattern without an entry in ROUTES makes test_every_route_is_declared fail.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# url name -> (object kind in the world fixture or None, method used for the agency check)
ROUTES = {
    "billing:run_list": (None, "get"),
    "billing:run_detail": ("run", "get"),
    "billing:run_progress": ("run", "get"),
    "billing:run_resume": ("run", "post"),
    "billing:run_agency_pdf": ("run+agency", "get"),
    "billing:account_detail": ("account", "get"),
    "billing:payment_create": ("account", "post"),
    "billing:statement_pdf": ("account", "get"),
    "billing:notice_pdf": ("notice", "get"),
    "billing:quittance_pdf": ("notice", "get"),
    "billing:receipt_pdf": ("payment", "get"),
    "home": (None, "get"),
    "tenancies:estate_list": (None, "get"),
    "tenancies:estate_detail": ("estate", "get"),
    "tenancies:building_detail": ("building", "get"),
    "tenancies:dwelling_list": (None, "get"),
    "tenancies:dwelling_detail": ("dwelling", "get"),
    "tenancies:household_list": (None, "get"),
    "tenancies:household_detail": ("household", "get"),
    "tenancies:lease_list": (None, "get"),
    "tenancies:lease_detail": ("lease", "get"),
    "tenancies:lease_transition": ("lease", "post"),
    "tenancies:search": (None, "get"),
    "logout": (None, "post"),
    "password_change": (None, "get"),
    "password_change_done": (None, "get"),
}
# Reachable without logging in: the explicit allowlist.
PUBLIC = {"login", "health"}
# Third-party URL trees with their own access control (Django admin: staff only).
EXTERNAL_NAMESPACES = {"admin"}


def _walk(resolver, namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXTERNAL_NAMESPACES:
                continue
            ns = pattern.namespace or namespace
            yield from _walk(pattern, f"{namespace}:{ns}" if namespace and pattern.namespace else ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def all_route_names():
    return set(_walk(get_resolver()))


def test_every_route_is_declared():
    assert all_route_names() == set(ROUTES) | PUBLIC


# Billing runs span every agency: only the roles that run billing may open them (403 otherwise).
ALL_AGENCY_KINDS = {"run", "run+agency"}
# Pages that answer something other than 200 to a permitted GET: the quittance of a partly paid
# notice (409), a run PDF being prepared (202).
PERMITTED_STATUS = {"billing:quittance_pdf": 409, "billing:run_agency_pdf": 202}


def _url(name, world, territory="A"):
    kind, _ = ROUTES[name]
    if kind is None:
        return reverse(name)
    if kind == "run+agency":
        return reverse(name, args=[world[territory].run.pk, world[territory].agency.pk])
    return reverse(name, args=[getattr(world[territory], kind).pk])


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("method", ["get", "post", "head"])
def test_anonymous_is_sent_to_login(client, world, name, method):
    response = getattr(client, method)(_url(name, world))
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(n for n, (kind, _) in ROUTES.items() if kind and kind not in ALL_AGENCY_KINDS))
def test_other_agency_gets_404(client, world, other_agency_agent, name):
    client.force_login(other_agency_agent)
    _, method = ROUTES[name]
    response = getattr(client, method)(_url(name, world, "A"), {"to_status": "ended", "on": "2026-01-31"})
    assert response.status_code == 404
    # and the record of agency A was not touched
    world["A"].lease.refresh_from_db()
    assert world["A"].lease.status == "active"


@pytest.mark.parametrize("name", sorted(n for n, (kind, _) in ROUTES.items() if kind in ALL_AGENCY_KINDS))
def test_all_agency_pages_refuse_other_roles(client, world, agent, name):
    client.force_login(agent)
    _, method = ROUTES[name]
    assert getattr(client, method)(_url(name, world, "A")).status_code == 403


@pytest.mark.parametrize("name", sorted(n for n, (kind, method) in ROUTES.items() if method == "get"))
def test_own_agency_staff_gets_the_page(client, world, agent, biller, name, django_capture_on_commit_callbacks):
    kind, _ = ROUTES[name]
    client.force_login(biller if kind in ALL_AGENCY_KINDS or name == "billing:run_list" else agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_url(name, world, "A"))
    assert response.status_code == PERMITTED_STATUS.get(name, 200)


def test_public_routes_answer_anonymously(client, db):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
