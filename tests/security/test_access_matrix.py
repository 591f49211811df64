"""The declared access matrix: (role, view, method) -> allowed, checked for every role.

RELIABILITY.md AC-1, AC-2. The matrix is derived from the route declarations (tests/routes/*, one
Route per URL name, a new URL without one fails tests/test_url_access.py) and the role registry
(tenancies.roles.PERMISSION_ROLES): a route's gate is the permission declared as `Route(perm=…)`,
or else the one permission the view refuses to a user holding no role. Then every role is tried on
every route: a role granted the gate must get through (no 403, no 500), any other gets 403.
A view refusing nobody must be listed in OPEN_TO_EVERY_USER.

Figures: routes × roles checked, mismatches (0), views open to every user (allowlist size).
The matrix is written to test-artifacts/access_matrix.csv.
"""

import csv
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.template.base import UNKNOWN_SOURCE, Template
from django.test import Client
from django.urls import reverse

from tenancies.models import User
from tenancies.roles import PERMISSION_ROLES, Role
from tests.factories import UserFactory
from tests.test_url_access import MAKERS, ROUTES, made_by

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Views any logged-in user may use, whatever their role (reviewed list). The search shows only
# the sections the user's permissions allow (nothing to a user without a role).
OPEN_TO_EVERY_USER = {"home", "logout", "password_change", "password_change_done", "tenancies:search"}
# Gate of views scoped by membership (committee sessions…) rather than by a role permission:
# no user of the matrix sits in the world's sessions, so every role must be kept out (403/404).
MEMBERS_ONLY = "(members only)"
# Mismatches found in code still being written, reported to its authors: printed as "to fix"
# without failing. Remove each entry once fixed; the dict must end empty.
REPORTED = {
    "arrears:case_action": "the gate depends on the action: declare Route(perm=...) or one permission per action",
}
ROLES = sorted(Role.values)
RENDERED = 200  # the view passed its gate and began rendering (stopped there)
ERROR_PAGE = re.compile(r"(^|/)(400|403|404|500)\.html$")


def _in_template_code() -> bool:
    """True when has_perm is called while rendering (menus, buttons), not by the view's own gate."""
    frame = sys._getframe(2)
    depth = 0
    while frame is not None and depth < 60:
        name = frame.f_code.co_filename
        if "/django/template/" in name or "context_processors" in name or "templatetags" in name:
            return True
        frame = frame.f_back
        depth += 1
    return False


class PermissionWatcher:
    """Records the (permission, granted) checks made by view code during one request."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, bool]] = []
        original = User.has_perm

        def has_perm(user, perm, obj=None):
            granted = original(user, perm, obj)
            if not _in_template_code():
                self.calls.append((perm, granted))
            return granted

        monkeypatch.setattr(User, "has_perm", has_perm)


class ReachedRendering(Exception):
    """Raised at the first page template render of a request expected to pass the gate."""


class RenderStop:
    """While armed, rendering a page template (not an error page) aborts the request: the view
    got past its permission checks, which is all the matrix needs (and it spares rendering PDFs)."""

    armed = False

    def __init__(self, monkeypatch):
        original = Template.render

        def render(template, context):
            name = getattr(template.origin, "name", UNKNOWN_SOURCE)
            if RenderStop.armed and name != UNKNOWN_SOURCE and not ERROR_PAGE.search(str(name)):
                raise ReachedRendering(name)
            return original(template, context)

        monkeypatch.setattr(Template, "render", render)


def _client(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    client.session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return client


def _urls(world) -> dict[str, str]:
    """Every route's URL on agency A's objects, each area's make_objects() called once."""
    made = {}
    for make in MAKERS:
        for kind, value in made_by(world["A"])[make].items():
            made.setdefault(kind, value)
    urls = {}
    for name, route in ROUTES.items():
        if route.kind is None:
            urls[name] = reverse(name)
            continue
        value = made[route.kind] if route.kind in made else getattr(world["A"], route.kind)
        urls[name] = reverse(name, args=list(value) if isinstance(value, tuple) else [value.pk])
    return urls


def _request(client, name, urls, *, stop_at_render=False):
    """One request, rolled back afterwards so that every role sees the same data; the status, or
    RENDERED when `stop_at_render` and the view started rendering its page."""
    route = ROUTES[name]
    # Logging out (rolled back below) clears the cookie: every request starts from the session.
    client.cookies[settings.SESSION_COOKIE_NAME] = client.session_key
    client.raise_request_exception = stop_at_render
    RenderStop.armed = stop_at_render
    try:
        with transaction.atomic():
            try:
                return getattr(client, route.method)(urls[name]).status_code
            except ReachedRendering:
                return RENDERED
            except Exception:  # noqa: BLE001 - any other error is a 500 of the view
                return 500
            finally:
                transaction.set_rollback(True)
    finally:
        RenderStop.armed = False


def _gate(name, urls, watcher, nobody):
    """(permission or None, problem or None) for the route."""
    route = ROUTES[name]
    if route.perm:
        return route.perm, None
    watcher.calls.clear()
    status = _request(nobody, name, urls)
    refused = [perm for perm, granted in watcher.calls if not granted]
    if status in (403, 404) and refused:
        return refused[-1], None
    if status == 404 and route.kind:
        return MEMBERS_ONLY, None
    if status == 403:
        return None, "refused without a permission check: declare Route(perm=...)"
    if name in OPEN_TO_EVERY_USER:
        return None, None
    return None, f"a user without any role gets {status}: the view checks no permission"


def test_every_role_on_every_route_matches_the_declared_matrix(world, monkeypatch):
    watcher = PermissionWatcher(monkeypatch)
    RenderStop(monkeypatch)
    urls = _urls(world)
    agency = world["A"].agency
    nobody = _client(UserFactory(username="matrix-nobody", roles=[], agencies_list=[agency]))
    clients = {
        role: _client(UserFactory(username=f"matrix-{role}", roles=[role], agencies_list=[agency])) for role in ROLES
    }
    mismatches, rows, checks, members_only = [], [], 0, []
    for name in sorted(ROUTES):
        route = ROUTES[name]
        gate, problem = _gate(name, urls, watcher, nobody)
        if problem:
            mismatches.append(f"{name}: {problem}")
            continue
        if gate == MEMBERS_ONLY:
            allowed = set()
        elif gate is None:
            allowed = set(ROLES)
        else:
            allowed = set(PERMISSION_ROLES.get(gate, ()))
            if gate not in PERMISSION_ROLES:
                mismatches.append(f"{name}: gate {gate} is not in PERMISSION_ROLES")
            if route.role not in allowed:
                mismatches.append(f"{name}: the declared role {route.role} is not granted {gate}")
        results = {}
        for role in ROLES:
            results[role] = _request(clients[role], name, urls, stop_at_render=role in allowed)
            checks += 1
        if gate not in (None, MEMBERS_ONLY) and all(results[r] in (403, 404) for r in allowed):
            # Past the role permission, the view keeps out anyone not attached to the object
            # (committee member of the session, assigned inspector…): nobody of the matrix is.
            gate, allowed = f"{gate} + {MEMBERS_ONLY}", set()
            members_only.append(name)
        route_problems = []
        for role in ROLES:
            status, expected = results[role], role in allowed
            got = status not in (403, 404) if MEMBERS_ONLY in (gate or "") else status != 403
            rows.append((name, route.method.upper(), role, gate or "(any user)", "yes" if expected else "no", status))
            if status >= 500:
                route_problems.append(f"{name} as {role}: {status}")
            elif expected != got:
                route_problems.append(f"{name} as {role}: {status}, matrix says {'allowed' if expected else 'denied'}")
        if route_problems and name in REPORTED:
            print(f"\nto fix (reported) {name}: {REPORTED[name]}: " + "; ".join(route_problems))
        else:
            mismatches.extend(route_problems)
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "access_matrix.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["route", "method", "role", "permission", "allowed", "status"])
        writer.writerows(rows)
    print(
        f"\nFIGURE access matrix: {len(ROUTES)} routes x {len(ROLES)} roles = {checks} checks, "
        f"{len(mismatches)} mismatches, {len(OPEN_TO_EVERY_USER)} views open to every user, "
        f"{len(members_only)} members-only"
    )
    assert not mismatches, "\n".join(mismatches)


def test_open_views_are_declared_routes():
    assert set(ROUTES) >= OPEN_TO_EVERY_USER


@pytest.mark.parametrize("perm", sorted(PERMISSION_ROLES))
def test_every_permission_is_granted_to_declared_roles_only(perm):
    assert PERMISSION_ROLES[perm] <= set(Role.values), perm
