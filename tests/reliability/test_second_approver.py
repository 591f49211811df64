"""Money exceptions need a second approver (issue 8, access): each kind is refused when the person
who asked for it approves it, and goes through with another approver. The kinds: a write-off
(admission en non-valeur, any amount; above the rule's threshold only the direction), a deposit
refund above the approval threshold, a deduction typed or changed by hand on a deposit settlement
(the manual adjustment of the ledger: billing itself has no free-form adjustment entry)."""

from datetime import date
from decimal import Decimal

import pytest

from arrears import services as arrears_services
from arrears.detection import run_detection
from arrears.models import ArrearsCase, WriteOffStatus
from billing.models import EntryKind, LedgerEntry
from inspections import services as move_services
from inspections.models import InspectionKind, Settlement, SettlementStatus
from tenancies.roles import Role
from tests.factories import UserFactory
from tests.inspections.conftest import SIGNATURE
from tests.inspections.test_flow import at, fill

TODAY = date(2026, 12, 20)


def responsable(world, name):
    return UserFactory(username=name, roles=[Role.RESPONSABLE_AGENCE], agencies_list=[world["A"].agency])


@pytest.fixture
def settlement(world, agent, inspector):
    exit_ = move_services.inspection_schedule(
        lease=world["A"].lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    fill(exit_, inspector)
    move_services.inspection_sign(
        inspection=exit_,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="X",
        by=inspector,
        today=date(2026, 11, 25),
    )
    return Settlement.objects.get(lease=world["A"].lease)


def test_write_off_refused_to_its_requester(world, manager):
    run_detection(as_of=date(2026, 12, 11))
    case = ArrearsCase.objects.get(account=world["A"].account)
    first, second = responsable(world, "resp.a"), responsable(world, "resp2.a")
    wo = arrears_services.write_off_request(
        case=case, amount=Decimal("50.00"), reason="Irrécouvrable", on=TODAY, today=TODAY, by=first
    )
    with pytest.raises(arrears_services.ArrearsError, match="autre personne que son demandeur"):
        arrears_services.write_off_decide(write_off=wo, approve=True, on=TODAY, today=TODAY, by=first)
    wo.refresh_from_db()
    assert wo.status == WriteOffStatus.REQUESTED and not LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).exists()
    wo = arrears_services.write_off_decide(write_off=wo, approve=True, on=TODAY, today=TODAY, by=second)
    assert LedgerEntry.objects.get(pk=wo.entry_id).credit == Decimal("50.00")
    # Even the direction cannot approve its own request.
    big = arrears_services.write_off_request(
        case=case, amount=Decimal("60.00"), reason="Décès", on=TODAY, today=TODAY, by=manager
    )
    with pytest.raises(arrears_services.ArrearsError, match="autre personne que son demandeur"):
        arrears_services.write_off_decide(write_off=big, approve=True, on=TODAY, today=TODAY, by=manager)


def test_large_refund_refused_to_its_submitter(world, settlement, settings):
    settings.INSPECTIONS_REFUND_APPROVAL_THRESHOLD = "100.00"
    first, second = responsable(world, "resp.a"), responsable(world, "resp2.a")
    move_services.settlement_submit(settlement=settlement, by=first, today=date(2026, 11, 26))
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.PENDING_APPROVAL
    with pytest.raises(move_services.MoveError, match="autre personne"):
        move_services.settlement_decide(settlement=settlement, approve=True, note="", by=first, today=TODAY)
    assert not LedgerEntry.objects.filter(account__lease=settlement.lease, kind=EntryKind.DEPOSIT_RETURN).exists()
    move_services.settlement_decide(settlement=settlement, approve=True, note="vu", by=second, today=TODAY)
    settlement.refresh_from_db()
    assert (settlement.status, settlement.approved_by) == (SettlementStatus.POSTED, second)


def test_hand_typed_deduction_refused_to_its_submitter(world, settlement):
    first, second = responsable(world, "resp.a"), responsable(world, "resp2.a")
    move_services.settlement_add_item(
        settlement=settlement, label="Encombrants laissés dans la cave", amount=Decimal("150.00"), by=first
    )
    move_services.settlement_submit(settlement=settlement, by=first, today=date(2026, 11, 26))
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.PENDING_APPROVAL  # below the refund threshold, typed by hand
    with pytest.raises(move_services.MoveError, match="autre personne"):
        move_services.settlement_decide(settlement=settlement, approve=True, note="", by=first, today=TODAY)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.PENDING_APPROVAL and settlement.posted_on is None
    move_services.settlement_decide(settlement=settlement, approve=True, note="vu", by=second, today=TODAY)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.POSTED
    entries = LedgerEntry.objects.filter(account__lease=settlement.lease, label__contains="Encombrants")
    assert [e.debit for e in entries] == [Decimal("150.00")]
