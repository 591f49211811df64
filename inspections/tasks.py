"""Thin Celery tasks: take ids, call a service."""

from celery import shared_task
from django.utils import timezone

from . import pdf, services
from .models import Inspection, InspectionStatus


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def build_inspection_pdf(inspection_id: int) -> None:
    """Store the PDF of a signed EDL (idempotent: a later call replaces it, e.g. after an addendum)."""
    inspection = Inspection.objects.filter(pk=inspection_id, status=InspectionStatus.SIGNED).first()
    if inspection is not None:
        pdf.store_inspection_pdf(inspection)


@shared_task
def daily_move_out_report() -> dict:
    """Daily: settlements coming due or overdue, entry EDLs whose remarks window is open."""
    report = services.daily_report(as_of=timezone.localdate())
    return {key: [obj.pk for obj in rows] for key, rows in report.items()}
