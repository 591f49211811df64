"""Every litigation deadline to the day, with DOMAIN.md §4.4 worked examples."""

from datetime import date
from decimal import Decimal

import pytest

from arrears import services
from arrears.detection import run_detection, waiting_period_end
from arrears.models import ArrearsCase, CafReport, CaseStatus, LitigationStep
from billing.models import Account, EntryKind, LedgerEntry
from tenancies.legal_dates import Period
from tenancies.models import CommandementDelay

from .conftest import give_apl, pay

LADDER_DATES = [date(2025, 11, 1), date(2025, 11, 16), date(2025, 12, 1), date(2025, 12, 11)]


@pytest.fixture
def litigation_case(world, precontentieux, responsable):
    """A's account taken through the whole amicable ladder, then handed over to litigation."""
    a = world["A"]
    case = ArrearsCase.objects.create(
        account=a.account, lease=a.lease, opened_on=date(2025, 11, 1), debt_at_opening=Decimal("297.05")
    )
    for position, on in enumerate(LADDER_DATES, start=1):
        services.ladder_send(case=case, position=position, on=on, today=on, by=precontentieux)
    services.handover_request(case=case, on=date(2026, 1, 5), today=date(2026, 1, 5), by=precontentieux)
    services.handover_approve(case=case, on=date(2026, 1, 6), today=date(2026, 1, 6), by=responsable)
    case.refresh_from_db()
    assert case.status == CaseStatus.LITIGATION
    return case


def record(case, kind, on, **kw):
    return services.litigation_record(case=case, kind=kind, done_on=on, today=kw.pop("today", on), **kw)


def test_e4_2_commandement_six_weeks_and_two_months(litigation_case):
    step = record(litigation_case, "commandement_payer", date(2026, 3, 2))
    assert step.deadline == date(2026, 4, 13)  # Monday 13 April 2026
    lease = litigation_case.lease
    lease.commandement_delay = CommandementDelay.TWO_MONTHS
    assert services.commandement_period(lease, date(2026, 3, 2)) == Period(months=2)
    # Saturday 2 May 2026 → next working day Monday 4 May (CPC 642 applied: the convention pinned).
    from tenancies.legal_dates import deadline

    assert deadline(date(2026, 3, 2), services.commandement_period(lease, date(2026, 3, 2))) == date(2026, 5, 4)


def test_two_month_lease_commandement_recorded_to_4_may(litigation_case):
    lease = litigation_case.lease
    lease.commandement_delay = CommandementDelay.TWO_MONTHS
    lease.save()
    step = record(litigation_case, "commandement_payer", date(2026, 3, 2))
    assert step.deadline == date(2026, 5, 4)


def test_e4_3_ccapex_two_months_then_assignation(litigation_case):
    assert waiting_period_end(date(2026, 1, 15), Period(months=2)) == date(2026, 3, 16)
    services.ccapex_refer(case=litigation_case, on=date(2026, 1, 15), today=date(2026, 1, 15))
    assert services.assignation_earliest(litigation_case) == date(2026, 3, 16)
    record(litigation_case, "commandement_payer", date(2026, 1, 20))  # 6 weeks → 03/03/2026
    with pytest.raises(services.ArrearsError, match="avant le 16/03/2026"):
        record(litigation_case, "assignation", date(2026, 3, 13))
    assert not LitigationStep.objects.filter(kind="assignation").exists()
    step = record(litigation_case, "assignation", date(2026, 3, 16))
    assert step.prefet_notified_on == date(2026, 3, 16)
    assert step.deadline == date(2026, 4, 27)  # hearing at least 6 weeks after the préfet's notification


def test_full_litigation_calendar_with_refusals_and_truce(litigation_case):
    case = litigation_case
    with pytest.raises(services.ArrearsError, match="Étape sautée : enregistrez d'abord « Commandement de payer »"):
        record(case, "assignation", date(2026, 4, 20))
    services.ccapex_refer(case=case, on=date(2026, 1, 15), today=date(2026, 1, 15))
    before = Account.objects.get(pk=case.account_id).balance
    cmd = record(case, "commandement_payer", date(2026, 3, 2), cost=Decimal("152.40"))
    assert cmd.deadline == date(2026, 4, 13)
    account = Account.objects.get(pk=case.account_id)
    assert account.balance == before + Decimal("152.40")
    entry = LedgerEntry.objects.get(account=account, kind=EntryKind.PROCEDURE)
    assert (
        entry.debit == Decimal("152.40") and entry.label == "Frais de procédure — Commandement de payer du 02/03/2026"
    )
    # The clause is acquired at the end of 13/04: no assignation before 14/04 even though the CCAPEX allows 16/03.
    with pytest.raises(services.ArrearsError, match="avant le 14/04/2026"):
        record(case, "assignation", date(2026, 4, 13))
    assignation = record(
        case, "assignation", date(2026, 4, 14), prefet_notified_on=date(2026, 4, 15), today=date(2026, 4, 15)
    )
    assert assignation.deadline == date(2026, 5, 27)
    with pytest.raises(services.ArrearsError, match="avant le 27/05/2026"):
        record(case, "hearing", date(2026, 5, 26))
    record(case, "hearing", date(2026, 6, 2))
    judgment = record(case, "judgment", date(2026, 7, 7), termination=True, judgment_amount=Decimal("2480.15"))
    assert judgment.termination
    cq = record(case, "commandement_quitter", date(2026, 8, 10))
    # 2 months expire at the end of Saturday 10/10/2026 → eviction from Monday 12/10/2026.
    assert cq.deadline == date(2026, 10, 12)
    with pytest.raises(services.ArrearsError, match="avant le 12/10/2026"):
        record(case, "concours", date(2026, 10, 9))
    concours = record(case, "concours", date(2026, 10, 20))  # E4.4: granted 20/10/2026
    assert concours.deadline == date(2026, 10, 20)
    # E4.4: an eviction date in the truce is refused and 1 April proposed.
    with pytest.raises(services.ArrearsError) as exc:
        record(case, "eviction", date(2026, 11, 5), today=date(2026, 10, 21))
    assert "trêve hivernale (du 01/11/2026 au 31/03/2027)" in str(exc.value)
    assert "Date proposée : 01/04/2027" in str(exc.value)
    assert not LitigationStep.objects.filter(kind="eviction").exists()
    with pytest.raises(services.ArrearsError, match="Date proposée : 01/04/2027"):
        record(case, "eviction", date(2027, 3, 31), today=date(2026, 10, 21))
    eviction = record(case, "eviction", date(2027, 4, 1), today=date(2026, 10, 21))
    assert eviction.position == 7
    case.refresh_from_db()
    assert case.history.count() > 5


def test_cq_outside_truce_gives_two_months_and_a_day(litigation_case):
    case = litigation_case
    services.ccapex_refer(case=case, on=date(2026, 1, 15), today=date(2026, 1, 15))
    record(case, "commandement_payer", date(2026, 3, 2))
    record(case, "assignation", date(2026, 4, 14))
    record(case, "hearing", date(2026, 6, 2))
    record(case, "judgment", date(2026, 6, 9), termination=True)
    cq = record(case, "commandement_quitter", date(2026, 6, 10))
    assert cq.deadline == date(2026, 8, 11)  # 2 months end 10/08/2026 (Monday) → eviction from Tuesday 11/08


def test_commandement_de_quitter_running_into_the_truce(db):
    # 2 months after 01/09/2026 expire at the end of 01/11/2026, in the winter truce → 01/04/2027.
    earliest = waiting_period_end(date(2026, 9, 1), Period(months=2))
    assert earliest == date(2026, 11, 2)
    assert services.out_of_truce(earliest)[0] == date(2027, 4, 1)
    assert services.out_of_truce(date(2026, 10, 31))[0] == date(2026, 10, 31)
    assert services.out_of_truce(date(2027, 3, 31))[0] == date(2027, 4, 1)


def test_surendettement_suspends_the_procedure(litigation_case):
    case = litigation_case
    services.suspend(case=case, on=date(2026, 2, 1), today=date(2026, 2, 1), reason="Dossier BDF n° 42")
    with pytest.raises(services.ArrearsError, match="surendettement"):
        record(case, "commandement_payer", date(2026, 3, 2))
    assert not LitigationStep.objects.exists()
    services.resume(case=case, on=date(2026, 3, 1), today=date(2026, 3, 1))
    case.refresh_from_db()
    assert case.status == CaseStatus.LITIGATION
    record(case, "commandement_payer", date(2026, 3, 2))


def test_judgment_without_termination_has_no_commandement_de_quitter(litigation_case):
    case = litigation_case
    services.ccapex_refer(case=case, on=date(2026, 1, 15), today=date(2026, 1, 15))
    record(case, "commandement_payer", date(2026, 3, 2))
    record(case, "assignation", date(2026, 4, 14))
    record(case, "hearing", date(2026, 6, 2))
    judgment = record(case, "judgment", date(2026, 6, 9), payment_delay_months=24)
    assert judgment.deadline == date(2028, 6, 9)
    with pytest.raises(services.ArrearsError, match="ne prononce pas la résiliation"):
        record(case, "commandement_quitter", date(2026, 7, 1))


def test_e4_1_caf_threshold_and_report_deadline(world, bill):
    a = world["A"]
    give_apl(a.lease, "177.05")  # 497,05 − 177,05 = 320,00 net
    pay(a.account, "297.05", date(2026, 11, 25))  # November settled
    bill(date(2026, 12, 1))
    bill(date(2027, 1, 1))
    notice = a.lease.notices.get(period=date(2027, 1, 1))
    assert notice.amount_due == Decimal("320.00")
    run_detection(as_of=date(2027, 2, 4))
    assert not CafReport.objects.exists()  # 320 € overdue only
    run_detection(as_of=date(2027, 2, 11))
    report = CafReport.objects.get()
    assert report.threshold == Decimal("640.00")
    assert report.reached_on == date(2027, 2, 5)
    assert report.due_by == date(2027, 4, 5)
    case = report.case
    assert case.next_deadline == date(2027, 2, 4)  # the first reminder, due since the opening, comes first
    run_detection(as_of=date(2027, 2, 12))
    assert CafReport.objects.count() == 1  # idempotent
    services.caf_report_send(report=report, sent_on=date(2027, 3, 1), today=date(2027, 3, 1))
    referral = case.ccapex_referrals.get()
    assert referral.via_caf_report and referral.referred_on == date(2027, 3, 1)
    assert services.assignation_earliest(case) == date(2027, 5, 3)  # 01/05 holiday + Sunday → Monday 03/05


def test_e4_5_debt_statement_flags_items_older_than_three_years(world):
    from billing.ledger import NewEntry, post_entries

    a = world["A"]
    post_entries(
        account=a.account,
        entries=[
            NewEntry(
                posted_on=date(2023, 1, 31),
                kind=EntryKind.REPAIRS,
                label="Loyer janvier 2023",
                amount=Decimal("100.00"),
            )
        ],
    )
    account = Account.objects.get(pk=a.account.pk)
    items = services.debt_statement(account, date(2026, 1, 31))
    assert not items[0].barred  # barred after 31/01/2026, not on it
    items = services.debt_statement(account, date(2026, 2, 1))
    assert items[0].barred and items[0].barred_on == date(2026, 1, 31)
    # The 200 € payment of November paid this oldest item first (FIFO): 100 owed → 0, notice 397,05.
    assert [i.owed for i in services.debt_statement(account, date(2026, 12, 1))] == [Decimal("397.05")]
