"""Personas and a two-agency world shared by the whole suite."""

import contextlib
import os
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

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

# --- Parallel runs (pytest-xdist, scripts/test -n) ---------------------------------------------

# Tests that must not run at the same time as each other on two workers: each group runs on one
# worker, one test after another (`--dist loadgroup`). Every worker has its own test database
# (test_<name>_gw0…), its own media folder and, for Celery, its own Redis database.
XDIST_GROUPS = {
    # One Chromium and one live server per run, and no two browsers competing for the 2 cores.
    "chromium": lambda item: "chromium" in item.fixturenames or "live_server" in item.fixturenames,
    # Real Celery worker subprocesses killed mid-chunk: timing-sensitive, never two at once.
    "celery-workers": lambda item: "celery_workers" in item.fixturenames,
    # Writes and removes the fixed folder zz_lint_sample/ at the repository root.
    "lint-sample": lambda item: item.nodeid.startswith("tests/security/test_lint_rules.py"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for group, belongs in XDIST_GROUPS.items():
            if belongs(item):
                item.add_marker(pytest.mark.xdist_group(group))
                break


# One migration per parallel run: the first worker migrates a template database, every worker's
# own test database is a copy of it (PostgreSQL's CREATE DATABASE … TEMPLATE), instead of each
# worker running the ~1 min of migrations itself. With --reuse-db, pytest-django's own behaviour.


def _template_name(settings_dict) -> str:
    return f"test_{settings_dict['NAME']}_tpl"


def _drop_database(connection, name):
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")


@contextlib.contextmanager
def _workers_lock(lock_dir: Path):
    """An exclusive lock shared by the workers of one run (a file lock in lock_dir)."""
    import fcntl

    with open(lock_dir / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _make_template(request, connection, lock_dir: Path) -> bool:
    """Under _workers_lock: the first worker migrates the template database, the next ones find it
    ready. False when it could not be made (then each worker migrates its own database)."""
    ready, failed = lock_dir / "ready", lock_dir / "failed"
    if ready.exists():
        return True
    if failed.exists():
        return False
    from django.conf import settings

    test = connection.settings_dict["TEST"]
    name, test_name = connection.settings_dict["NAME"], test.get("NAME")
    template = _template_name(connection.settings_dict)
    test["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=request.config.option.verbose, autoclobber=True, serialize=False)
    except Exception as exc:  # noqa: BLE001 - reported, and each worker migrates its own database
        failed.write_text(repr(exc))
        request.node.warn(pytest.PytestWarning(f"No template test database, each worker migrates: {exc!r}"))
        return False
    finally:
        connection.close()
        connection.settings_dict["NAME"] = settings.DATABASES[connection.alias]["NAME"] = name
        test["NAME"] = test_name
    ready.write_text(template)
    return True


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
    tmp_path_factory,
):
    """pytest-django's django_db_setup, plus the template database of parallel runs (above)."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    if not django_db_use_migrations:
        _disable_migrations()
    keepdb = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    workerinput = getattr(request.config, "workerinput", None)
    connection = connections["default"]
    with django_db_blocker.unblock():
        if workerinput and not keepdb and django_db_use_migrations and connection.vendor == "postgresql":
            # The run's temporary folder (the workers' ones are inside it), removed by pytest later.
            lock_dir = tmp_path_factory.getbasetemp().parent / "template-test-db"
            lock_dir.mkdir(exist_ok=True)
            with _workers_lock(lock_dir):  # copies are made one at a time too
                template = _make_template(request, connection, lock_dir)
                if template:
                    connection.settings_dict["TEST"]["TEMPLATE"] = _template_name(connection.settings_dict)
                try:
                    db_cfg = setup_databases(
                        verbosity=request.config.option.verbose,
                        interactive=False,
                        aliases=aliases,
                        serialized_aliases=serialized_aliases,
                    )
                except Exception as exc:
                    if not template:
                        raise
                    # E.g. the template still in use: this worker migrates its own database.
                    request.node.warn(pytest.PytestWarning(f"Copy of the template test database failed: {exc!r}"))
                    connection.close()
                    connection.settings_dict["TEST"].pop("TEMPLATE", None)
                    db_cfg = setup_databases(
                        verbosity=request.config.option.verbose,
                        interactive=False,
                        aliases=aliases,
                        serialized_aliases=serialized_aliases,
                    )
                finally:
                    connection.settings_dict["TEST"].pop("TEMPLATE", None)
        else:
            db_cfg = setup_databases(
                verbosity=request.config.option.verbose,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=keepdb,
            )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=request.config.option.verbose)
            except Exception as exc:  # noqa: BLE001
                request.node.warn(pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}"))


def pytest_sessionfinish(session):
    """The controller of a parallel run drops the template database once every worker is done."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    if config.getoption("reuse_db", False) and not config.getoption("create_db", False):
        return
    try:
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        connection = connections["default"]
        if connection.vendor == "postgresql":
            with config.stash[blocking_manager_key].unblock():
                _drop_database(connection, _template_name(connection.settings_dict))
    except Exception as exc:  # noqa: BLE001 - a left-over template is harmless (recreated next run)
        print(f"could not drop the template test database: {exc!r}")


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


# --- WhiteNoise: one scan of the static files per run ------------------------------------------

_STATIC_SCANS: dict = {}


@pytest.fixture(scope="session", autouse=True)
def _whitenoise_scans_once():
    """Every test client builds its own middleware chain, and WhiteNoise's builds a response for
    every file of STATIC_ROOT (≈0.4 s per client with a collected static tree). Keep what a scan
    added, keyed by the tree's paths, sizes and mtimes and the middleware's settings, so a changed
    tree or setting is scanned again; the files are served exactly as after a fresh scan."""
    from whitenoise.base import WhiteNoise, scantree

    original = WhiteNoise.update_files_dictionary

    def update_files_dictionary(self, root, prefix):
        tree = frozenset((path, st.st_size, st.st_mtime_ns) for path, st in scantree(root))
        settings = (self.max_age, self.allow_all_origins, self.charset, self.index_file, self.autorefresh)
        key = (type(self), root, prefix, settings, getattr(self, "static_prefix", None), tree)
        added = _STATIC_SCANS.get(key)
        if added is None:
            kept, self.files = self.files, {}
            try:
                original(self, root, prefix)
                added = _STATIC_SCANS[key] = self.files
            finally:
                self.files = kept
        self.files.update(added)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WhiteNoise, "update_files_dictionary", update_files_dictionary)
        yield


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
    # Every area's objects (tests/routes make_objects), built once by tests.test_url_access.made_by.
    made: dict | None = None


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


def build_world() -> dict[str, Territory]:
    """Agency A and agency B, each with one let dwelling billed for November 2026 and a partial
    payment of 200,00 €; B's names are unique canaries."""
    from django.test import TestCase

    territories = {"A": _territory("AAA", "Durandal"), "B": _territory("BBB", "Zyxcanari")}
    with TestCase.captureOnCommitCallbacks(execute=True):
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
def world(db):
    """The two-agency world (build_world), built for this test."""
    return build_world()


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """One world for a whole module of read-only tests, built once inside a transaction that is
    rolled back after the module's last test: each test runs in a savepoint of it (rolled back at
    its end, like Django's setUpTestData), so what a test writes never reaches the next one.
    Override `world` with `shared_world` in such a module. Not for transactional tests."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def shared_world(db, module_world):
    """The module's world, its Python objects copied for this test (a test may change or refresh
    them in memory; the next test gets them as built)."""
    import copy

    return copy.deepcopy(module_world)


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
