"""Chaos (RELIABILITY.md FT-2): a monthly billing run on real Celery workers loses a worker, its
database server or its broker in the middle of a chunk's transaction; after each fault the run must
converge with no notice missing, none twice, and a ledger that reconciles. Each scenario prints its
time to converge (from the fault to the run done).

Run by scripts/chaos.sh, which starts a private PostgreSQL cluster and a private Redis so that
restarting them disturbs nobody else; deselected in the default test run (marker `chaos`) (the pool-child and
whole-worker kills also run there, in tests/billing/test_worker_kill.py).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connections
from django.db.models import Count, DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing import batch
from billing.batch import start_run
from billing.models import Account, BillingChunk, BillingRun, LedgerEntry, RentNotice, RunStatus
from tests.billing.conftest import wait_until
from tests.billing.test_worker_kill import (
    CHUNK_SIZE,
    CHUNK_SLEEP,
    PERIOD,
    TODAY,
    assert_billed_exactly_once,
    seed,
    wait_for_kill_point,
)

PG_RESTART = os.environ.get("LOCATIF_CHAOS_PG_RESTART", "")
REDIS_RESTART = os.environ.get("LOCATIF_CHAOS_REDIS_RESTART", "")
REPORT = os.environ.get("LOCATIF_CHAOS_REPORT", "")
CONVERGENCE = 120  # seconds

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.chaos,  # deselected by default (pyproject addopts); scripts/chaos.sh selects it
]


def _db_retry(fn):
    """fn() through a database restart: close the broken connection and try again."""
    while True:
        try:
            return fn()
        except (OperationalError, InterfaceError):
            connections.close_all()
            time.sleep(0.2)


def wait_converged(run: BillingRun, workers, started: float) -> float:
    def done():
        status = _db_retry(lambda: BillingRun.objects.values_list("status", flat=True).get(pk=run.pk))
        assert status != RunStatus.FAILED
        return status == RunStatus.DONE

    try:
        wait_until(done, timeout=CONVERGENCE, interval=0.1, message=f"run {run.pk} to be done")
    except AssertionError as exc:
        left = _db_retry(lambda: BillingChunk.objects.filter(run=run, done_at__isnull=True).count())
        raise AssertionError(f"{exc}\n{left} chunks left\n{workers.logs()}") from None
    return time.monotonic() - started


def invariants(lease_ids: list[int]) -> dict[str, int]:
    """The FT-2 figures, counted (assert_billed_exactly_once has already asserted them to be 0):
    billable leases without a notice of PERIOD, leases with more than one, accounts whose cached
    balance differs from the sum of their ledger entries."""
    notices = RentNotice.objects.filter(period=PERIOD, lease_id__in=lease_ids)
    billed = set(notices.values_list("lease_id", flat=True))
    entries = (
        LedgerEntry.objects.filter(account=OuterRef("pk"))
        .values("account")
        .annotate(s=Sum(F("debit") - F("credit")))
        .values("s")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    off = Account.objects.annotate(
        ledger=Coalesce(Subquery(entries, output_field=money), Value(0, output_field=money))
    ).exclude(balance=F("ledger"))
    return {
        "missing": len(set(lease_ids) - billed),
        "duplicates": notices.values("lease_id").annotate(n=Count("id")).filter(n__gt=1).count(),
        "ledger_gaps": off.count(),
    }


def record(scenario: str, seconds: float, run: BillingRun, lease_ids: list[int], **extra) -> None:
    figure = {
        "scenario": scenario,
        "converged_s": round(seconds, 1),
        "chunks": run.chunk_count,
        **invariants(lease_ids),
        **extra,
    }
    print(f"\nCHAOS {json.dumps(figure)}")
    if REPORT:
        with Path(REPORT).open("a") as handle:
            handle.write(json.dumps(figure) + "\n")


def start_billing(celery_workers, slow_statements, **worker_options):
    worker = celery_workers.start(**worker_options)
    lease_ids = seed()
    slow_statements("billing_rentnotice", CHUNK_SLEEP)
    worker.wait_ready()
    run, created = start_run(period=PERIOD, chunk_size=CHUNK_SIZE, today=TODAY)
    assert created and run.chunk_count > 10
    wait_for_kill_point(run, celery_workers)
    return worker, run, lease_ids


def shell(command: str) -> None:
    subprocess.run(shlex.split(command), check=True, timeout=60)  # noqa: S603 - the chaos script's own command


def test_pool_child_killed(celery_workers, celery_dispatch, slow_statements, redis_client):
    worker, run, lease_ids = start_billing(celery_workers, slow_statements, visibility_timeout=300)
    try:
        (child,) = worker.children()
        started = time.monotonic()
        os.kill(child, signal.SIGKILL)
        seconds = wait_converged(run, celery_workers, started)
    finally:
        celery_workers.stop_all()
    assert_billed_exactly_once(run, lease_ids)
    record("kill -9 pool child", seconds, run, lease_ids)


def test_whole_worker_killed_and_restarted(celery_workers, celery_dispatch, slow_statements, redis_client):
    worker, run, lease_ids = start_billing(celery_workers, slow_statements)
    try:
        started = time.monotonic()
        worker.kill()
        celery_workers.start()
        seconds = wait_converged(run, celery_workers, started)
    finally:
        celery_workers.stop_all()
    assert_billed_exactly_once(run, lease_ids)
    record(
        "kill -9 whole worker, restart", seconds, run, lease_ids, visibility_timeout_s=celery_workers.visibility_timeout
    )


@pytest.mark.skipif(not PG_RESTART, reason="needs LOCATIF_CHAOS_PG_RESTART (a private cluster)")
def test_postgres_restarted_mid_chunk(celery_workers, celery_dispatch, slow_statements, redis_client):
    """The chunk's transaction dies with its connection; the task retries (autoretry on
    OperationalError, backoff) on a new connection once the server is back."""
    _worker, run, lease_ids = start_billing(celery_workers, slow_statements)
    try:
        started = time.monotonic()
        shell(PG_RESTART)
        restart_s = time.monotonic() - started
        connections.close_all()
        seconds = wait_converged(run, celery_workers, started)
        logs = celery_workers.logs()
    finally:
        celery_workers.stop_all()
    _db_retry(lambda: assert_billed_exactly_once(run, lease_ids))
    assert "retry" in logs.lower() or "OperationalError" in logs
    record("restart PostgreSQL", seconds, run, lease_ids, restart_s=round(restart_s, 1))


@pytest.mark.skipif(not REDIS_RESTART, reason="needs LOCATIF_CHAOS_REDIS_RESTART (a private Redis)")
def test_redis_restarted_without_persistence(celery_workers, celery_dispatch, slow_statements, redis_url):
    """The broker comes back empty: every queued chunk message is lost. The reconciler (the beat
    entry resume_stale_billing_runs) re-queues the unfinished chunks from the database."""
    import redis

    _worker, run, lease_ids = start_billing(celery_workers, slow_statements)
    try:
        started = time.monotonic()
        shell(REDIS_RESTART)
        client = redis.Redis.from_url(redis_url)
        wait_until(lambda: client.ping(), timeout=30, message="Redis to answer again")
        assert client.llen("celery") == 0  # the queue is gone
        client.set("locatif:test-lock", "chaos", ex=600)  # keep the database for this test
        # What beat does every 10 minutes, for runs older than 15: here at once.
        queued = batch.resume_stale_runs(older_than=timedelta(0))
        assert queued >= 1
        seconds = wait_converged(run, celery_workers, started)
    finally:
        celery_workers.stop_all()
    assert_billed_exactly_once(run, lease_ids)
    record("restart Redis (queue lost) + reconciler", seconds, run, lease_ids, requeued=queued)
