"""Personas and a two-agency world shared by the whole suite."""

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
