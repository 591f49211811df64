"""Committee fixtures: a vacant dwelling of agency A, eligible applications, a session with
three deliberative members (one presides)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.committee import matching, services
from applications.committee.models import VotingRight
from tenancies.models import ChargeType, DwellingCharge
from tenancies.roles import Role
from tests.factories import DwellingFactory, UserFactory

from .factories import ApplicationFactory

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _fresh_parameter_cache():
    """The matching keeps the dated parameter tables a minute per process: not across tests."""
    matching.clear_cache()
    yield
    matching.clear_cache()


@pytest.fixture
def vacant(world):
    """A vacant T3 PLUS on the 2nd floor of agency A's building (no elevator), rent 412,50 + 60,00."""
    dwelling = DwellingFactory(building=world["A"].building, reference="AAA-VAC-0001", typology="T3", floor=2)
    DwellingCharge.objects.create(
        dwelling=dwelling, charge_type=ChargeType.objects.get(code="chauffage"), monthly_amount=Decimal("60.00")
    )
    return dwelling


@pytest.fixture
def applications(world):
    """Four eligible applications of agency A, scores 300, 200, 100, 100 (the older first)."""
    agency = world["A"].agency
    return [
        ApplicationFactory(agency=agency, score=300, first_registered_on=date(2024, 1, 1)),
        ApplicationFactory(agency=agency, score=200, first_registered_on=date(2023, 1, 1), reservataire="prefet"),
        ApplicationFactory(agency=agency, score=100, first_registered_on=date(2021, 5, 1)),
        ApplicationFactory(agency=agency, score=100, first_registered_on=date(2022, 5, 1)),
    ]


def member_user(username, world):
    return UserFactory(
        username=username, roles=[Role.MEMBRE_COMMISSION], agencies_list=[world["A"].agency, world["B"].agency]
    )


@pytest.fixture
def members(world):
    return [member_user(name, world) for name in ("membre1", "membre2", "membre3")]


@pytest.fixture
def president(members):
    return members[0]


def aware(day, hour):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, 0))


@pytest.fixture
def session(world, members, agent):
    """A session of agency A in preparation, votes from TODAY 9:00 to TODAY+2 18:00, quorum 2."""
    s = services.session_create(
        agency=world["A"].agency,
        held_on=TODAY,
        opens_at=aware(TODAY, 9),
        closes_at=aware(TODAY + timedelta(days=2), 18),
        quorum=2,
        president=members[0],
        by=agent,
    )
    for user in members[1:]:
        services.member_add(session=s, user=user, voting_right=VotingRight.DELIBERATIVE)
    return s


@pytest.fixture
def agenda(session, vacant, applications, agent):
    """Three candidates on the agenda for the vacant dwelling, session open."""
    item = services.agenda_add(session=session, dwelling=vacant, applications=applications[:3], by=agent, on=TODAY)
    return item


@pytest.fixture
def opened(agenda, session):
    services.session_transition(session=session, to_status="open", now=aware(TODAY, 10))
    session.refresh_from_db()
    return session
