"""The monthly billing run against Postgres: frozen notices, ledger, replay, failures, command."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from billing import batch
from billing.ledger import reconcile
from billing.models import (
    BillingRun,
    HousingBenefit,
    LedgerEntry,
    RentNotice,
    RunStatus,
)
from tenancies import services
from tenancies.models import Lease, LeaseStatus
from tests.factories import DwellingFactory, HouseholdFactory, PersonFactory

DECEMBER = date(2026, 12, 1)
TODAY = date(2026, 11, 25)


def _bill(capture, period=DECEMBER, **kw):
    with capture(execute=True):
        run, created = batch.start_run(period=period, today=TODAY, **kw)
    run.refresh_from_db()
    return run, created


def test_run_bills_each_lease_once_with_frozen_lines_and_ledger(world, django_capture_on_commit_callbacks):
    lease = world["A"].lease
    HousingBenefit.objects.create(
        lease=lease,
        valid_from=date(2026, 1, 1),
        apl_amount=Decimal("180.32"),
        rls_amount=Decimal("42.53"),
        source="caf",
    )
    run, created = _bill(django_capture_on_commit_callbacks)
    assert created and run.status == RunStatus.DONE
    assert (run.lease_count, run.notice_count, run.failure_count, run.already_billed_count) == (2, 2, 0, 0)
    notice = RentNotice.objects.get(lease=lease, period=DECEMBER)
    assert [(line.kind, line.amount) for line in notice.lines.all()] == [
        ("rent", Decimal("412.50")),
        ("charge", Decimal("23.40")),
        ("charge", Decimal("61.15")),
        ("rls", Decimal("-42.53")),
        ("apl", Decimal("-180.32")),
    ]
    assert notice.rent_amount == Decimal("369.97")
    assert notice.charges_amount == Decimal("84.55")
    assert notice.apl_amount == Decimal("180.32")
    assert notice.amount_due == Decimal("274.20")
    assert notice.due_on == date(2027, 1, 5)
    assert notice.issued_on == TODAY
    assert notice.entries.count() == 5
    assert notice.entries.balance() == Decimal("274.20")
    # November (world fixture: 497,05 €) − 200,00 € paid + December
    account = world["A"].account
    account.refresh_from_db()
    assert account.balance == Decimal("497.05") - Decimal("200.00") + Decimal("274.20")
    assert reconcile() == []
    totals = {row["agency"]: row for row in run.totals_by_agency}
    assert totals["Agence Durandal"]["due"] == "274.20"
    assert totals["Agence Zyxcanari"]["due"] == "497.05"
    assert run.total_due == Decimal("771.25")


def test_replaying_a_month_creates_nothing(world, django_capture_on_commit_callbacks):
    _bill(django_capture_on_commit_callbacks)
    entries = LedgerEntry.objects.count()
    replay, created = _bill(django_capture_on_commit_callbacks)
    assert created and replay.status == RunStatus.DONE
    assert (replay.notice_count, replay.already_billed_count) == (0, 2)
    assert RentNotice.objects.filter(period=DECEMBER).count() == 2
    assert LedgerEntry.objects.count() == entries
    assert reconcile() == []


def test_a_launch_while_a_run_is_running_returns_that_run(world):
    # Without executing on_commit, the chunks are never processed: the run stays running.
    first, created = batch.start_run(period=DECEMBER, today=TODAY)
    second, created_again = batch.start_run(period=DECEMBER, today=TODAY)
    assert created and not created_again and second.pk == first.pk
    assert BillingRun.objects.filter(period=DECEMBER).count() == 1


def test_redelivered_chunk_is_a_no_op(world, django_capture_on_commit_callbacks):
    run, _ = _bill(django_capture_on_commit_callbacks)
    chunk = run.chunks.get()
    assert batch.process_chunk(chunk.pk) == 0
    assert RentNotice.objects.filter(period=DECEMBER).count() == 2


def test_a_lease_that_cannot_be_billed_is_listed_without_stopping_the_run(world, django_capture_on_commit_callbacks):
    Lease.objects.filter(pk=world["B"].lease.pk).update(rent=Decimal("999.00"))  # above 6,50 €/m² × 65 m²
    run, _ = _bill(django_capture_on_commit_callbacks)
    assert (run.notice_count, run.failure_count) == (1, 1)
    failure = run.failures.get()
    assert failure.lease == world["B"].lease
    assert "supérieur au loyer maximum de la convention (422.50 €)" in failure.reason


def test_entry_month_is_prorated_and_ended_leases_are_billed_to_their_end(world, django_capture_on_commit_callbacks):
    newcomer = services.lease_create(
        dwelling=DwellingFactory(building=world["A"].building, rent=Decimal("520.00"), max_rent_per_m2=Decimal("9")),
        household=HouseholdFactory(agency=world["A"].agency),
        starts_on=date(2026, 12, 12),
    )
    services.lease_transition(lease=newcomer, to_status=LeaseStatus.SIGNED, on=date(2026, 12, 1))
    leaver = world["B"].lease
    services.lease_transition(lease=leaver, to_status=LeaseStatus.NOTICE_GIVEN)
    services.lease_transition(lease=leaver, to_status=LeaseStatus.ENDED, on=date(2026, 12, 10))
    _bill(django_capture_on_commit_callbacks)
    assert RentNotice.objects.get(lease=newcomer).amount_due == Decimal("335.48")  # 520 × 20/31
    # 412,50 × 10/31 = 133,06 ; 23,40 × 10/31 = 7,55 ; 61,15 × 10/31 = 19,73
    assert RentNotice.objects.get(lease=leaver, period=DECEMBER).amount_due == Decimal("160.34")


def test_ledger_and_notices_refuse_updates_and_deletes_in_the_database(world):
    entry = LedgerEntry.objects.get(account=world["A"].account, kind="rent")
    for sql in (
        "UPDATE billing_ledgerentry SET debit = debit + 1 WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
        "UPDATE billing_rentnotice SET amount_due = 0 WHERE id = %s",
    ):
        target = entry.pk if "ledgerentry" in sql else world["A"].notice.pk
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [target])
    entry.refresh_from_db()
    assert entry.debit == Decimal("412.50")


def test_period_more_than_one_month_ahead_is_refused(world):
    with pytest.raises(batch.BillingError, match="plus d'un mois en avance"):
        batch.start_run(period=date(2027, 1, 1), today=TODAY)
    assert not BillingRun.objects.filter(period=date(2027, 1, 1)).exists()


@pytest.mark.parametrize("text", ["2026-13", "décembre", "", "2026/12/01"])
def test_malformed_period_is_refused(text):
    with pytest.raises(batch.BillingError, match="invalide"):
        batch.parse_period(text)


def test_bill_command_runs_the_same_service(world, django_capture_on_commit_callbacks, capsys, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("bill", "--period", "2026-12")
    assert RentNotice.objects.filter(period=DECEMBER).count() == 2
    with pytest.raises(CommandError, match="plus d'un mois en avance"):
        call_command("bill", "--period", "2027-02")


def test_reconcile_command_reports_a_gap(world):
    call_command("reconcile_ledger")
    world["A"].account.__class__.objects.filter(pk=world["A"].account.pk).update(balance=Decimal("1.00"))
    with pytest.raises(CommandError, match="1 compte"):
        call_command("reconcile_ledger")


def test_household_names_do_not_matter_to_billing(world, django_capture_on_commit_callbacks):
    PersonFactory(household=world["A"].household, last_name="<script>alert(1)</script>")
    run, _ = _bill(django_capture_on_commit_callbacks)
    assert run.notice_count == 2
