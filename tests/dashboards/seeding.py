"""Move-outs and arrears steps seeded on the demo stock through the apps' own services, for the
dashboards' exactness and drill-down tests.

Per agency: exit EDLs signed with their deposit refunded within the legal deadline, refunded late
(with the 10 % penalty per month started), not refunded after the deadline, not refunded yet;
exit EDLs scheduled and in progress (pending). Arrears: cases sent rung 1, rungs 1–2, the whole
ladder and handed over to litigation (one with a commandement de payer).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from arrears import services as arrears_services
from arrears.models import ArrearsCase, CaseStatus
from billing.models import Account
from billing.services import record_payment
from inspections import services
from inspections.models import InspectionKind, Settlement, SettlementStatus
from tenancies.models import Agency, Lease, LeaseStatus
from tenancies.roles import Role
from tests.factories import UserFactory
from tests.inspections.conftest import SIGNATURE
from tests.inspections.test_flow import at, fill

PARIS = ZoneInfo("Europe/Paris")
# (exit signed on, refund paid on or None): deadline two months after the keys (no entry EDL).
EXITS = [
    (date(2026, 9, 1), date(2026, 10, 15)),  # within the deadline (1 November)
    (date(2026, 7, 1), date(2026, 11, 20)),  # deadline 1 September: 3 months started → 30 % of the rent
    (date(2026, 8, 3), date(2026, 10, 12)),  # deadline 3 October: 1 month started → 10 %
    (date(2026, 10, 1), None),  # deadline 1 December passed on the 15th: late
    (date(2026, 12, 2), None),  # deadline in February: open, not late
    (date(2025, 9, 1), date(2025, 11, 14)),  # last year, late by one month
]


def _staff(agency):
    code = agency.code.lower()
    agent = UserFactory(username=f"seed-agent-{code}", roles=[Role.CHARGE_CLIENTELE], agencies_list=[agency])
    inspector = UserFactory(username=f"seed-edl-{code}", roles=[Role.AGENT_EDL], agencies_list=[agency])
    resp = UserFactory(username=f"seed-resp-{code}", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[agency])
    return agent, inspector, resp


def _sign_exit(lease, inspector, agent, day):
    exit_ = services.inspection_schedule(
        lease=lease, kind=InspectionKind.EXIT, scheduled_at=at(day), agent=inspector, by=agent
    )
    fill(exit_, inspector)
    with time_machine.travel(datetime(day.year, day.month, day.day, 11, 0, tzinfo=PARIS), tick=False):
        services.inspection_sign(
            inspection=exit_,
            tenant_signature=SIGNATURE,
            agent_signature=SIGNATURE,
            tenant_signatory="Signataire démo",
            by=inspector,
            today=day,
        )
    return Settlement.objects.get(lease=lease)


def _post(settlement, agent, resp, day):
    settlement = services.settlement_submit(settlement=settlement, by=agent, today=day)
    if settlement.status == SettlementStatus.PENDING_APPROVAL:
        settlement = services.settlement_decide(settlement=settlement, approve=True, note="", by=resp, today=day)
    return settlement


def seed_move_outs() -> None:
    """The exits of each agency (the EDL PDFs, built on commit, are not needed here)."""
    for agency in Agency.objects.order_by("name"):
        agent, inspector, resp = _staff(agency)
        leases = list(
            Lease.objects.filter(
                dwelling__building__estate__agency=agency, status=LeaseStatus.ACTIVE, starts_on__lt=date(2025, 6, 1)
            ).order_by("id")
        )
        for (signed_on, refund_on), lease in zip(EXITS, leases, strict=False):
            settlement = _sign_exit(lease, inspector, agent, signed_on)
            settlement = _post(settlement, agent, resp, signed_on + timedelta(days=1))
            if refund_on is None:
                continue
            # The tenant is owed money (a transfer beyond the balance): the refund is not zero.
            account = Account.objects.get(lease=lease)
            record_payment(
                account=account,
                amount=max(account.balance, Decimal("0")) + Decimal("150.00"),
                received_on=refund_on,
                method="transfer",
                today=refund_on,
            )
            settlement.refresh_from_db()
            services.settlement_record_refund(settlement=settlement, paid_on=refund_on, by=agent, today=refund_on)
        # Pending exits: one scheduled, one in progress (a room saved).
        pending = leases[len(EXITS) : len(EXITS) + 2]
        for i, lease in enumerate(pending):
            exit_ = services.inspection_schedule(
                lease=lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 12, 20)), agent=inspector, by=agent
            )
            if i:
                room = exit_.rooms.first()
                services.room_save(
                    room=room,
                    conditions={e.pk: "good" for e in room.elements.all()},
                    comments={},
                    comment="",
                    by=inspector,
                )


def seed_arrears_steps() -> None:
    """Open amicable cases moved along the ladder, two per agency handed over to litigation."""
    for agency in Agency.objects.order_by("name"):
        code = agency.code.lower()
        chargee = UserFactory(
            username=f"seed-precont-{code}", roles=[Role.CHARGE_PRECONTENTIEUX], agencies_list=[agency]
        )
        resp = UserFactory(username=f"seed-resp-arr-{code}", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[agency])
        cases = list(
            ArrearsCase.objects.filter(lease__dwelling__building__estate__agency=agency, status=CaseStatus.AMICABLE)
            .exclude(lease__status=LeaseStatus.ENDED)
            .order_by("id")[:7]
        )
        plan_case, write_off_case = cases[5:7]
        cases = cases[:5]
        on = plan_case.opened_on  # a one-instalment plan, signed: kept (active)
        debt = arrears_services.current_debt(plan_case)
        plan = arrears_services.plan_propose(
            case=plan_case, debt=debt, monthly_instalment=debt, first_due_on=on, months=1, on=on, by=chargee
        )
        arrears_services.plan_sign(plan=plan, signed_on=on, today=on, by=chargee)
        on = write_off_case.opened_on  # 25,00 € written off, approved by the responsable
        write_off = arrears_services.write_off_request(
            case=write_off_case, amount=Decimal("25.00"), reason="Reliquat irrécouvrable", on=on, today=on, by=chargee
        )
        arrears_services.write_off_decide(write_off=write_off, approve=True, on=on, today=on, by=resp)
        for index, case in enumerate(cases):
            rungs = [1, 2, 4, 4, 4][index]
            on = case.opened_on
            for position in range(1, rungs + 1):
                on += timedelta(days=(0, 0, 15, 15, 10)[position])
                arrears_services.ladder_send(case=case, position=position, on=on, today=on, by=chargee)
            if index >= 3:
                on += timedelta(days=1)
                arrears_services.handover_request(case=case, on=on, today=on, by=chargee)
                arrears_services.handover_approve(case=case, on=on, today=on, by=resp)
            if index == 4:
                on += timedelta(days=1)
                arrears_services.litigation_record(
                    case=case, kind="commandement_payer", done_on=on, today=on, by=chargee
                )


def seed_all(as_of: date):
    """The demo stock of `conftest.demo_stock`, then the move-outs and arrears steps above, refreshed."""
    import random

    from django.core.management import call_command
    from django.test import TestCase

    from arrears.detection import run_detection
    from billing import demo as billing_demo
    from billing.models import DirectDebit
    from billing.sepa import collect_direct_debits, default_rum, register_mandate, reject_debit
    from dashboards.services import refresh_dashboards

    from .conftest import IBAN

    quiet = open("/dev/null", "w")  # noqa: SIM115
    call_command("seed_demo", dwellings=160, allow_production=True, stdout=quiet)
    rng = random.Random(billing_demo.SEED)
    billing_demo.seed_benefits(rng)
    billing_demo.bill_months()
    billing_demo.seed_payments(rng)
    for account in Account.objects.filter(balance__gt=0).order_by("id")[:2]:
        register_mandate(
            account=account,
            rum=default_rum(account),
            signed_on=date(2026, 11, 2),
            debtor_name="Titulaire démo",
            iban=IBAN,
            bic="AGRIFRPP",
            today=date(2026, 11, 25),
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        collect_direct_debits(due_on=date(2026, 12, 5), today=date(2026, 11, 25))
        reject_debit(debit=DirectDebit.objects.order_by("id").first(), code="AM04", rejected_on=date(2026, 12, 10))
    run_detection(as_of=as_of)
    seed_move_outs()
    seed_arrears_steps()
    return refresh_dashboards(as_of=as_of, full=True)
