"""The daily move-out job (service, command, task) and the retention purge."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from inspections import privacy, services
from inspections.models import Inspection, InspectionKind, Settlement
from inspections.tasks import daily_move_out_report

from .conftest import SIGNATURE
from .test_flow import at, fill


@pytest.fixture
def settlement(world, agent, inspector):
    exit_ = services.inspection_schedule(
        lease=world["A"].lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 25)), agent=inspector, by=agent
    )
    fill(exit_, inspector)
    services.inspection_sign(
        inspection=exit_,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="H. Durandal",
        by=inspector,
        today=date(2026, 11, 25),
    )
    return Settlement.objects.get(lease=world["A"].lease)  # deadline 25/01/2027


def test_settlements_coming_due(settlement):
    assert list(services.settlements_coming_due(as_of=date(2027, 1, 14))) == []
    assert list(services.settlements_coming_due(as_of=date(2027, 1, 15))) == [settlement]
    report = services.daily_report(as_of=date(2027, 1, 26))
    assert report["overdue"] == [settlement] and report["due_soon"] == []


def test_command_and_task(settlement):
    out = StringIO()
    call_command("move_out_report", date="2027-01-20", stdout=out)
    text = out.getvalue()
    assert "À échéance sous 10 jours : 1" in text and "limite 25/01/2027 (5 j)" in text
    assert daily_move_out_report.delay().get() == {"overdue": [], "due_soon": [], "remarks_open": []}


def test_purge_after_three_years(settlement, agent):
    services.settlement_submit(settlement=settlement, by=agent, today=date(2026, 11, 26))
    settlement.refresh_from_db()
    services.settlement_record_refund(
        settlement=settlement, paid_on=date(2026, 12, 1), by=agent, today=date(2026, 12, 1)
    )
    assert privacy.purge(as_of=date(2029, 12, 1), dry_run=False)["inspection"] == 0
    counts = privacy.purge(as_of=date(2029, 12, 2), dry_run=False)
    assert counts["inspection"] == 1
    edl = Inspection.objects.get(pk=settlement.exit_inspection_id)
    assert (edl.tenant_signatory, edl.new_address, edl.tenant_signature.name) == ("", "", "")
    assert privacy.purge(as_of=date(2029, 12, 2), dry_run=False)["inspection"] == 0
