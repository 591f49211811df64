"""Personas and a two-agency world shared by the whole suite."""

import os
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from billing.batch import start_run
from billing.models import Account, RentNotice
from billing.services import record_payment
from tenancies import services
from tenancies.models import ChargeType, DwellingCharge, LeaseStatus
from tenancies.roles import Role

from .factories import (
    AgencyFactory,
    BuildingFactory,
    CommuneFactory,
    DwellingFactory,
    EstateFactory,
    HouseholdFactory,
    PersonFactory,
    UserFactory,
)

# --- Reference data after a flush ---------------------------------------------------------------

LOCAL_APPS = {"tenancies", "billing", "applications", "committee", "inspections", "arrears", "dashboards"}


def reload_reference_data():
    """Re-run the data migrations of our apps (reference lists, dated figures, legal delays).

    A transactional test (live server, Chromium) ends with a flush that empties every table,
    including what the data migrations loaded; the next transactional test needs them back."""
    from django.apps import apps as global_apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    seen = set()
    with connection.schema_editor() as schema_editor:
        for leaf in sorted(loader.graph.leaf_nodes()):
            for key in loader.graph.forwards_plan(leaf):
                if key in seen or key[0] not in LOCAL_APPS:
                    continue
                seen.add(key)
                for operation in loader.graph.nodes[key].operations:
                    if isinstance(operation, RunPython):
                        operation.code(global_apps, schema_editor)


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        if not ChargeType.objects.exists():
            reload_reference_data()


# --- Chromium (Debian's package, driven by Playwright; never `playwright install`) ---------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """One browser for the whole run: Playwright's sync API allows one running instance per thread."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium package is required (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Territory:
    agency: object
    commune: object
    estate: object
    building: object
    dwelling: object
    household: object
    person: object
    lease: object
    account: object = None
    notice: object = None
    payment: object = None
    run: object = None


def _territory(code: str, marker: str) -> Territory:
    """One agency with an estate, a building, a let dwelling and its household; names carry `marker`."""
    agency = AgencyFactory(code=code, name=f"Agence {marker}")
    commune = CommuneFactory(name=f"Commune {marker}")
    estate = EstateFactory(agency=agency, commune=commune, name=f"Résidence {marker}", code=f"RES-{code}")
    building = BuildingFactory(estate=estate, name=f"Bât {marker}")
    dwelling = DwellingFactory(building=building, reference=f"{code}-LGT-0001", rent=Decimal("412.50"))
    DwellingCharge.objects.create(
        dwelling=dwelling, charge_type=ChargeType.objects.get(code="eau_froide"), monthly_amount=Decimal("23.40")
    )
    DwellingCharge.objects.create(
        dwelling=dwelling, charge_type=ChargeType.objects.get(code="chauffage"), monthly_amount=Decimal("61.15")
    )
    household = HouseholdFactory(agency=agency)
    person = PersonFactory(household=household, last_name=marker, first_name="Hélène", phone="06 11 22 33 44")
    lease = services.lease_create(dwelling=dwelling, household=household, starts_on=date(2024, 3, 1))
    services.lease_transition(lease=lease, to_status=LeaseStatus.SIGNED, on=date(2024, 2, 20))
    services.lease_transition(lease=lease, to_status=LeaseStatus.ACTIVE)
    lease.refresh_from_db()
    dwelling.refresh_from_db()
    return Territory(agency, commune, estate, building, dwelling, household, person, lease)


BILLED_PERIOD = date(2026, 11, 1)
TODAY = date(2026, 11, 20)


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    """Agency A and agency B, each with one let dwelling billed for November 2026 and a partial
    payment of 200,00 €; B's names are unique canaries."""
    territories = {"A": _territory("AAA", "Durandal"), "B": _territory("BBB", "Zyxcanari")}
    with django_capture_on_commit_callbacks(execute=True):
        run, _ = start_run(period=BILLED_PERIOD, today=TODAY)
    for t in territories.values():
        t.run = run
        t.account = Account.objects.get(lease=t.lease)
        t.notice = RentNotice.objects.get(lease=t.lease, period=BILLED_PERIOD)
        t.payment = record_payment(
            account=t.account, amount=Decimal("200.00"), received_on=TODAY, method="transfer", today=TODAY
        )
    return territories


@pytest.fixture
def agent(world):
    """A chargé de clientèle of agency A."""
    return UserFactory(username="agent.a", roles=[Role.CHARGE_CLIENTELE], agencies_list=[world["A"].agency])


@pytest.fixture
def other_agency_agent(world):
    """A chargé de clientèle of agency B."""
    return UserFactory(username="agent.b", roles=[Role.CHARGE_CLIENTELE], agencies_list=[world["B"].agency])


@pytest.fixture
def manager(world):
    """Direction: sees every agency."""
    return UserFactory(username="direction", roles=[Role.DIRECTION])


@pytest.fixture
def committee_member(world):
    return UserFactory(
        username="commission", roles=[Role.MEMBRE_COMMISSION], agencies_list=[world["A"].agency, world["B"].agency]
    )


@pytest.fixture
def biller(world):
    """A chargé du quittancement of agency A."""
    return UserFactory(username="quittancement.a", roles=[Role.CHARGE_QUITTANCEMENT], agencies_list=[world["A"].agency])


@pytest.fixture
def inspector(world):
    """An agent d'état des lieux of agency A: sees tenants, cannot manage leases."""
    return UserFactory(username="edl.a", roles=[Role.AGENT_EDL], agencies_list=[world["A"].agency])
