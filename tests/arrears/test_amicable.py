"""Ladder, repayment plans and their monthly check, write-offs: amounts to the cent, refusals."""

from datetime import date
from decimal import Decimal

import pytest

from arrears import services
from arrears.detection import run_detection
from arrears.models import ArrearsCase, CaseStatus, PlanInstalment, PlanStatus, RepaymentPlan, WriteOff
from billing.models import Account, EntryKind, LedgerEntry

from .conftest import pay


@pytest.fixture
def case(world):
    run_detection(as_of=date(2026, 12, 11))
    return ArrearsCase.objects.get(account=world["A"].account)


def test_ladder_in_order_with_its_delays(case, precontentieux):
    with pytest.raises(services.ArrearsError, match="Étape sautée : « Première relance » doit être envoyée avant"):
        services.ladder_send(case=case, position=2, on=date(2026, 12, 11), today=date(2026, 12, 11))
    done = services.ladder_send(
        case=case, position=1, on=date(2026, 12, 11), today=date(2026, 12, 11), by=precontentieux
    )
    assert done.debt == Decimal("297.05")
    case.refresh_from_db()
    assert case.next_deadline == date(2026, 12, 26)
    assert case.next_action.startswith("Deuxième relance")
    with pytest.raises(services.ArrearsError, match="ne peut partir avant le 26/12/2026"):
        services.ladder_send(case=case, position=2, on=date(2026, 12, 20), today=date(2026, 12, 20))
    with pytest.raises(services.ArrearsError, match="déjà été envoyée"):
        services.ladder_send(case=case, position=1, on=date(2026, 12, 20), today=date(2026, 12, 20))
    services.ladder_send(case=case, position=2, on=date(2026, 12, 26), today=date(2026, 12, 28))
    assert case.ladder.count() == 2
    assert case.events.filter(kind="letter").count() == 2


def test_plan_must_add_up_to_the_debt_and_nothing_half_saved(case):
    today = date(2026, 12, 12)
    kw = {"case": case, "debt": Decimal("297.05"), "first_due_on": date(2027, 1, 10), "on": today}
    with pytest.raises(services.ArrearsError, match="ne couvrent pas la dette de 297,05"):
        services.plan_propose(monthly_instalment=Decimal("100.00"), months=2, **kw)
    with pytest.raises(services.ArrearsError, match="dépassent la dette"):
        services.plan_propose(monthly_instalment=Decimal("100.00"), months=4, **kw)
    with pytest.raises(
        services.ArrearsError, match=r"totalisent 290,00\xa0€ au lieu de la dette de 297,05\xa0€ \(écart 7,05\xa0€\)"
    ):
        services.plan_propose(
            monthly_instalment=Decimal("100.00"),
            months=3,
            amounts=[Decimal("100"), Decimal("100"), Decimal("90")],
            **kw,
        )
    with pytest.raises(services.ArrearsError, match="La dette du plan doit être la dette actuelle : 297,05"):
        services.plan_propose(
            case=case,
            debt=Decimal("250.00"),
            monthly_instalment=Decimal("50"),
            months=5,
            first_due_on=date(2027, 1, 10),
            on=today,
        )
    with pytest.raises(services.ArrearsError, match="entre 1 et 36 mois"):
        services.plan_propose(monthly_instalment=Decimal("5.00"), months=60, **kw)
    assert not RepaymentPlan.objects.exists() and not PlanInstalment.objects.exists()
    plan = services.plan_propose(monthly_instalment=Decimal("100.00"), months=3, **kw)
    assert [(i.due_on, i.amount) for i in plan.instalments.all()] == [
        (date(2027, 1, 10), Decimal("100.00")),
        (date(2027, 2, 10), Decimal("100.00")),
        (date(2027, 3, 10), Decimal("97.05")),
    ]
    assert sum(i.amount for i in plan.instalments.all()) == plan.debt


def test_plan_kept_late_then_broken_moves_the_case_on(case, bill):
    a_account = case.account
    plan = services.plan_propose(
        case=case,
        debt=Decimal("297.05"),
        monthly_instalment=Decimal("100.00"),
        first_due_on=date(2026, 12, 20),
        months=3,
        on=date(2026, 12, 12),
    )
    services.plan_sign(plan=plan, signed_on=date(2026, 12, 14), today=date(2026, 12, 14))
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    with pytest.raises(services.ArrearsError, match="plan d'apurement est en cours"):
        services.ladder_send(case=case, position=1, on=date(2026, 12, 15), today=date(2026, 12, 15))
    assert services.plan_check(plan=plan, as_of=date(2026, 12, 19)).status == PlanStatus.ACTIVE
    result = services.plan_check(plan=plan, as_of=date(2026, 12, 21))
    assert (result.status, result.shortfall, result.missed) == (PlanStatus.LATE, Decimal("100.00"), 1)
    pay(a_account, "100.00", date(2026, 12, 22))
    assert services.plan_check(plan=plan, as_of=date(2026, 12, 23)).status == PlanStatus.ACTIVE
    assert plan.instalments.get(number=1).paid
    bill(date(2026, 12, 1), today=date(2026, 12, 15))  # current rent 497,05 due 05/01/2027, issued after the proposal
    pay(a_account, "497.05", date(2027, 1, 5))  # rent paid, instalment of 20/01 not
    result = services.plan_check(plan=plan, as_of=date(2027, 1, 21))
    assert (result.status, result.required, result.paid) == (PlanStatus.LATE, Decimal("697.05"), Decimal("597.05"))
    result = services.plan_check(plan=plan, as_of=date(2027, 2, 21))
    assert result.status == PlanStatus.BROKEN and result.missed == 2
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == PlanStatus.BROKEN
    assert case.status == CaseStatus.AMICABLE
    assert case.next_deadline == date(2027, 2, 21) and case.next_action.startswith("Première relance")
    assert Account.objects.get(pk=a_account.pk).flagged_for_arrears
    assert case.transitions.filter(reason="Plan d'apurement rompu").exists()
    assert plan.history.count() >= 4


def test_plan_leaves_out_a_spread_charge_regularisation(case, monkeypatch):
    monkeypatch.setattr(
        services,
        "regularisation_still_scheduled",
        lambda account, as_of: (
            Decimal("60.00"),
            [(date(2027, 1, 5), Decimal("30.00")), (date(2027, 2, 5), Decimal("30.00"))],
        ),
    )
    with pytest.raises(services.ArrearsError, match="237,05\xa0€ \\(solde 297,05\xa0€ moins 60,00\xa0€"):
        services.plan_propose(
            case=case,
            debt=Decimal("297.05"),
            monthly_instalment=Decimal("100"),
            months=3,
            first_due_on=date(2027, 1, 10),
            on=date(2026, 12, 12),
        )
    plan = services.plan_propose(
        case=case,
        debt=Decimal("237.05"),
        monthly_instalment=Decimal("80"),
        months=3,
        first_due_on=date(2027, 1, 10),
        on=date(2026, 12, 12),
    )
    assert plan.scheduled_elsewhere == Decimal("60.00")


def test_write_off_four_eyes(case, precontentieux, responsable):
    today = date(2026, 12, 20)
    wo = services.write_off_request(
        case=case, amount=Decimal("97.05"), reason="Locataire décédé", on=today, today=today, by=precontentieux
    )
    with pytest.raises(services.ArrearsError, match="autre personne que son demandeur"):
        services.write_off_decide(write_off=wo, approve=True, on=today, today=today, by=precontentieux)
    assert not LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).exists()
    wo = services.write_off_decide(write_off=wo, approve=True, on=today, today=today, by=responsable)
    entry = LedgerEntry.objects.get(pk=wo.entry_id)
    assert entry.kind == EntryKind.WRITE_OFF and entry.credit == Decimal("97.05")
    assert Account.objects.get(pk=case.account_id).balance == Decimal("200.00")
    with pytest.raises(services.ArrearsError, match="dépasse la dette"):
        services.write_off_request(
            case=case, amount=Decimal("200.01"), reason="x", on=today, today=today, by=precontentieux
        )


def test_big_write_off_needs_the_direction(case, precontentieux, responsable, manager):
    today = date(2026, 12, 20)
    from billing.ledger import NewEntry, post_entries

    post_entries(
        account=case.account,
        entries=[NewEntry(posted_on=today, kind=EntryKind.REPAIRS, label="Réparations", amount=Decimal("2000"))],
    )
    wo = services.write_off_request(
        case=case, amount=Decimal("2000.00"), reason="Irrécouvrable", on=today, today=today, by=precontentieux
    )
    with pytest.raises(services.ArrearsError, match="décidée par la direction"):
        services.write_off_decide(write_off=wo, approve=True, on=today, today=today, by=responsable)
    assert WriteOff.objects.get(pk=wo.pk).status == "requested"
    services.write_off_decide(write_off=wo, approve=True, on=today, today=today, by=manager)


def test_handover_needs_the_whole_ladder_and_another_approver(case, precontentieux, responsable):
    with pytest.raises(services.ArrearsError, match="Étape sautée : la phase amiable n'est pas terminée"):
        services.handover_request(case=case, on=date(2026, 12, 12), today=date(2026, 12, 12), by=precontentieux)
    case.ladder_position = 4
    case.save()
    services.handover_request(case=case, on=date(2026, 12, 12), today=date(2026, 12, 12), by=responsable)
    with pytest.raises(services.ArrearsError, match="autre personne que le demandeur"):
        services.handover_approve(case=case, on=date(2026, 12, 13), today=date(2026, 12, 13), by=responsable)
