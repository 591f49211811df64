from datetime import date
from decimal import Decimal

from arrears.detection import outstanding_items, run_detection
from arrears.models import ArrearsCase, ArrearsSnapshot, CaseStatus
from billing.models import Account

from .conftest import pay


def test_world_account_opens_a_case_after_the_detection_day(world, bill):
    a = world["A"]
    # November notice: 412,50 + 23,40 + 61,15 = 497,05 due 05/12/2026, 200,00 paid → 297,05.
    assert a.notice.amount_due == Decimal("497.05")
    assert a.notice.due_on == date(2026, 12, 5)
    report = run_detection(as_of=date(2026, 12, 10))
    snap = ArrearsSnapshot.objects.get(account=a.account)
    assert snap.overdue == Decimal("297.05")
    assert snap.in_arrears == Decimal("0.00")  # not before the day after the 10th
    assert snap.bucket_0_30 == Decimal("297.05")
    assert report.opened == 0
    report = run_detection(as_of=date(2026, 12, 11))
    assert report.opened == 2  # A and B
    case = ArrearsCase.objects.get(account=a.account)
    assert case.status == CaseStatus.AMICABLE
    assert case.debt_at_opening == Decimal("297.05")
    snap = ArrearsSnapshot.objects.get(account=a.account)
    assert snap.case_threshold_on == date(2026, 12, 11)
    assert case.transitions.get().to_status == "amicable"
    assert case.events.get().text == "Dossier ouvert par la détection : impayé de 297,05 €."
    assert case.history.count() == 1


def test_fifo_ageing_buckets_to_the_cent(world, bill):
    a = world["A"]
    for period in (date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)):
        bill(period)
    # Owed: Nov 297,05 (due 05/12), Dec..Mar 497,05 each (due 05/01, 05/02, 05/03, 05/04).
    pay(a.account, "500.00", date(2027, 3, 20))  # settles Nov and 202,95 of Dec
    run_detection(as_of=date(2027, 4, 10))
    snap = ArrearsSnapshot.objects.get(account=a.account)
    items = outstanding_items(a.account.pk, date(2027, 4, 10))
    assert [(i.due_on, i.owed) for i in items] == [
        (date(2027, 1, 5), Decimal("294.10")),
        (date(2027, 2, 5), Decimal("497.05")),
        (date(2027, 3, 5), Decimal("497.05")),
        (date(2027, 4, 5), Decimal("497.05")),
    ]
    assert snap.balance == Account.objects.get(pk=a.account.pk).balance == Decimal("1785.25")
    assert snap.bucket_0_30 == Decimal("497.05")  # 05/04: 5 days
    assert snap.bucket_31_60 == Decimal("497.05")  # 05/03: 36 days
    assert snap.bucket_61_90 == Decimal("497.05")  # 05/02: 64 days
    assert snap.bucket_over_90 == Decimal("294.10")  # 05/01: 95 days
    assert snap.oldest_due_on == date(2027, 1, 5)
    assert snap.months_unpaid == Decimal("3.6")


def test_case_closes_when_settled_and_reopens_when_arrears_return(world, bill):
    a = world["A"]
    run_detection(as_of=date(2026, 12, 11))
    case = ArrearsCase.objects.get(account=a.account)
    pay(a.account, "297.05", date(2026, 12, 12))
    report = run_detection(as_of=date(2026, 12, 13))
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_on == date(2026, 12, 13)
    assert report.closed >= 1
    bill(date(2026, 12, 1))
    run_detection(as_of=date(2027, 1, 11))
    case.refresh_from_db()
    assert case.status == CaseStatus.AMICABLE
    assert case.reopen_count == 1
    assert ArrearsCase.objects.filter(account=a.account).count() == 1


def test_case_stays_on_a_former_tenant_account(world, bill):
    from tenancies.services import lease_transition

    a = world["A"]
    lease_transition(lease=a.lease, to_status="ended", on=date(2026, 11, 30))
    run_detection(as_of=date(2026, 12, 11))
    assert ArrearsCase.objects.filter(account=a.account, status=CaseStatus.AMICABLE).exists()
