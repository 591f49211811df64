"""Thin Celery task: the daily offer follow-up (beat entry owned by the lead)."""

from celery import shared_task
from django.utils import timezone

from .services import offers_follow_up


@shared_task(name="committee.offers_follow_up")
def offers_follow_up_task():
    return offers_follow_up(as_of=timezone.localdate())
