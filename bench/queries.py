#!/usr/bin/env python
"""The SQL a page runs, with each query's time and, for the slow ones, EXPLAIN ANALYZE.

    DJANGO_DEBUG=1 .venv/bin/python bench/queries.py [--database-url URL] [--user clientele.seine]
        [--explain-ms 5] [PATH ...]

Renders each PATH (default: one URL of each page measured by bench/pages.py) in-process through
the Django test client, logged in as --user, captures the queries, runs each one three times
to time it warm, and prints EXPLAIN (ANALYZE, BUFFERS) for those slower than --explain-ms.
Read-only: EXPLAIN ANALYZE is only run on SELECTs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = [
    "/logements/?typology=T3&status=let&page=7",
    "/logements/?status=vacant&page=3",
    "/logements/?financing=PLUS&page=12",
    "/logements/?commune={commune}&page=5",
    "/logements/?page=20",
    "/locataires/{household}/",
    "/recherche/?q={surname}",
    "/recherche/?q={reference}",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/locatif_big")
    parser.add_argument("--user", default="clientele.seine")
    parser.add_argument("--explain-ms", type=float, default=5.0)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tenancies.models import Dwelling, Household, Person, User

    user = User.objects.get(username=args.user)
    agencies = user.agency_ids
    sample = {
        "commune": Dwelling.objects.filter(building__estate__agency__in=agencies)
        .values_list("building__estate__commune", flat=True)
        .first(),
        "household": Household.objects.filter(agency__in=agencies, leases__isnull=False)
        .order_by("-id")
        .values_list("id", flat=True)
        .first(),
        "surname": Person.objects.filter(household__agency__in=agencies).values_list("last_name", flat=True).first(),
        "reference": Dwelling.objects.filter(building__estate__agency__in=agencies)
        .values_list("reference", flat=True)
        .last(),
    }
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", secure=True)
    client.force_login(user)
    for raw in args.paths or DEFAULT_PATHS:
        path = raw.format(**sample)
        client.get(path)  # warm caches
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(path)
            total = (time.perf_counter() - t0) * 1000
        sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        print(f"\n=== {path} -> {response.status_code}, {total:.1f} ms, {len(ctx)} queries, {sql_ms:.1f} ms SQL")
        for q in ctx.captured_queries:
            sql = q["sql"]
            timings = []
            if sql.lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    for _ in range(3):
                        t0 = time.perf_counter()
                        cursor.execute(sql)
                        cursor.fetchall()
                        timings.append((time.perf_counter() - t0) * 1000)
            best = min(timings) if timings else float(q["time"]) * 1000
            print(f"  {best:7.2f} ms  {sql[:300]}")
            if timings and best >= args.explain_ms:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(r[0] for r in cursor.fetchall())
                print("    --- full SQL:\n    " + sql)
                print("    --- plan:\n" + "\n".join("    " + line for line in plan.splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
