"""Thin Celery tasks (beat entries): the daily detection and the monthly check of the plans."""

from celery import shared_task
from django.utils import timezone

from .detection import run_detection
from .services import check_plans


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=300, time_limit=600)
def detect_arrears() -> dict:
    report = run_detection(as_of=timezone.localdate())
    return {"opened": report.opened, "reopened": report.reopened, "closed": report.closed}


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=300, time_limit=600)
def check_repayment_plans() -> dict:
    return check_plans(as_of=timezone.localdate())
