#!/usr/bin/env python
"""The monthly billing batch on ~100 000 leases: time, throughput, peak memory, replay, and the COPY floor.

    .venv/bin/python bench/billing.py [--dwellings 108700] [--database-url URL] [--period 2026-12]
                                      [--chunk-size 1000] [--fresh] [--skip-setup] [--profile FILE]

1. makes sure the benchmark database exists (creates it, migrates, runs `seed_demo`, then adds the demo's
   housing benefits; both idempotent) in subprocesses, so that this process's peak memory is the batch's;
2. empties the billing tables (TRUNCATE: the append-only trigger on ledger entries is a row trigger,
   TRUNCATE is not blocked), creates the accounts that are missing (a month after the first) and zeroes
   their balances;
3. bills the month: `start_run` plus `process_chunk` called for each chunk id, sequentially, in this
   process (no broker: the on-commit dispatch is captured); then a replay of the same month;
4. copies the notices, notice lines and ledger entries the batch wrote to memory (COPY TO STDOUT),
   truncates them and times a bare COPY FROM STDIN of the same rows into the same tables;
5. prints a table, then as its last line one JSON object with the figures.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import secrets
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/locatif_billing_bench"
# seed_demo lets ~92 % of the dwellings; 108 700 dwellings give ≈ 100 000 leases billed in 12/2026.
DEFAULT_DWELLINGS = 108_700
BILLING_TABLES = ("billing_rentnotice", "billing_rentnoticeline", "billing_ledgerentry")
TARGETS = {"batch_s": 60.0, "ratio_to_copy": 4.0, "peak_mb": 1024.0, "replay_s": 10.0}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def bench_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",  # DEBUG would keep every query in connection.queries (memory)
        LOCATIF_TESTING="0",
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(50),
        DATABASE_URL=database_url,
        CELERY_TASK_ALWAYS_EAGER="1",  # nothing may reach a broker, whatever happens
        CONN_MAX_AGE="0",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    log("manage.py " + " ".join(args))
    started = time.monotonic()
    # Its output goes to stderr: stdout is kept for the table and the JSON line.
    subprocess.run(  # noqa: S603 - fixed command line
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=sys.stderr
    )
    log(f"  done in {time.monotonic() - started:.1f} s")


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def maintenance_url(database_url: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def ensure_database(database_url: str, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(database_url)
    with psycopg.connect(maintenance_url(database_url), autocommit=True) as conn:
        if fresh:
            log(f"dropping database {name}")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(args, env: dict[str, str]) -> None:
    ensure_database(args.database_url, args.fresh)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed_demo", "--dwellings", str(args.dwellings), "--allow-production")
    # The demo's housing benefits (APL and RLS lines on about half of the notices), not its billed months.
    manage(env, "shell", "-c", "import random; from billing import demo; demo.seed_benefits(random.Random(demo.SEED))")


# --- In this process, once Django is set up --------------------------------------------------


def rss_peak_mb() -> float:
    """Peak resident set size of this process so far (getrusage ru_maxrss: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_schema() -> None:
    """The billing tables have every column of the models (a migration edited in place leaves them behind)."""
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        for model in apps.get_app_config("billing").get_models():
            table = model._meta.db_table
            present = {c.name for c in connection.introspection.get_table_description(cursor, table)}
            missing = {f.column for f in model._meta.concrete_fields} - present
            if missing:
                raise SystemExit(
                    f"{table} lacks {sorted(missing)}: the database predates the current migrations; "
                    "rerun with --fresh (drops and reseeds the benchmark database)."
                )


def execute(sql: str, params=None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def reset_billing(lease_ids: list[int]) -> None:
    """No run, notice or entry; every billable lease has its account, at a zero balance."""
    from billing.ledger import ensure_accounts

    execute(
        "TRUNCATE billing_billingrun, billing_billingchunk, billing_billingfailure, "
        + ", ".join(BILLING_TABLES)
        + " CASCADE"
    )
    ensure_accounts(lease_ids)
    execute("UPDATE billing_account SET balance = 0 WHERE balance <> 0")
    execute("VACUUM ANALYZE billing_account")
    execute("CHECKPOINT")


class CapturedDispatch:
    """Replaces billing.batch.dispatch_chunks: the chunk ids are kept to be processed here, in order."""

    def __init__(self, batch_module):
        self.batch = batch_module
        self.real = batch_module.dispatch_chunks
        self.chunk_ids: list[int] = []

    def __enter__(self):
        self.batch.dispatch_chunks = self.chunk_ids.extend
        return self

    def __exit__(self, *exc):
        self.batch.dispatch_chunks = self.real


def bill_month(period: date, chunk_size: int, profile: str | None = None) -> tuple[object, dict[str, float]]:
    """start_run + each chunk, sequentially; returns the run and its timings in seconds: `plan` (start_run),
    `total`, `cpu` (this process's CPU time over the whole: the rest is PostgreSQL's work and the round trips)."""
    from billing import batch

    profiler = cProfile.Profile() if profile else None
    with CapturedDispatch(batch) as dispatch:
        if profiler:
            profiler.enable()
        cpu, started = time.process_time(), time.perf_counter()
        run, created = batch.start_run(period=period, today=period, chunk_size=chunk_size)
        planned = time.perf_counter()
        assert created, "a run of this period is already running"
        for chunk_id in dispatch.chunk_ids:
            batch.process_chunk(chunk_id)
        finished, cpu = time.perf_counter(), time.process_time() - cpu
        if profiler:
            profiler.disable()
    if profiler:
        profiler.dump_stats(profile)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        log(f"profile written to {profile}; top 35 by cumulative time:\n{out.getvalue()}")
    run.refresh_from_db()
    return run, {"plan": planned - started, "total": finished - started, "cpu": cpu}


def copy_floor() -> tuple[float, dict[str, int]]:
    """Seconds of a bare COPY FROM STDIN of the rows the batch wrote into the three tables (text format, as
    the batch's own COPY); the rows are read back first, the tables truncated, then restored identically."""
    from django.db import connection, transaction

    data: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in BILLING_TABLES:
            buffer = bytearray()
            with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer += block
            data[table] = bytes(buffer)
            rows[table] = data[table].count(b"\n")
    execute("TRUNCATE " + ", ".join(BILLING_TABLES) + " CASCADE")
    execute("CHECKPOINT")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in BILLING_TABLES:  # parents first: notices, then their lines and entries
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(data[table])
    return time.perf_counter() - started, rows


def run_bench(args) -> dict:
    import django

    django.setup()
    from django.db import connection

    from billing.batch import billable_lease_ids, parse_period
    from billing.ledger import reconcile
    from billing.models import RunStatus

    check_schema()
    period = parse_period(args.period)
    lease_ids = billable_lease_ids(period)
    log(f"{len(lease_ids):,} leases to bill in {period:%m/%Y}; emptying the billing tables")
    reset_billing(lease_ids)
    del lease_ids
    connection.close()
    gc.collect()
    baseline_mb = rss_peak_mb()

    log("billing the month…")
    run, times = bill_month(period, args.chunk_size, args.profile)
    peak_mb = rss_peak_mb()
    assert run.status == RunStatus.DONE, run.status
    assert run.failure_count == 0 and run.notice_count == run.lease_count, (run.notice_count, run.failure_count)

    log("replaying the month…")
    replay, replay_times = bill_month(period, args.chunk_size, args.profile and f"{args.profile}.replay")
    assert replay.status == RunStatus.DONE and replay.notice_count == 0
    assert replay.already_billed_count == run.lease_count

    log("checking the ledger…")
    assert reconcile() == [], "balances differ from their entries"

    log("timing a bare COPY of the same rows…")
    copy_s, rows = copy_floor()
    assert reconcile() == [], "the COPY did not restore the same entries"

    return {
        "database": database_name(args.database_url),
        "period": f"{period:%m/%Y}",
        "chunk_size": args.chunk_size,
        "chunks": run.chunk_count,
        "leases": run.lease_count,
        "plan_s": times["plan"],
        "batch_s": times["total"],
        "batch_cpu_s": times["cpu"],
        "leases_per_s": run.lease_count / times["total"],
        "baseline_mb": baseline_mb,
        "peak_mb": peak_mb,
        "replay_s": replay_times["total"],
        "replay_cpu_s": replay_times["cpu"],
        "copy_s": copy_s,
        "rows": rows,
        "ratio_to_copy": times["total"] / copy_s,
        "total_due": run.total_due,
    }


def table(r: dict) -> str:
    def verdict(key: str, value: float) -> str:
        target = TARGETS.get(key)
        if target is None:
            return ""
        return f"< {target:g}  {'ok' if value < target else 'MISSED'}"

    rows = [
        ("batch: start_run + every chunk (s)", f"{r['batch_s']:.2f}", verdict("batch_s", r["batch_s"])),
        ("  of which start_run (s)", f"{r['plan_s']:.2f}", ""),
        ("  CPU time of this process (s)", f"{r['batch_cpu_s']:.2f}", ""),
        ("throughput (leases/s)", f"{r['leases_per_s']:,.0f}", ""),
        ("peak memory, ru_maxrss (MB)", f"{r['peak_mb']:.0f}", verdict("peak_mb", r["peak_mb"])),
        ("  of which before the batch (MB)", f"{r['baseline_mb']:.0f}", ""),
        ("replay of the month (s)", f"{r['replay_s']:.2f}", verdict("replay_s", r["replay_s"])),
        ("  CPU time of this process (s)", f"{r['replay_cpu_s']:.2f}", ""),
        ("bare COPY of the same rows (s)", f"{r['copy_s']:.2f}", ""),
        ("ratio batch / COPY", f"{r['ratio_to_copy']:.2f}", verdict("ratio_to_copy", r["ratio_to_copy"])),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    counts = ", ".join(f"{table.removeprefix('billing_')} {n:,}" for table, n in r["rows"].items())
    lines = [
        f"Billing batch — database {r['database']}, period {r['period']}, {r['leases']:,} leases, "
        f"{r['chunks']} chunks of {r['chunk_size']}, total due {r['total_due']} €",
        "Mode: in-process, billing.batch.process_chunk called for each chunk id in turn (no broker, no eager",
        "Celery); accounts already exist (a month after the first). Memory: getrusage ru_maxrss of this process.",
        f"Rows written: {counts}; COPY = text-format COPY FROM STDIN of those rows, one transaction.",
        "",
        f"{'measure':<{widths[0]}}  {'value':>{widths[1]}}  target",
        f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 12}",
    ]
    lines += [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_BILLING_DATABASE_URL", DEFAULT_DB_URL))
    parser.add_argument("--dwellings", type=int, default=DEFAULT_DWELLINGS, help="stock size given to seed_demo")
    parser.add_argument("--period", default="2026-12", help="month to bill, AAAA-MM (default: the demo's)")
    parser.add_argument("--chunk-size", type=int, default=1000, help="leases per chunk (BILLING_CHUNK_SIZE)")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the benchmark database first")
    parser.add_argument("--skip-setup", action="store_true", help="no create/migrate/seed: the database is ready")
    parser.add_argument(
        "--profile", metavar="FILE", help="run the batch (and the replay) under cProfile: stats to FILE (FILE.replay)"
    )
    args = parser.parse_args()

    if "bench" not in database_name(args.database_url):
        parser.error("the benchmark truncates the billing tables: its database name must contain 'bench'")
    env = bench_env(args.database_url)
    if not args.skip_setup:
        prepare(args, env)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    result = run_bench(args)
    print(table(result))
    keys = ("leases", "batch_s", "leases_per_s", "peak_mb", "replay_s", "copy_s", "ratio_to_copy")
    print(json.dumps({key: round(result[key], 3) if isinstance(result[key], float) else result[key] for key in keys}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
