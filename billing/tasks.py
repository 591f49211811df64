"""Thin Celery tasks: take ids, call a service. Every task here is idempotent."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import batch


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=300,
    time_limit=600,
)
def bill_chunk(chunk_id: int) -> int:
    return batch.process_chunk(chunk_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=300)
def launch_monthly_billing() -> int:
    """Beat entry: bill the current month (a replay creates nothing)."""
    run, _created = batch.start_run(period=timezone.localdate().replace(day=1))
    return run.pk


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=120)
def resume_stale_billing_runs() -> int:
    """Beat entry: re-queue the chunks of runs stuck after a crash or a task error."""
    return batch.resume_stale_runs()
