"""Thin Celery tasks: the nightly refresh and the refresh after a billing run."""

from celery import shared_task

from . import services


@shared_task(name="dashboards.refresh")
def refresh_dashboards(reason: str = "nuit"):
    refresh = services.refresh_dashboards(reason=reason)
    return refresh.pk


@shared_task(name="dashboards.refresh_after_billing")
def refresh_after_billing(run_id: int | None = None):
    return services.refresh_after_billing(run_id).pk
