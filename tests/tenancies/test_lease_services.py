from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tenancies import services
from tenancies.models import CommandementDelay, DwellingStatus, Lease, LeaseStatus, LeaseTransition
from tests.factories import DwellingFactory, HouseholdFactory


@pytest.fixture
def draft(world, agent):
    dwelling = DwellingFactory(building=world["A"].building, rent=Decimal("398.73"))
    household = HouseholdFactory(agency=world["A"].agency)
    return services.lease_create(dwelling=dwelling, household=household, starts_on=date(2026, 12, 1), by=agent)


def test_create_copies_rent_charges_and_calls_one_month_deposit(world, agent):
    lease = services.lease_create(
        dwelling=DwellingFactory(building=world["A"].building, rent=Decimal("398.73")),
        household=world["A"].household,
        starts_on=date(2026, 12, 1),
        by=agent,
    )
    assert lease.status == LeaseStatus.DRAFT
    assert lease.rent == Decimal("398.73")
    assert lease.deposit == Decimal("398.73")  # loi 89 art. 22: one month excluding charges
    assert lease.number.startswith("B") and len(lease.number) == 9
    assert lease.dwelling.status == DwellingStatus.RESERVED
    assert lease.transitions.get().to_status == LeaseStatus.DRAFT


def test_lease_charges_are_copied_from_the_dwelling(world):
    lease = world["A"].lease
    assert sorted(c.monthly_amount for c in lease.charges.all()) == [Decimal("23.40"), Decimal("61.15")]
    assert lease.charges_total == Decimal("84.55")
    assert lease.total_monthly == Decimal("497.05")


def test_full_life_cycle_records_every_move(draft, agent):
    services.lease_transition(lease=draft, to_status=LeaseStatus.SIGNED, on=date(2026, 11, 20), by=agent)
    services.lease_transition(lease=draft, to_status=LeaseStatus.ACTIVE, by=agent)
    draft.refresh_from_db()
    assert draft.dwelling.status == DwellingStatus.LET
    services.lease_transition(lease=draft, to_status=LeaseStatus.NOTICE_GIVEN, by=agent, reason="Congé reçu")
    services.lease_transition(lease=draft, to_status=LeaseStatus.ENDED, on=date(2027, 3, 31), by=agent)
    draft.refresh_from_db()
    assert draft.status == LeaseStatus.ENDED
    assert draft.ends_on == date(2027, 3, 31)
    assert draft.dwelling.status == DwellingStatus.VACANT
    moves = list(LeaseTransition.objects.filter(lease=draft).values_list("from_status", "to_status", "by", "reason"))
    assert moves == [
        ("", "draft", agent.pk, ""),
        ("draft", "signed", agent.pk, ""),
        ("signed", "active", agent.pk, ""),
        ("active", "notice_given", agent.pk, "Congé reçu"),
        ("notice_given", "ended", agent.pk, ""),
    ]


@pytest.mark.parametrize(
    "to_status", [LeaseStatus.ACTIVE, LeaseStatus.NOTICE_GIVEN, LeaseStatus.ENDED, LeaseStatus.DRAFT]
)
def test_illegal_moves_from_draft_are_refused_and_nothing_changes(draft, to_status):
    with pytest.raises(services.LeaseError):
        services.lease_transition(lease=draft, to_status=to_status, on=date(2027, 1, 1))
    draft.refresh_from_db()
    assert draft.status == LeaseStatus.DRAFT
    assert draft.transitions.count() == 1


def test_signing_needs_a_date(draft):
    with pytest.raises(services.LeaseError, match="date de signature"):
        services.lease_transition(lease=draft, to_status=LeaseStatus.SIGNED)


def test_end_before_start_is_refused(world):
    with pytest.raises(services.LeaseError, match="précéder"):
        services.lease_transition(lease=world["A"].lease, to_status=LeaseStatus.ENDED, on=date(2020, 1, 1))


def test_withdrawn_notice_clears_the_end_date(world):
    lease = world["A"].lease
    services.lease_transition(lease=lease, to_status=LeaseStatus.NOTICE_GIVEN)
    Lease.objects.filter(pk=lease.pk).update(ends_on=date(2027, 2, 28))
    services.lease_transition(lease=lease, to_status=LeaseStatus.ACTIVE, reason="Congé retiré")
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.ACTIVE and lease.ends_on is None


def test_second_current_lease_on_a_dwelling_is_refused(world):
    with pytest.raises(services.LeaseError, match="déjà un bail"):
        services.lease_create(dwelling=world["A"].dwelling, household=world["A"].household, starts_on=date(2027, 1, 1))


def test_database_refuses_two_current_leases_even_without_the_service(world):
    lease = world["A"].lease
    with pytest.raises(IntegrityError), transaction.atomic():
        Lease.objects.create(
            number="X1",
            dwelling=lease.dwelling,
            household=lease.household,
            starts_on=date(2027, 1, 1),
            rent=Decimal("1.00"),
            deposit=Decimal("1.00"),
            status=LeaseStatus.ACTIVE,
        )


@pytest.mark.parametrize(
    ("signed_on", "expected"),
    [
        (date(2023, 7, 28), CommandementDelay.TWO_MONTHS),
        (date(2023, 7, 29), CommandementDelay.SIX_WEEKS),
        (date(2010, 1, 1), CommandementDelay.TWO_MONTHS),
        (None, CommandementDelay.SIX_WEEKS),
    ],
)
def test_commandement_delay_follows_the_signature_date(signed_on, expected):
    assert services.default_commandement_delay(signed_on) == expected


def test_signature_sets_the_commandement_delay(draft):
    services.lease_transition(lease=draft, to_status=LeaseStatus.SIGNED, on=date(2023, 7, 1))
    draft.refresh_from_db()
    assert draft.commandement_delay == CommandementDelay.TWO_MONTHS
    assert draft.signed_on == date(2023, 7, 1)
