"""Celery settings that make redelivery safe (RELIABILITY.md FT-1, §2.1): every task of the project,
including those other apps add, acknowledges late, is rejected back to the queue when its worker dies,
has a soft and a hard time limit, and Redis hands a message out again only well after the longest one."""

import pytest
from django.conf import settings

from config.celery import app
from tenancies.privacy import local_app_configs


def project_tasks():
    app.loader.import_default_modules()  # autodiscovery of every app's tasks.py and CELERY_IMPORTS
    prefixes = tuple(f"{cfg.name}." for cfg in local_app_configs())
    tasks = {name: task for name, task in app.tasks.items() if task.__module__.startswith(prefixes)}
    assert "billing.tasks.bill_chunk" in tasks and "tenancies.tasks.purge_personal_data" in tasks
    return tasks


def _limits(task):
    soft = task.soft_time_limit if task.soft_time_limit is not None else app.conf.task_soft_time_limit
    hard = task.time_limit if task.time_limit is not None else app.conf.task_time_limit
    return soft, hard


def test_worker_settings():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit and conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.parametrize("name", sorted(project_tasks()))
def test_every_task_is_safe_to_redeliver(name):
    task = project_tasks()[name]
    assert task.acks_late is True, f"{name}: acks_late"
    assert task.reject_on_worker_lost is True, f"{name}: reject_on_worker_lost"
    soft, hard = _limits(task)
    assert soft and hard and soft < hard, f"{name}: soft {soft} s, hard {hard} s"
    if getattr(task, "autoretry_for", ()):
        assert task.max_retries is not None, f"{name}: retries without a bound"


def test_visibility_timeout_outlasts_every_task():
    """A message unacknowledged for longer than the visibility timeout is handed out again, to a
    second worker, while the first still runs it (§2.1 case F): the timeout must be at least twice
    the longest hard limit."""
    limits = {name: _limits(task)[1] for name, task in project_tasks().items()}
    longest = max(limits.values())
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ratio = visibility / longest
    print(f"visibility timeout {visibility} s / longest hard limit {longest} s = {ratio:.1f}")
    too_long = {name: limit for name, limit in limits.items() if limit * 2 > visibility}
    assert too_long == {}, f"hard time limits above half the visibility timeout ({visibility} s)"
