"""Thin Celery tasks of tenancies. Every task here is idempotent."""

from celery import shared_task

from . import privacy


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=900)
def purge_personal_data() -> dict:
    """Beat entry: the retention job (RGPD), every app's purge(); a second run changes nothing."""
    return privacy.run_retention()
