"""Move-in to deposit refund through the services, with the ledger checked to the cent."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from billing.batch import start_run
from billing.models import Account, EntryKind
from billing.services import record_payment
from inspections import services
from inspections.models import (
    Condition,
    Element,
    Inspection,
    InspectionKind,
    InspectionStatus,
    KeyKind,
    Notice,
    Photo,
    RepairPrice,
    Settlement,
    SettlementStatus,
)
from inspections.services import MoveError
from tenancies.models import DwellingStatus, LeaseStatus
from tests.factories import DwellingFactory

from .conftest import SIGNATURE, jpeg_bytes


def at(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10))


def fill(inspection, by, *, condition=Condition.GOOD, poor=()):
    """Every room saved: `condition` everywhere, except (room name, element label) pairs in `poor`."""
    for room in inspection.rooms.all():
        conditions = {
            e.pk: (Condition.POOR if (room.name, e.label) in poor else condition) for e in room.elements.all()
        }
        services.room_save(room=room, conditions=conditions, comments={}, comment="", by=by)
    services.inspection_save_details(
        inspection=inspection,
        meters={"water_index": Decimal("120.5"), "electricity_index": Decimal("4521"), "gas_index": None},
        keys=[(KeyKind.DOOR, 3, "porte palière"), (KeyKind.MAILBOX, 1, "")],
        new_address="12 rue Neuve, 78000 Versailles" if inspection.kind == InspectionKind.EXIT else "",
        by=by,
    )


def bill(period, today, capture):
    with capture(execute=True):
        start_run(period=period, today=today)


@pytest.fixture
def moved_in(world, vacant, newcomers, agent, inspector, django_capture_on_commit_callbacks):
    """The newcomers' lease from 01/12/2026: signed, entry EDL signed, December and January billed
    and paid with the deposit (420 + 2 × 440)."""
    lease = services.move_in_create(dwelling=vacant, household=newcomers, starts_on=date(2026, 12, 1), by=agent)
    services.lease_sign(lease=lease, signed_on=date(2026, 11, 20), by=agent, today=date(2026, 11, 20))
    entry = services.inspection_schedule(
        lease=lease, kind=InspectionKind.ENTRY, scheduled_at=at(date(2026, 11, 30)), agent=inspector, by=agent
    )
    fill(entry, inspector)
    with time_machine.travel(at(date(2026, 11, 30)), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.inspection_sign(
            inspection=entry,
            tenant_signature=SIGNATURE,
            agent_signature=SIGNATURE,
            tenant_signatory="Nina NOUVEAU",
            by=inspector,
            today=date(2026, 11, 30),
        )
    bill(date(2026, 12, 1), date(2026, 12, 1), django_capture_on_commit_callbacks)
    bill(date(2027, 1, 1), date(2027, 1, 1), django_capture_on_commit_callbacks)
    account = Account.objects.get(lease=lease)
    record_payment(
        account=account,
        amount=Decimal("1300.00"),
        received_on=date(2027, 1, 5),
        method="transfer",
        today=date(2027, 1, 5),
    )
    lease.refresh_from_db()
    return lease


def test_move_in_calls_the_deposit_and_activates_the_lease(moved_in):
    lease = moved_in
    assert lease.status == LeaseStatus.ACTIVE
    assert lease.dwelling.status == DwellingStatus.LET
    deposit = lease.account.entries.get(kind=EntryKind.DEPOSIT)
    assert (deposit.debit, deposit.posted_on) == (Decimal("420.00"), date(2026, 11, 20))
    entry = lease.inspections.get(kind=InspectionKind.ENTRY)
    assert entry.status == InspectionStatus.SIGNED
    assert entry.pdf.name  # built on commit
    assert lease.account.balance == Decimal("0.00")


def test_full_move_out_with_degradation_late_refund_and_penalty(
    moved_in, agent, inspector, django_capture_on_commit_callbacks
):
    lease = moved_in
    notice = services.notice_record(
        lease=lease, received_on=date(2027, 1, 10), reason="job_loss", by=agent, today=date(2027, 1, 10)
    )
    assert (notice.delay_code, notice.ends_on) == ("notice_reduced", date(2027, 2, 10))
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.NOTICE_GIVEN

    exit_ = services.inspection_schedule(
        lease=lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2027, 2, 10)), agent=inspector, by=agent
    )
    assert exit_.entry is not None
    walls = Element.objects.get(room__inspection=exit_, room__name="Séjour", label="Murs (peinture)")
    assert walls.entry_condition == Condition.GOOD
    fill(exit_, inspector, poor={("Séjour", "Murs (peinture)")})
    with django_capture_on_commit_callbacks(execute=True):
        services.inspection_sign(
            inspection=exit_,
            tenant_signature=SIGNATURE,
            agent_signature=SIGNATURE,
            tenant_signatory="Nina NOUVEAU",
            by=inspector,
            today=date(2027, 2, 10),
        )
    lease.refresh_from_db()
    assert (lease.status, lease.ends_on) == (LeaseStatus.ENDED, date(2027, 2, 10))
    assert lease.dwelling.status == DwellingStatus.VACANT

    settlement = Settlement.objects.get(lease=lease)
    assert settlement.matches_entry is False
    assert settlement.deadline == date(2027, 4, 10)  # 2 months, a Saturday: substantive, not moved
    assert settlement.new_address_known
    repair = settlement.lines.get(kind="repair")
    services.repair_line_price(
        line=repair, by=inspector, price=RepairPrice.objects.get(code="peinture_murs"), renewed_on=date(2018, 2, 10)
    )
    repair.refresh_from_db()
    assert (repair.cost, repair.age_years, repair.abatement_pct, repair.amount) == (
        Decimal("1000.00"),
        9,
        Decimal("90.00"),
        Decimal("100.00"),
    )
    services.settlement_submit(settlement=settlement, by=agent, today=date(2027, 2, 15))
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.POSTED
    rent = {line.entry_kind: line.amount for line in settlement.lines.filter(kind="rent")}
    assert rent == {EntryKind.RENT: Decimal("150.00"), EntryKind.CHARGE: Decimal("7.14")}  # 10 days of 28
    # 0 − 420 (deposit) + 100 (repairs) + 157,14 (rent to the end of notice) = −162,86: owed to the tenant
    assert settlement.balance_after == Decimal("-162.86")

    services.settlement_record_refund(settlement=settlement, paid_on=date(2027, 5, 3), by=agent, today=date(2027, 5, 3))
    settlement.refresh_from_db()
    assert settlement.penalty == Decimal("42.00")  # 1 month started after 10/04: 10 % of 420
    assert settlement.refund_amount == Decimal("204.86")
    account = Account.objects.get(lease=lease)
    assert account.balance == Decimal("0.00")
    kinds = {e.kind: e.amount for e in account.entries.filter(posted_on__gte=date(2027, 2, 15))}
    assert kinds[EntryKind.DEPOSIT_RETURN] == Decimal("-420.00")
    assert kinds[EntryKind.REPAIRS] == Decimal("100.00")
    assert kinds[EntryKind.PENALTY] == Decimal("-42.00")
    assert kinds[EntryKind.REFUND] == Decimal("204.86")


def test_exit_matching_the_entry_has_one_month(moved_in, agent, inspector):
    services.notice_record(
        lease=moved_in, received_on=date(2027, 1, 6), reason="standard", by=agent, today=date(2027, 1, 6)
    )
    exit_ = services.inspection_schedule(
        lease=moved_in, kind=InspectionKind.EXIT, scheduled_at=at(date(2027, 1, 16)), agent=inspector, by=agent
    )
    fill(exit_, inspector, condition=Condition.FAIR)  # normal wear everywhere: never charged
    services.inspection_sign(
        inspection=exit_,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="N. Nouveau",
        by=inspector,
        today=date(2027, 1, 16),
    )
    settlement = Settlement.objects.get(lease=moved_in)
    assert settlement.matches_entry is True
    assert settlement.keys_returned_on == date(2027, 1, 16)
    assert settlement.deadline == date(2027, 2, 16)
    assert not settlement.lines.filter(kind="repair").exists()
    moved_in.refresh_from_db()
    assert moved_in.ends_on == date(2027, 4, 6)  # 3-month notice still runs: rent due to its end


def test_exit_without_entry_edl_is_allowed_and_takes_two_months(world, agent, inspector):
    lease = world["A"].lease
    exit_ = services.inspection_schedule(
        lease=lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    assert exit_.entry is None and exit_.rooms.count() == 7  # T3 checklist
    fill(exit_, inspector)
    services.inspection_sign(
        inspection=exit_,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="H. Durandal",
        by=inspector,
        today=date(2026, 11, 25),
    )
    settlement = Settlement.objects.get(lease=lease)
    assert (settlement.matches_entry, settlement.deadline) == (False, date(2027, 1, 25))
    # November was billed in full: the days after 25/11 come back (412,50 + 84,55) × 5/30
    rent = settlement.lines.get(kind="rent")
    assert rent.amount == Decimal("-82.84")


def test_notice_in_tense_zone_e2_6(world, agent):
    world["A"].commune.tense_zone = True
    world["A"].commune.save()
    notice = services.notice_record(
        lease=world["A"].lease, received_on=date(2026, 3, 10), reason="standard", by=agent, today=date(2026, 11, 20)
    )
    assert (notice.reason, notice.ends_on) == ("tense_zone", date(2026, 4, 10))


def test_notice_before_lease_start_is_refused_and_nothing_saved(world, agent):
    with pytest.raises(MoveError, match="ne peut pas précéder la date d'effet du bail"):
        services.notice_record(
            lease=world["A"].lease, received_on=date(2024, 2, 1), reason="standard", by=agent, today=date(2026, 11, 20)
        )
    world["A"].lease.refresh_from_db()
    assert world["A"].lease.status == LeaseStatus.ACTIVE
    assert not Notice.objects.exists()


def test_signature_refused_on_incomplete_edl(world, agent, inspector):
    exit_ = services.inspection_schedule(
        lease=world["A"].lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    with pytest.raises(MoveError, match="incomplet.*Entrée.*clés"):
        services.inspection_sign(
            inspection=exit_,
            tenant_signature=SIGNATURE,
            agent_signature=SIGNATURE,
            tenant_signatory="X",
            by=inspector,
            today=date(2026, 11, 25),
        )
    exit_.refresh_from_db()
    assert exit_.status == InspectionStatus.SCHEDULED and not exit_.tenant_signature
    assert not Settlement.objects.exists()


def test_missing_signature_refused(world, agent, inspector):
    exit_ = services.inspection_schedule(
        lease=world["A"].lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    fill(exit_, inspector)
    with pytest.raises(MoveError, match="signature du locataire est manquante"):
        services.inspection_sign(
            inspection=exit_,
            tenant_signature="",
            agent_signature=SIGNATURE,
            tenant_signatory="X",
            by=inspector,
            today=date(2026, 11, 25),
        )
    with pytest.raises(MoveError, match="signature de l'agent est illisible"):
        services.inspection_sign(
            inspection=exit_,
            tenant_signature=SIGNATURE,
            agent_signature="data:image/png;base64,AAAA",
            tenant_signatory="X",
            by=inspector,
            today=date(2026, 11, 25),
        )
    exit_.refresh_from_db()
    assert exit_.status == InspectionStatus.IN_PROGRESS


def test_photos_are_stripped_and_bad_files_refused(world, agent, inspector):
    exit_ = services.inspection_schedule(
        lease=world["A"].lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    room = exit_.rooms.first()
    photo = services.photo_add(room=room, uploaded=SimpleUploadedFile("p.jpg", jpeg_bytes((3000, 2000))), by=inspector)
    from PIL import Image

    with photo.image.open("rb") as f, Image.open(f) as image:
        assert max(image.size) == 2000
        assert not image.getexif()
    with pytest.raises(MoveError, match="Type de fichier refusé"):
        services.photo_add(room=room, uploaded=SimpleUploadedFile("p.jpg", b"%PDF-1.4 not an image"), by=inspector)
    with pytest.raises(MoveError, match="taille maximale"):
        services.photo_add(
            room=room, uploaded=SimpleUploadedFile("p.jpg", b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024)), by=inspector
        )
    assert Photo.objects.count() == 1


def test_negative_repair_cost_refused(world, agent, inspector):
    lease = world["A"].lease
    exit_ = services.inspection_schedule(
        lease=lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    fill(exit_, inspector, poor={("Cuisine", "Évier et robinetterie")})
    services.inspection_sign(
        inspection=exit_,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="X",
        by=inspector,
        today=date(2026, 11, 25),
    )
    line = Settlement.objects.get(lease=lease).lines.get(kind="repair")
    with pytest.raises(MoveError, match="ne peut pas être négatif"):
        services.repair_line_price(line=line, by=inspector, cost=Decimal("-10"))
    line.refresh_from_db()
    assert (line.cost, line.amount) == (Decimal("0.00"), Decimal("0.00"))
    with pytest.raises(MoveError, match="Chiffrez chaque dégradation"):
        services.settlement_submit(settlement=line.settlement, by=agent, today=date(2026, 11, 26))


@pytest.fixture
def posted_exit(world, agent, inspector):
    """Agency A's lease (no entry EDL) after its exit on 25/11/2026: a settlement to refund."""
    lease = world["A"].lease
    exit_ = services.inspection_schedule(
        lease=lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    fill(exit_, inspector)
    services.inspection_sign(
        inspection=exit_,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="X",
        by=inspector,
        today=date(2026, 11, 25),
    )
    return Settlement.objects.get(lease=lease)


def test_provision_at_most_20_percent_in_a_collective_building(posted_exit, agent, world):
    with pytest.raises(MoveError, match="immeuble collectif"):
        services.settlement_set_provision(settlement=posted_exit, amount=Decimal("10.00"), by=agent)
    DwellingFactory(building=world["A"].building, reference="AAA-LGT-0099")
    with pytest.raises(MoveError, match="20 %.*82,50"):
        services.settlement_set_provision(settlement=posted_exit, amount=Decimal("82.51"), by=agent)
    services.settlement_set_provision(settlement=posted_exit, amount=Decimal("82.50"), by=agent)
    posted_exit.refresh_from_db()
    assert posted_exit.provision == Decimal("82.50")


def test_four_eyes_on_large_refund_refusal_then_approval(posted_exit, agent, resp, resp2, settings):
    settings.INSPECTIONS_REFUND_APPROVAL_THRESHOLD = "100.00"
    services.settlement_submit(settlement=posted_exit, by=agent, today=date(2026, 11, 26))
    posted_exit.refresh_from_db()
    assert posted_exit.status == SettlementStatus.PENDING_APPROVAL
    with pytest.raises(MoveError, match="motif du refus"):
        services.settlement_decide(settlement=posted_exit, approve=False, note="", by=resp, today=date(2026, 11, 26))
    services.settlement_decide(
        settlement=posted_exit, approve=False, note="Vérifier le relevé d'eau", by=resp, today=date(2026, 11, 26)
    )
    posted_exit.refresh_from_db()
    assert (posted_exit.status, posted_exit.approval_note) == (SettlementStatus.DRAFT, "Vérifier le relevé d'eau")
    assert not posted_exit.lease.account.entries.filter(kind=EntryKind.DEPOSIT_RETURN).exists()
    services.settlement_submit(settlement=posted_exit, by=resp, today=date(2026, 11, 27))
    posted_exit.refresh_from_db()
    with pytest.raises(MoveError, match="autre personne"):
        services.settlement_decide(settlement=posted_exit, approve=True, note="", by=resp, today=date(2026, 11, 27))
    with pytest.raises(MoveError, match="responsable d'agence"):
        services.settlement_decide(settlement=posted_exit, approve=True, note="", by=agent, today=date(2026, 11, 27))
    services.settlement_decide(settlement=posted_exit, approve=True, note="OK", by=resp2, today=date(2026, 11, 27))
    posted_exit.refresh_from_db()
    assert posted_exit.status == SettlementStatus.POSTED and posted_exit.approved_by == resp2


def test_hand_set_deduction_needs_approval(posted_exit, agent):
    services.settlement_add_item(
        settlement=posted_exit, label="Encombrants laissés dans la cave", amount=Decimal("150.00"), by=agent
    )
    services.settlement_submit(settlement=posted_exit, by=agent, today=date(2026, 11, 26))
    posted_exit.refresh_from_db()
    assert posted_exit.status == SettlementStatus.PENDING_APPROVAL


def test_no_new_address_no_penalty(posted_exit, agent):
    Inspection.objects.filter(pk=posted_exit.exit_inspection_id).update(new_address="")
    Settlement.objects.filter(pk=posted_exit.pk).update(new_address_known=False)
    services.settlement_submit(settlement=posted_exit, by=agent, today=date(2026, 11, 26))
    posted_exit.refresh_from_db()
    services.settlement_record_refund(
        settlement=posted_exit, paid_on=date(2027, 6, 1), by=agent, today=date(2027, 6, 1)
    )
    posted_exit.refresh_from_db()
    assert posted_exit.penalty == Decimal("0.00")
    assert posted_exit.lease.account.balance == Decimal("0.00")


def test_addendum_within_ten_days(moved_in, inspector):
    entry = moved_in.inspections.get(kind=InspectionKind.ENTRY)
    assert services.remarks_deadline(entry) == date(2026, 12, 10)
    services.addendum_add(
        inspection=entry,
        received_on=date(2026, 12, 10),
        text="Radiateur de la chambre froid",
        by=inspector,
        today=date(2026, 12, 10),
    )
    with pytest.raises(MoveError, match="a expiré le 10/12/2026"):
        services.addendum_add(
            inspection=entry, received_on=date(2026, 12, 11), text="Trop tard", by=inspector, today=date(2026, 12, 11)
        )
    assert entry.addenda.count() == 1
