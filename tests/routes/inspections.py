"""Move-in / move-out pages: EDLs, rooms, photos, notices and settlements are territory-scoped."""

from datetime import date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from inspections import services
from inspections.models import Inspection, InspectionKind, Notice, Photo, Settlement
from tenancies.roles import Role
from tests.factories import UserFactory

from . import Route

EDL = "agent_edl"

ROUTES = {
    "inspections:schedule": Route(role=EDL),
    "inspections:awaiting_signature": Route(role=EDL),
    "inspections:settlement_list": Route(),
    "inspections:move_in_new": Route(),
    "inspections:move_in": Route("lease"),
    "inspections:lease_contract": Route("lease"),
    "inspections:move_out": Route("lease"),
    "inspections:notice_letter": Route("edl_notice"),
    "inspections:inspection_detail": Route("inspection", role=EDL),
    "inspections:inspection_sign": Route("inspection", role=EDL),
    "inspections:inspection_pdf": Route("inspection", role=EDL),
    "inspections:comparison": Route("inspection", role=EDL),
    "inspections:room_edit": Route("room", role=EDL),
    "inspections:photo_upload": Route("room", method="post", role=EDL),
    "inspections:photo": Route("photo", role=EDL),
    "inspections:settlement_detail": Route("settlement"),
    "inspections:settlement_letter": Route("settlement"),
}


def make_objects(territory):
    """An exit EDL scheduled on the territory's lease (left active), a photo, a notice and a
    settlement written directly (the services would move the lease). Idempotent."""
    lease = territory.lease
    inspection = Inspection.objects.filter(lease=lease, kind=InspectionKind.EXIT).first()
    if inspection is None:
        agent = UserFactory(
            username=f"edl-{territory.agency.code}", roles=[Role.AGENT_EDL], agencies_list=[territory.agency]
        )
        inspection = services.inspection_schedule(
            lease=lease,
            kind=InspectionKind.EXIT,
            scheduled_at=timezone.make_aware(datetime(2026, 11, 25, 10)),
            agent=agent,
            by=agent,
        )
    room = inspection.rooms.order_by("position").first()
    photo = Photo.objects.filter(room=room).first()
    if photo is None:
        from tests.inspections.conftest import jpeg_bytes

        photo = Photo(room=room, uploaded_by=inspection.agent)
        photo.image.save("edl/test.jpg", ContentFile(jpeg_bytes((40, 30))), save=False)
        photo.thumbnail.save("edl/test-thumb.jpg", ContentFile(jpeg_bytes((20, 15))), save=False)
        photo.save()
    notice, _ = Notice.objects.get_or_create(
        lease=lease,
        defaults={
            "received_on": date(2026, 11, 2),
            "reason": "standard",
            "delay_code": "notice_standard",
            "period_label": "3 mois",
            "ends_on": date(2027, 2, 2),
            "created_by": inspection.agent,
        },
    )
    settlement, _ = Settlement.objects.get_or_create(
        lease=lease,
        defaults={
            "exit_inspection": inspection,
            "keys_returned_on": date(2026, 11, 25),
            "matches_entry": False,
            "deadline": date(2027, 1, 25),
            "deposit": lease.deposit,
            "monthly_rent": lease.rent,
            "prepared_by": inspection.agent,
            "provision": Decimal("0.00"),
        },
    )
    return {"inspection": inspection, "room": room, "photo": photo, "edl_notice": notice, "settlement": settlement}
