#!/usr/bin/env python
"""Manager dashboards on 100 000 dwellings and 2.4 million ledger entries: page latencies and the refresh.

    .venv/bin/python bench/dashboards.py [--database-url URL] [--dwellings 100000] [--seconds 10]
                                         [--concurrency 8] [--workers 2] [--skip-setup] [--only PAGE]

1. makes sure the benchmark database exists (default `locatif_dash_bench`): migrate, `seed_demo
   --dwellings N`, then two years of ledger history (Dec 2024 – Nov 2026) written on the server in one
   set-based INSERT … SELECT (a rent debit and a payment credit a month for 50 000 accounts: 2 400 000
   entries) and the accounts' balances set from them; skipped when the entries are there;
2. times the raw aggregate of those entries by agency and month (what a page would cost without the
   snapshot), a full refresh of the snapshot and three incremental ones (the refresh run after a billing
   batch and each night), with the rows each one read;
3. serves the application with gunicorn (production settings, as bench/pages.py) and drives each
   dashboard page for --seconds from --concurrency client threads logged in as `direction`;
4. prints a table, then as the last line one JSON object: `<page>_p95_ms` per page and `refresh_s`.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import (  # noqa: E402 - the page benchmark's server, login and load loop
    ROOT,
    Server,
    ensure_database,
    log,
    login,
    manage,
    run_load,
    server_env,
)

DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/locatif_dash_bench"
AS_OF = date(2026, 11, 29)
FIRST_MONTH = date(2024, 12, 1)
LAST_MONTH = date(2026, 11, 1)
MONTHS = 24
ACCOUNTS = 50_000
TARGET_MS = 300.0
PAGES = ("index_month", "index_quarter", "index_year", "index_agency", "export", "detail")

BUILD_SQL = [
    # Accounts of the first 50 000 current leases.
    """
    INSERT INTO billing_account (lease_id, balance, flagged_for_arrears)
    SELECT id, 0, false FROM tenancies_lease
    WHERE status IN ('active', 'notice_given') ORDER BY id LIMIT %(accounts)s
    ON CONFLICT (lease_id) DO NOTHING
    """,
    # Per account and month: the rent billed on the 25th and a payment on the 28th (5 % pay half).
    """
    INSERT INTO billing_ledgerentry (account_id, posted_on, period, kind, label, debit, credit, created_at)
    SELECT a.id, (mo.m + 24)::date, mo.m, x.kind, x.label, x.debit, x.credit, now()
    FROM (SELECT a.id, l.rent FROM billing_account a JOIN tenancies_lease l ON l.id = a.lease_id
          WHERE l.rent > 0 ORDER BY a.id LIMIT %(accounts)s) a
    CROSS JOIN (SELECT d::date AS m FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') d) mo
    CROSS JOIN LATERAL (VALUES
        ('rent', 'Loyer', a.rent, 0::numeric),
        ('payment', 'Paiement', 0::numeric,
         CASE WHEN (a.id + extract(month FROM mo.m)::int) %% 20 = 0 THEN round(a.rent / 2, 2) ELSE a.rent END)
    ) AS x(kind, label, debit, credit)
    """,
    """
    UPDATE billing_account a SET balance = s.total
    FROM (SELECT account_id, SUM(debit - credit) AS total FROM billing_ledgerentry GROUP BY 1) s
    WHERE s.account_id = a.id AND a.balance <> s.total
    """,
    "ANALYZE billing_account",
    "ANALYZE billing_ledgerentry",
]


# The billing run of the refresh measurement: the 11/2026 run (terme échu, posted on the 25th) of the
# current leases the history leaves out (≈ 50 000: accounts opened, a rent and a charge entry each, balances
# moved), as billing.batch would write them. Run inside a transaction that is rolled back.
BATCH_PERIOD = date(2026, 11, 1)
BATCH_SQL = [
    """
    INSERT INTO billing_account (lease_id, balance, flagged_for_arrears)
    SELECT l.id, 0, false FROM tenancies_lease l
    WHERE l.status IN ('active', 'notice_given') AND l.rent > 0
      AND NOT EXISTS (SELECT 1 FROM billing_account a WHERE a.lease_id = l.id)
    ORDER BY l.id LIMIT %(accounts)s
    """,
    """
    CREATE TEMP TABLE bench_batch ON COMMIT DROP AS
    SELECT a.id AS account_id, l.rent FROM billing_account a JOIN tenancies_lease l ON l.id = a.lease_id
    WHERE NOT EXISTS (SELECT 1 FROM billing_ledgerentry le WHERE le.account_id = a.id) AND l.rent > 0
    """,
    """
    INSERT INTO billing_ledgerentry (account_id, posted_on, period, kind, label, debit, credit, created_at)
    SELECT b.account_id, (%(period)s::date + 24), %(period)s::date, x.kind, x.label, x.debit, 0, now()
    FROM bench_batch b
    CROSS JOIN LATERAL (VALUES ('rent', 'Loyer', b.rent), ('charge', 'Provisions pour charges', round(b.rent / 5, 2)))
        AS x(kind, label, debit)
    """,
    """
    UPDATE billing_account a SET balance = a.balance + b.rent + round(b.rent / 5, 2)
    FROM bench_batch b WHERE b.account_id = a.id
    """,
]


def build_history(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        (entries,) = conn.execute("SELECT COUNT(*) FROM billing_ledgerentry").fetchone()
        if entries >= ACCOUNTS * MONTHS * 2:
            log(f"ledger history present ({entries} entries)")
            return
        if entries:
            raise SystemExit(f"{entries} ledger entries already, fewer than expected: use a fresh database")
        params = {
            "accounts": ACCOUNTS,
            "first": FIRST_MONTH,
            "last": LAST_MONTH,
        }
        started = time.perf_counter()
        for sql in BUILD_SQL:
            conn.execute(sql, params)
        conn.commit()
        (entries,) = conn.execute("SELECT COUNT(*) FROM billing_ledgerentry").fetchone()
        log(f"ledger history: {entries} entries in {time.perf_counter() - started:.1f} s")


def measure_refresh(env: dict[str, str]) -> dict:
    """In this process: the raw aggregate, a full refresh, a nightly one, three after-billing ones."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, transaction

    from dashboards.providers import billing as provider
    from dashboards.services import refresh_after_billing, refresh_dashboards

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        params = {"billed": [str(k) for k in provider.BILLED_KINDS], "first": FIRST_MONTH, "scan_from": FIRST_MONTH}
        started = time.perf_counter()
        cursor.execute(provider.LEDGER_SQL, params)
        cursor.fetchall()
        raw = time.perf_counter() - started
    log(f"raw aggregate of the whole ledger by agency and month: {raw * 1000:.0f} ms")
    full = refresh_dashboards(as_of=AS_OF, full=True, reason="bench")
    log(f"full refresh: {full.duration_ms} ms, {full.rows_scanned} rows read")
    nightly = refresh_dashboards(as_of=AS_OF, reason="bench")
    log(f"nightly refresh {nightly.first_month:%m/%Y}-{nightly.last_month:%m/%Y}: {nightly.duration_ms} ms")
    after_billing = []
    for attempt in range(3):
        # As after a billing batch: the run's entries are written, then the ledger's figures refreshed.
        # All of it in a transaction rolled back afterwards, so that the base stays as built.
        with transaction.atomic():
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for sql in BATCH_SQL:
                    cursor.execute(sql, {"accounts": ACCOUNTS, "period": BATCH_PERIOD})
                cursor.execute("SELECT COUNT(*) FROM billing_ledgerentry WHERE id > %s", [nightly.last_entry_id])
                (written,) = cursor.fetchone()
            log(f"simulated billing run {attempt + 1}: {written} entries in {time.perf_counter() - started:.1f} s")
            r = refresh_after_billing(as_of=AS_OF)
            after_billing.append(r)
            log(f"after-billing refresh {r.first_month:%m/%Y}: {r.duration_ms} ms, {r.rows_scanned} rows")
            transaction.set_rollback(True)
    # The rolled-back runs leave 3 x 84 000 dead rows at the end of the ledger's indexes, which the
    # planner walks on every query that bounds a date (index end-point probes: 13 ms of planning
    # a query) and which skew the statistics. After a real run autovacuum cleans them; do it now,
    # before the pages are measured.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) billing_ledgerentry")
    connection.close()
    return {
        "raw_aggregate_s": round(raw, 3),
        "full_refresh_s": full.duration_ms / 1000,
        "full_rows": full.rows_scanned,
        "nightly_refresh_s": nightly.duration_ms / 1000,
        "nightly_rows": nightly.rows_scanned,
        "refresh_s": statistics.median(r.duration_ms for r in after_billing) / 1000,
        "refresh_rows": after_billing[-1].rows_scanned,
    }


def page_urls(agency_ids: list[int]) -> dict[str, list[str]]:
    base = "/tableaux-de-bord/"
    months = [f"{y}-{m:02d}" for y, m in [(2025 + (11 + i) // 12, (11 + i) % 12 + 1) for i in range(12)]]
    return {
        "index_month": [f"{base}?periode=month&date={m}" for m in months],
        "index_quarter": [f"{base}?periode=quarter&date={m}" for m in months[::3]],
        "index_year": [f"{base}?periode=year&date=2026-11", f"{base}?periode=year&date=2025-11"],
        "index_agency": [f"{base}?periode=month&date={m}&agence={a}" for m in months for a in agency_ids],
        "export": [
            f"{base}export/?date={m}&table={t}&format={f}"
            for m in months[-3:]
            for t in ("stock", "billing", "billing:agences")
            for f in ("csv", "xlsx")
        ],
        "detail": [f"{base}detail/?date={m}&figure=billing.collected&page={p}" for m in months[-6:] for p in (1, 2, 3)]
        + [f"{base}detail/?periode=year&date=2026-11&figure=stock.departures"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DASH_DATABASE_URL", DEFAULT_DB_URL))
    parser.add_argument("--dwellings", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--user", default="direction")
    parser.add_argument("--only", action="append", choices=PAGES)
    parser.add_argument("--skip-setup", action="store_true", help="no migrate / seed / history build")
    parser.add_argument("--no-refresh", action="store_true", help="no refresh measurement (pages only)")
    args = parser.parse_args()
    password = os.environ.get("DEMO_PASSWORD", "Locatif-Demo-2026")

    env = server_env(args.database_url)
    # The benchmark logs in with a password only (no TOTP device on the throwaway database).
    env["OTP_REQUIRED_ROLES"] = ""
    db_name = args.database_url.rsplit("/", 1)[-1]
    ensure_database(args.database_url)
    if not args.skip_setup:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage({**env, "DJANGO_DEBUG": "1"}, "seed_demo", "--dwellings", str(args.dwellings))
        build_history(args.database_url)
    if not (ROOT / "staticfiles" / "staticfiles.json").exists() or not args.skip_setup:
        manage(env, "collectstatic", "--noinput", "-v", "0")

    import psycopg

    with psycopg.connect(args.database_url) as conn:
        agency_ids = [r[0] for r in conn.execute("SELECT id FROM tenancies_agency ORDER BY id")]
        (dwellings,) = conn.execute("SELECT COUNT(*) FROM tenancies_dwelling").fetchone()
        (entries,) = conn.execute("SELECT COUNT(*) FROM billing_ledgerentry").fetchone()
    log(f"{dwellings} dwellings, {entries} ledger entries, {len(agency_ids)} agencies")

    load_before = os.getloadavg()
    log(f"load average before the run: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    refresh = {} if args.no_refresh else measure_refresh(env)

    urls = page_urls(agency_ids)
    server = Server(env, args.workers)
    results = []
    try:
        server.wait_ready()
        cookie = login(server.port, args.user, password)
        for name in PAGES:
            if args.only and name not in args.only:
                continue
            log(f"{name}: {args.warmup:g} s warm-up + {args.seconds:g} s at concurrency {args.concurrency}")
            r = run_load(
                name, urls[name], server.port, cookie, args.concurrency, args.seconds, args.warmup, server, db_name
            )
            log(f"  {r.requests} requests, p95 {r.pct(95):.1f} ms, statuses {r.statuses}, other {r.other_cpu:.0%}")
            results.append(r)
    finally:
        server.stop()

    load_after = os.getloadavg()
    print()
    print(
        f"Dashboards — {dwellings} dwellings, {entries} ledger entries; gunicorn {args.workers} sync workers, "
        f"{args.concurrency} clients, {args.seconds:g} s per page, user {args.user}"
    )
    print(f"{'page':<14} {'requests':>8} {'errors':>6} {'rps':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  target")
    for r in results:
        verdict = "ok" if r.pct(95) < TARGET_MS and not r.errors else "MISSED"
        print(
            f"{r.name:<14} {r.requests:>8} {r.errors:>6} {r.rps:>7.1f} {r.pct(50):>7.1f} {r.pct(95):>7.1f}"
            f" {r.pct(99):>7.1f}  p95 < {TARGET_MS:.0f} ms {verdict}"
        )
    if refresh:
        print(
            f"raw aggregate of the ledger (no snapshot): {refresh['raw_aggregate_s']:.3f} s; "
            f"full refresh: {refresh['full_refresh_s']:.3f} s ({refresh['full_rows']} rows read); "
            f"nightly refresh: {refresh['nightly_refresh_s']:.3f} s ({refresh['nightly_rows']} rows read); "
            f"after-billing refresh (median of 3): {refresh['refresh_s']:.3f} s ({refresh['refresh_rows']} rows read)"
        )
    print(
        "gunicorn CPU per request (ms): "
        + ", ".join(f"{r.name} {r.server_cpu * 1000 / r.rps:.1f}" for r in results if r.rps)
        + "; postgres: "
        + ", ".join(f"{r.name} {r.postgres_cpu * 1000 / r.rps:.1f}" for r in results if r.rps)
    )
    print(
        f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {' '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} CPUs"
    )
    summary = {f"{r.name}_p95_ms": round(r.pct(95), 1) for r in results}
    summary.update(refresh)
    summary.update({f"{r.name}_cpu_ms": round(r.server_cpu * 1000 / r.rps, 1) for r in results if r.rps})
    summary["loadavg_before"] = round(load_before[0], 2)
    summary["loadavg_after"] = round(load_after[0], 2)
    print(json.dumps(summary))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
