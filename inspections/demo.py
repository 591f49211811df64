"""Demo data for move-ins and move-outs, on top of seed_demo (and seed_billing_demo when run).

Idempotent: the reference tables are (re)loaded every time; the demo appointments are created
once (nothing is created when an EDL already exists).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from tenancies.demo import PARIS, REFERENCE_DATE
from tenancies.models import Dwelling, DwellingStatus, Household, Lease, LeaseStatus, Person, PersonRole, User
from tenancies.reference_delays import load_legal_delays

from . import reference, services
from .models import Inspection, InspectionKind, Notice, RepairPrice, VetusteRule


def load_reference() -> None:
    load_legal_delays()
    reference.load(VetusteRule, RepairPrice)


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)), PARIS)


@transaction.atomic
def seed() -> dict[str, int]:
    load_reference()
    if Inspection.objects.exists():
        return {"inspections": 0, "notices": 0}
    agent = User.objects.filter(username="edl.seine").first()
    clerk = User.objects.filter(username="clientele.seine").first()
    if agent is None or clerk is None:
        return {"inspections": 0, "notices": 0}
    created = {"inspections": 0, "notices": 0}
    dwelling = (
        Dwelling.objects.filter(status=DwellingStatus.VACANT, building__estate__agency__code="SA")
        .select_related("building__estate")
        .order_by("reference")
        .first()
    )
    if dwelling is not None:
        household = Household.objects.create(agency=dwelling.building.estate.agency)
        Person.objects.create(
            household=household, last_name="Martin", first_name="Élodie", role=PersonRole.TITULAIRE, civility="MME"
        )
        lease = services.move_in_create(dwelling=dwelling, household=household, starts_on=REFERENCE_DATE, by=clerk)
        services.inspection_schedule(
            lease=lease, kind=InspectionKind.ENTRY, scheduled_at=_at(REFERENCE_DATE, 10), agent=agent, by=clerk
        )
        created["inspections"] += 1
    leaving = (
        Lease.objects.filter(status=LeaseStatus.ACTIVE, dwelling__building__estate__agency__code="SA")
        .exclude(pk__in=Notice.objects.values("lease_id"))
        .order_by("number")
        .first()
    )
    if leaving is not None:
        services.notice_record(
            lease=leaving,
            received_on=REFERENCE_DATE - timedelta(days=20),
            reason="job_loss",
            by=clerk,
            today=REFERENCE_DATE,
        )
        created["notices"] += 1
        for kind, hour, days in ((InspectionKind.PRE_VISIT, 14, 0), (InspectionKind.EXIT, 9, 10)):
            services.inspection_schedule(
                lease=leaving,
                kind=kind,
                scheduled_at=_at(REFERENCE_DATE + timedelta(days=days), hour),
                agent=agent,
                by=clerk,
            )
            created["inspections"] += 1
    return created
