"""Celery task printing a finished billing run's avis d'échéance for one agency (one stored PDF).

Not in billing/tasks.py: the worker must import this module too (CELERY_IMPORTS or an import
from billing.tasks), otherwise it refuses the task as unregistered.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import documents

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=900)
def render_run_agency_pdf(run_id: int, agency_id: int) -> str | None:
    """Store MEDIA_ROOT/billing/runs/<run_id>/agency-<agency_id>.pdf; idempotent and resumable."""
    try:
        return documents.build_run_agency_pdf(run_id, agency_id)
    except SoftTimeLimitExceeded:
        # The parts printed so far are stored: a new task carries on from the first missing one.
        log.warning("PDF of run %s agency %s: time limit reached, continuing in a new task", run_id, agency_id)
        render_run_agency_pdf.apply_async((run_id, agency_id), countdown=1)
        return None
