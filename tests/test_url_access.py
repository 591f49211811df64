"""Every URL pattern: anonymous users are sent to the login page, another agency's staff get 404.

Routes are declared per area in tests/routes/; a new URL pattern without a declaration makes
test_every_route_is_declared fail.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import UserFactory

from .routes import load, makers_by_route

ROUTES, MAKERS = load()
OWN_MAKER = makers_by_route()
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


def _value(made, kind):
    value = made[kind]
    return list(value) if isinstance(value, tuple) else [value.pk]


def made_by(territory) -> dict:
    """{make_objects: what it returned} for every area, built once per territory and kept on it."""
    if territory.made is None:
        territory.made = {make: make(territory) for make in MAKERS}
    return territory.made


def _args(kind, territory, name=None):
    # The declaring module's objects first, then the world's, then (rarely) another area's.
    made = made_by(territory)
    own = OWN_MAKER.get(name)
    if own is not None and kind in made[own]:
        return _value(made[own], kind)
    if hasattr(territory, kind):
        return [getattr(territory, kind).pk]
    for make in MAKERS:
        if kind in made[make]:
            return _value(made[make], kind)
    raise LookupError(f"No object of kind {kind!r} for {name}")


def _url(name, world, territory="A"):
    route = ROUTES[name]
    if route.kind is None:
        return reverse(name)
    return reverse(name, args=_args(route.kind, world[territory], name))


@pytest.fixture(scope="module")
def module_world(module_world, django_db_blocker):
    """One world (and every area's objects in agency A) for the whole module: the tests only read
    it, and each runs in a savepoint rolled back at its end (tests/conftest.py module_world)."""
    with django_db_blocker.unblock():
        made_by(module_world["A"])
    return module_world


@pytest.fixture
def world(shared_world):
    return shared_world


def _names(predicate):
    return sorted(name for name, route in ROUTES.items() if predicate(route))


def test_anonymous_is_sent_to_login(client, world):
    # One world for every route and method (the middleware answers before any view runs); every
    # refusal that went wrong is listed, not only the first.
    login = reverse("login")
    wrong = []
    for name in sorted(ROUTES):
        url = _url(name, world)
        for method in ("get", "post", "head"):
            response = getattr(client, method)(url)
            redirected = response.status_code == 302 and response["Location"].startswith(login)
            if not (redirected or response.status_code == 405):
                wrong.append(f"{method.upper()} {name}: {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("name", _names(lambda r: r.kind and not r.all_agencies))
def test_other_agency_gets_404(client, world, name):
    route = ROUTES[name]
    client.force_login(UserFactory(username="b-staff", roles=[route.role], agencies_list=[world["B"].agency]))
    response = getattr(client, route.method)(_url(name, world, "A"), {"to_status": "ended", "on": "2026-01-31"})
    assert response.status_code == 404
    world["A"].lease.refresh_from_db()
    assert world["A"].lease.status == "active"


@pytest.mark.parametrize("name", _names(lambda r: r.all_agencies))
def test_all_agency_pages_refuse_other_roles(client, world, agent, name):
    client.force_login(agent)
    route = ROUTES[name]
    assert getattr(client, route.method)(_url(name, world, "A")).status_code == 403


@pytest.mark.parametrize("name", _names(lambda r: r.method == "get"))
def test_own_agency_staff_gets_the_page(client, world, name, django_capture_on_commit_callbacks):
    route = ROUTES[name]
    client.force_login(UserFactory(username="a-staff", roles=[route.role], agencies_list=[world["A"].agency]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_url(name, world, "A"))
    assert response.status_code == route.status


def test_public_routes_answer_anonymously(client, db):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
