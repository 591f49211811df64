"""Arrears personas and helpers: bill a month, pay, run the detection."""

from datetime import date
from decimal import Decimal

import pytest

from billing.batch import start_run
from billing.models import HousingBenefit
from billing.services import record_payment
from tenancies.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def precontentieux(world):
    return UserFactory(
        username="precontentieux.a", roles=[Role.CHARGE_PRECONTENTIEUX], agencies_list=[world["A"].agency]
    )


@pytest.fixture
def responsable(world):
    return UserFactory(username="responsable.a", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[world["A"].agency])


@pytest.fixture
def agent_apl(world):
    return UserFactory(username="apl.a", roles=[Role.AGENT_APL], agencies_list=[world["A"].agency])


@pytest.fixture
def bill(django_capture_on_commit_callbacks):
    def _bill(period: date, today: date | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            run, _ = start_run(period=period, today=today or period)
        return run

    return _bill


def pay(account, amount, on):
    return record_payment(account=account, amount=Decimal(amount), received_on=on, method="transfer", today=on)


def give_apl(lease, amount, since=date(2024, 3, 1)):
    return HousingBenefit.objects.create(
        lease=lease, valid_from=since, apl_amount=Decimal(amount), source="caf", allocataire_number="1234567"
    )
