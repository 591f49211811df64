"""Thin Celery tasks: call a service. Idempotent."""

from celery import shared_task

from .cotation import rescore_all
from .services import renewals_run


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1500, time_limit=1800)
def run_application_renewals() -> dict:
    """Beat entry (daily): renewal notices, radiation of the demands not renewed, daily rescoring."""
    result = renewals_run()
    return {"notices": result.notices, "cancelled": result.cancelled, "rescored": result.rescored}


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=300, time_limit=600)
def rescore_applications() -> int:
    return rescore_all()
