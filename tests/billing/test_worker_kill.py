"""The monthly billing run against real failures (RELIABILITY.md FT-2 (a) (b), MI-2, MI-5).

Real Celery workers (prefork, concurrency 1) run as subprocesses on the test database with a dedicated Redis
database; they are SIGKILLed in the middle of a chunk's transaction, then the run must converge: one notice
per billable lease, amounts equal to an independent recomputation, balances equal to their ledger entries.

A statement-level trigger makes each chunk's notice INSERT sleep, inside the chunk's transaction, so that the
kill lands deterministically while a chunk has written notices it has not committed.
"""

from __future__ import annotations

import io
import os
import random
import signal
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Count, Sum

from billing import batch
from billing.batch import BillingError, billable_lease_ids, load_terms, start_run
from billing.calc import bill_lease
from billing.demo import seed_benefits
from billing.ledger import reconcile
from billing.models import (
    ZERO,
    Account,
    BillingChunk,
    BillingFailure,
    BillingRun,
    LedgerEntry,
    RentNotice,
    RentNoticeLine,
    RunStatus,
)

from .conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PERIOD = date(2026, 12, 1)  # the demo's reference month: ~92 % of the dwellings have a running lease
TODAY = date(2026, 12, 1)
DWELLINGS = 400
CHUNK_SIZE = 20
CHUNK_SLEEP = 0.25  # seconds each chunk's notice INSERT sleeps inside its transaction
CONVERGENCE = 90  # seconds: bound for a run to finish after the fault


def seed() -> list[int]:
    """A few hundred leases to bill (COPY-based demo data), about half of them with APL or RLS (credit lines);
    the billable lease ids of PERIOD."""
    call_command("seed_demo", dwellings=DWELLINGS, allow_production=True, verbosity=0, stdout=io.StringIO())
    assert seed_benefits(random.Random(2026)) > 100
    lease_ids = billable_lease_ids(PERIOD)
    assert len(lease_ids) > 300
    return lease_ids


def _scalar(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def backends_sleeping_in_notice_insert() -> int:
    """Sessions of this database inside a chunk's notice INSERT (in pg_sleep: only the slowing trigger sleeps)."""
    return _scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND wait_event = 'PgSleep'"
    )


def chunks_done(run: BillingRun) -> int:
    return BillingChunk.objects.filter(run=run, done_at__isnull=False).count()


def wait_for_kill_point(run: BillingRun, workers, timeout: float = 30) -> None:
    """Wait until 1 ≤ chunks done < all and a chunk is inside its notice INSERT (written, not committed)."""

    def kill_point():
        done = chunks_done(run)
        assert done < run.chunk_count, "the run finished before the kill point"
        return done >= 1 and backends_sleeping_in_notice_insert() > 0

    try:
        wait_until(kill_point, timeout=timeout, interval=0.01, message="a chunk in the middle of its transaction")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{chunks_done(run)}/{run.chunk_count} chunks done\n{workers.logs()}") from None


def wait_for_run_done(run: BillingRun, workers) -> float:
    started = time.monotonic()

    def done():
        status = BillingRun.objects.values_list("status", flat=True).get(pk=run.pk)
        assert status != RunStatus.FAILED
        return status == RunStatus.DONE

    try:
        wait_until(done, timeout=CONVERGENCE, interval=0.1, message=f"run {run.pk} to be done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{chunks_done(run)}/{run.chunk_count} chunks done\n{workers.logs()}") from None
    return time.monotonic() - started


def ledger_totals() -> dict:
    return {
        "notices": RentNotice.objects.count(),
        "lines": RentNoticeLine.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "due": RentNotice.objects.aggregate(s=Sum("amount_due", default=ZERO))["s"],
        "debit": LedgerEntry.objects.aggregate(s=Sum("debit", default=ZERO))["s"],
        "credit": LedgerEntry.objects.aggregate(s=Sum("credit", default=ZERO))["s"],
        "balances": Account.objects.aggregate(s=Sum("balance", default=ZERO))["s"],
    }


def assert_billed_exactly_once(run: BillingRun, lease_ids: list[int]) -> None:
    """MI-2 and MI-3 for PERIOD, with the amounts recomputed independently from the leases' terms."""
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.lease_count == len(lease_ids)
    assert not BillingChunk.objects.filter(run=run, done_at__isnull=True).exists()
    assert not BillingFailure.objects.filter(run=run).exists()
    assert (run.notice_count, run.failure_count, run.already_billed_count) == (run.lease_count, 0, 0)

    notices = RentNotice.objects.filter(period=PERIOD)
    assert notices.count() == run.lease_count
    assert not notices.values("lease_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(notices.values_list("lease_id", flat=True)) == set(lease_ids)
    assert set(notices.values_list("run_id", flat=True)) == {run.pk}

    terms, refused = load_terms(lease_ids, PERIOD)
    assert refused == {}
    drafts = {t.lease_id: bill_lease(t, PERIOD) for t in terms}
    assert None not in drafts.values()
    expected_due = {lease_id: d.amount_due for lease_id, d in drafts.items()}
    assert dict(notices.values_list("lease_id", "amount_due")) == expected_due
    total = sum(expected_due.values(), Decimal("0.00"))
    assert notices.aggregate(s=Sum("amount_due"))["s"] == total == run.total_due

    counts = notices.annotate(n_lines=Count("lines", distinct=True), n_entries=Count("entries", distinct=True))
    wrong = [
        (n.lease_id, n.n_lines, n.n_entries)
        for n in counts.only("id", "lease_id")
        if not n.n_lines == n.n_entries == len(drafts[n.lease_id].lines)
    ]
    assert wrong == []
    entries = LedgerEntry.objects.filter(period=PERIOD, notice__isnull=False)
    assert entries.filter(credit__gt=0).exists()  # APL and RLS lines are credits
    assert entries.aggregate(s=Sum("debit"))["s"] - entries.aggregate(s=Sum("credit"))["s"] == total
    assert reconcile() == []


def test_whole_worker_killed_mid_chunk_then_restarted(celery_workers, celery_dispatch, slow_statements, redis_client):
    """FT-2 (b), §2.1 case E: main process and pool child SIGKILLed; the restarted worker gets the message back."""
    worker = celery_workers.start()  # boots while the stock is seeded
    try:
        lease_ids = seed()
        slow_statements("billing_rentnotice", CHUNK_SLEEP)
        worker.wait_ready()
        run, created = start_run(period=PERIOD, chunk_size=CHUNK_SIZE, today=TODAY)
        assert created and run.chunk_count == -(-len(lease_ids) // CHUNK_SIZE)

        wait_for_kill_point(run, celery_workers)
        worker.kill()
        # The chunk in flight is neither acknowledged nor lost: it waits in the broker's unacked set until the
        # visibility timeout, then the restarted worker's restore sweep puts it back in the queue.
        in_flight = set(redis_client.hkeys("unacked"))
        assert len(in_flight) == 1
        assert 1 <= chunks_done(run) < run.chunk_count

        celery_workers.start()
        wait_for_run_done(run, celery_workers)
        # With acks_late the redelivered chunk is acknowledged just after its task returns, which can be a moment
        # after the run is marked done by that same task.
        wait_until(
            lambda: not in_flight & set(redis_client.hkeys("unacked")),
            timeout=20,
            message="the redelivered chunk's message to be acknowledged",
        )
    finally:
        celery_workers.stop_all()
    assert_billed_exactly_once(run, lease_ids)


def test_pool_child_killed_mid_chunk_is_requeued_at_once(
    celery_workers, celery_dispatch, slow_statements, redis_client
):
    """FT-2 (a), §2.1 case A: only the prefork child is SIGKILLed; acks_late + reject_on_worker_lost requeue it."""
    # A visibility timeout far beyond the test: Redis cannot be what hands the message back.
    worker = celery_workers.start(visibility_timeout=300)
    try:
        lease_ids = seed()
        slow_statements("billing_rentnotice", CHUNK_SLEEP)
        worker.wait_ready()
        run, created = start_run(period=PERIOD, chunk_size=CHUNK_SIZE, today=TODAY)
        assert created

        wait_for_kill_point(run, celery_workers)
        in_flight = set(redis_client.hkeys("unacked"))
        (child,) = worker.children()
        os.kill(child, signal.SIGKILL)
        # The main process notices the dead child at once or on its next pool check (every 5 s), then rejects the
        # message with requeue: it leaves the unacked set and goes back to the queue.
        wait_until(
            lambda: not in_flight & set(redis_client.hkeys("unacked")),
            timeout=20,
            message="the killed chunk's message to leave the unacked set",
        )
        wait_for_run_done(run, celery_workers)
        assert worker.alive() and child not in worker.children()  # the same main process, a new pool child
        assert "WorkerLostError" in worker.log()
    finally:
        celery_workers.stop_all()
    assert_billed_exactly_once(run, lease_ids)


def _lock_waiters_on_run_insert() -> int:
    return _scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND wait_event_type = 'Lock' AND query LIKE %s",
        ['INSERT INTO "billing_billingrun"%'],
    )


def test_two_simultaneous_launches_start_one_run(celery_eager, monkeypatch):
    """MI-5: two launches of the same month at the same time; the partial unique index lets one run start."""
    lease_ids = seed()
    run_inserted, release = threading.Event(), threading.Event()
    real_billable_lease_ids = batch.billable_lease_ids

    def held_billable_lease_ids(period):
        # Reached by the launch whose BillingRun INSERT went through, inside its transaction: hold it open
        # until the other launch is seen blocked on the unique index, so that the two really overlap.
        run_inserted.set()
        assert release.wait(30)
        return real_billable_lease_ids(period)

    monkeypatch.setattr(batch, "billable_lease_ids", held_billable_lease_ids)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def launch(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = start_run(period=PERIOD, chunk_size=CHUNK_SIZE, today=TODAY)
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=launch, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        assert run_inserted.wait(20)
        wait_until(_lock_waiters_on_run_insert, timeout=20, message="the second launch to wait on the first")
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    runs = list(BillingRun.objects.filter(period=PERIOD))
    assert len(runs) == 1
    (run,) = runs
    assert run.status == RunStatus.DONE  # eager: the winner billed every chunk after its commit
    winner = [r for r in results if isinstance(r, tuple) and r[1] is True]
    assert len(winner) == 1 and winner[0][0].pk == run.pk
    (other,) = [r for r in results if r is not winner[0]]
    if isinstance(other, BillingError):
        # Accepted only when the first run had already finished when the second looked for it.
        assert run.status == RunStatus.DONE
    else:
        assert isinstance(other, tuple), other
        assert other[0].pk == run.pk and other[1] is False
    assert_billed_exactly_once(run, lease_ids)


def test_replay_of_a_billed_month_creates_nothing(celery_eager):
    """MI-2 (1): a second run of a month already billed is recorded, bills nothing and changes no total."""
    lease_ids = seed()
    first, created = start_run(period=PERIOD, chunk_size=CHUNK_SIZE, today=TODAY)
    assert created
    first.refresh_from_db()
    assert first.status == RunStatus.DONE
    before = ledger_totals()
    assert before["notices"] == len(lease_ids)

    replay, created = start_run(period=PERIOD, chunk_size=CHUNK_SIZE, today=TODAY)
    assert created and replay.pk != first.pk
    replay.refresh_from_db()
    assert replay.status == RunStatus.DONE
    assert replay.lease_count == len(lease_ids)
    assert (replay.notice_count, replay.already_billed_count, replay.failure_count) == (0, len(lease_ids), 0)
    assert replay.total_due == 0
    assert ledger_totals() == before
    assert_billed_exactly_once(first, lease_ids)
