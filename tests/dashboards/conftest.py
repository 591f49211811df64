"""A small demo stock (two agencies, past and current leases, three billed months, payments, a
rejected direct debit) and the dashboards computed on it."""

import random
from datetime import date

import pytest
from django.core.management import call_command

from arrears.detection import run_detection
from billing import demo as billing_demo
from billing.models import Account, DirectDebit
from billing.sepa import collect_direct_debits, default_rum, register_mandate, reject_debit
from dashboards.services import refresh_dashboards
from tests.factories import UserFactory

AS_OF = date(2026, 12, 15)
IBAN = "FR7630006000011234567890189"


@pytest.fixture
def demo_stock(db, django_capture_on_commit_callbacks):
    call_command("seed_demo", dwellings=160, allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    rng = random.Random(billing_demo.SEED)
    billing_demo.seed_benefits(rng)
    billing_demo.bill_months()
    billing_demo.seed_payments(rng)
    # Two direct debits collected on 5 December 2026, one rejected on the 10th.
    accounts = list(Account.objects.filter(balance__gt=0).order_by("id")[:2])
    for account in accounts:
        register_mandate(
            account=account,
            rum=default_rum(account),
            signed_on=date(2026, 11, 2),
            debtor_name="Titulaire démo",
            iban=IBAN,
            bic="AGRIFRPP",
            today=date(2026, 11, 25),
        )
    with django_capture_on_commit_callbacks(execute=True):
        collect_direct_debits(due_on=date(2026, 12, 5), today=date(2026, 11, 25))
        reject_debit(debit=DirectDebit.objects.order_by("id").first(), code="AM04", rejected_on=date(2026, 12, 10))
    # The arrears team's daily detection: ageing snapshot and cases; the applications and CALEOL demos.
    run_detection(as_of=AS_OF)
    call_command("seed_applications_demo", allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_committee_demo", allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return AS_OF


@pytest.fixture
def refreshed(demo_stock):
    return refresh_dashboards(as_of=demo_stock, full=True)


@pytest.fixture
def direction_user(db):
    return UserFactory(username="dir-dash", roles=["direction"])
