#!/usr/bin/env python
"""Load test: staff browsing the back office, many users at once, against gunicorn with production settings.

    .venv/bin/python bench/load.py [--users 50] [--seconds 120] [--think 3.0] [--workers 4] [--threads 1]
                                   [--database-url URL] [--skip-setup]

Each simulated user (one thread, one keep-alive connection) repeats: pick an action from the mix,
send it, read the answer in full, wait a think time (uniform between 0.5 and 1.5 × --think seconds),
as staff do between two clicks. The mix (weights):

    list 30   /logements/?… filtered and paged (45 filter combinations)
    fiche 25  /locataires/<id>/ of a household of the user's agencies
    search 25 /recherche/?q= surnames, references, prefixes
    leases 10 /baux/?page=… the lease list
    pdf 10    a PDF: a rent notice (/avis/<id>.pdf) when the base is billed, otherwise a tenant's
              personal-data export (/personnes/<id>/donnees.pdf); both are WeasyPrint renders

Setup, server, login and URL fixtures are bench/pages.py's, on its own database (`locatif_load_bench`:
100 000 dwellings, `seed_demo` idempotent, then the 11/2026 billing run so that the PDFs are avis).
Users share --sessions logged-in sessions (round robin). The server runs the production settings with
the worker model of Procfile.web (4 sync workers; --threads N > 1 runs gthread workers instead).

Prints a table per action and overall, then as its last line one JSON object:
{"users", "seconds", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms", "by_action": {...}}.
Exit status 1 when a request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages  # noqa: E402 - bench/pages.py, next to this file

MIX = {"list": 30, "fiche": 25, "search": 25, "leases": 10, "pdf": 10}
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/locatif_load_bench"
BILLED_PERIOD = "2026-11"


def bill_once(database_url: str, env: dict[str, str], period: str) -> None:
    """The month's billing run (`manage.py bill`, chunks processed in-process), unless notices exist."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        (notices,) = conn.execute("SELECT COUNT(*) FROM billing_rentnotice").fetchone()
    if notices:
        pages.log(f"{notices} rent notices already: no billing run")
        return
    pages.manage({**env, "CELERY_TASK_ALWAYS_EAGER": "1"}, "bill", "--period", period)
    # Fresh statistics: without them the fiche's "last notices of the account" walks the period index.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def pdf_urls(database_url: str, username: str, rng: random.Random) -> tuple[str, list[str]]:
    """("notice" or "export", URLs) for the PDF action, within the user's agencies."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        agencies = (
            "SELECT ua.agency_id FROM tenancies_user u"
            " JOIN tenancies_user_agencies ua ON ua.user_id = u.id WHERE u.username = %s"
        )
        notices = [
            r[0]
            for r in conn.execute(
                f"""SELECT n.id FROM billing_rentnotice n JOIN tenancies_lease l ON l.id = n.lease_id
                    JOIN tenancies_household h ON h.id = l.household_id
                    WHERE h.agency_id IN ({agencies}) ORDER BY random() LIMIT 200""",  # noqa: S608 - constant SQL
                [username],
            )
        ]
        if notices:
            return "notice", [f"/avis/{i}.pdf" for i in notices]
        people = [
            r[0]
            for r in conn.execute(
                f"""SELECT p.id FROM tenancies_person p JOIN tenancies_household h ON h.id = p.household_id
                    WHERE h.agency_id IN ({agencies})
                      AND EXISTS (SELECT 1 FROM tenancies_lease l WHERE l.household_id = h.id)
                    ORDER BY random() LIMIT 200""",  # noqa: S608 - constant SQL
                [username],
            )
        ]
    rng.shuffle(people)
    return "export", [f"/personnes/{i}/donnees.pdf" for i in people]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {name: [] for name in MIX}
        self.errors: dict[str, int] = dict.fromkeys(MIX, 0)
        self.statuses: dict[str, int] = {}

    def add(self, action: str, elapsed: float, ok: bool, key: str) -> None:
        with self.lock:
            self.latencies[action].append(elapsed)
            if not ok:
                self.errors[action] += 1
            self.statuses[key] = self.statuses.get(key, 0) + 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


def run(args, port: int, cookies: list[str], urls: dict[str, list[str]]) -> tuple[Stats, float]:
    stats = Stats()
    phase = {"measuring": False, "stop": False}
    actions, weights = list(MIX), list(MIX.values())
    ready = threading.Barrier(args.users + 1)

    def user(index: int) -> None:
        rng = random.Random(index)
        headers = pages.base_headers(port, cookies[index % len(cookies)])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        ready.wait()
        time.sleep(rng.uniform(0, args.think))  # users do not all click at the same instant
        while not phase["stop"]:
            action = rng.choices(actions, weights)[0]
            path = rng.choice(urls[action])
            measuring = phase["measuring"]
            t0 = time.perf_counter()
            for attempt in (1, 2):
                reused = conn.sock is not None
                try:
                    conn.request("GET", path, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    status, location = resp.status, resp.getheader("Location", "")
                    if resp.will_close:
                        conn.close()
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                    # The server closed an idle keep-alive connection (gthread's --keep-alive) while the
                    # user was reading: a browser sends the request again on a new connection; so do we,
                    # once, and the time of both attempts counts.
                    conn.close()
                    status, location = type(exc).__name__, ""
                    if not reused or attempt == 2:
                        break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    status, location = type(exc).__name__, ""
                    break
            elapsed = time.perf_counter() - t0
            if measuring and not phase["stop"]:
                ok = isinstance(status, int) and 200 <= status < 400 and "/connexion/" not in location
                stats.add(action, elapsed, ok, f"{action} {status}")
            time.sleep(rng.uniform(0.5, 1.5) * args.think)
        conn.close()

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(args.users)]
    for t in threads:
        t.start()
    ready.wait()
    pages.log(f"{args.users} users started; {args.warmup:.0f} s warm-up, then {args.seconds:.0f} s measured")
    time.sleep(args.warmup)
    phase["measuring"] = True
    t0 = time.perf_counter()
    time.sleep(args.seconds)
    phase["stop"] = True
    wall = time.perf_counter() - t0
    for t in threads:
        t.join(timeout=70)
    return stats, wall


def report(args, stats: Stats, wall: float, pdf_kind: str, *, cpu: dict, load: tuple) -> dict:
    everything = [x for values in stats.latencies.values() for x in values]
    head = f"{'action':<12} {'requests':>8} {'errors':>6} {'rps':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    print(head)
    print("-" * len(head))
    by_action = {}
    for action in [*MIX, "all"]:
        values = everything if action == "all" else stats.latencies[action]
        errors = sum(stats.errors.values()) if action == "all" else stats.errors[action]
        row = {
            "requests": len(values),
            "errors": errors,
            "rps": round(len(values) / wall, 1),
            "p50_ms": round(pct(values, 50), 1),
            "p95_ms": round(pct(values, 95), 1),
            "p99_ms": round(pct(values, 99), 1),
        }
        if action != "all":
            by_action[action] = row
        label = f"{action} ({pdf_kind})" if action == "pdf" else action
        print(
            f"{label[:12]:<12} {row['requests']:>8} {row['errors']:>6} {row['rps']:>7.1f} {row['p50_ms']:>7.1f}"
            f" {row['p95_ms']:>7.1f} {row['p99_ms']:>7.1f}"
        )
    bad = {
        k: v
        for k, v in stats.statuses.items()
        if not k.split()[-1].isdigit() or not k.split()[-1].startswith(("2", "3"))
    }
    if bad:
        print("errors by status:", bad)
    # Steadier than the latencies on a shared machine: CPU time the server and its database spent.
    per_request = {k: round(v * 1000 / len(everything), 1) if everything else 0.0 for k, v in cpu.items()}
    print(f"gunicorn CPU per request (all actions, measured window and its tail): {per_request['gunicorn']} ms")
    before, after = load
    print(
        f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in before)};"
        f" after: {' '.join(f'{x:.2f}' for x in after)} on {os.cpu_count()} CPUs"
    )
    summary = {
        "users": args.users,
        "seconds": round(wall),
        "requests": len(everything),
        "errors": sum(stats.errors.values()),
        "rps": round(len(everything) / wall, 1),
        "p50_ms": round(pct(everything, 50), 1),
        "p95_ms": round(pct(everything, 95), 1),
        "p99_ms": round(pct(everything, 99), 1),
        "think_s": args.think,
        "workers": args.workers,
        "threads": args.threads,
        "gunicorn_cpu_ms": per_request["gunicorn"],
        "loadavg_before": round(before[0], 2),
        "loadavg_after": round(after[0], 2),
        "pdf": pdf_kind,
        "by_action": by_action,
    }
    print(json.dumps(summary))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--warmup", type=float, default=5)
    # Staff read a page for a few seconds before the next click: 3 s on average gives 50 users about
    # 15 requests per second, a busy afternoon for a landlord of this size.
    parser.add_argument("--think", type=float, default=3.0, help="mean think time between two clicks (s)")
    # As Procfile.web: 4 sync workers (2 per core). A PDF render is CPU-bound Python: in a gthread worker it
    # holds the GIL and stalls the process's other threads; separate processes share the cores fairly.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker: > 1 runs gthread workers")
    parser.add_argument("--period", default=BILLED_PERIOD, help="month billed at setup (AAAA-MM)")
    parser.add_argument("--sessions", type=int, default=5, help="logged-in sessions shared by the users")
    parser.add_argument("--dwellings", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_DB_URL))
    parser.add_argument("--user", default=pages.DEMO_USER)
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    env = pages.server_env(args.database_url)
    pages.prepare(args, env)
    if not args.skip_setup:
        bill_once(args.database_url, env, args.period)
    rng = random.Random(args.seed)
    fixtures = pages.load_fixtures(args.database_url, args.user, rng)
    pdf_kind, pdfs = pdf_urls(args.database_url, args.user, rng)
    urls = {
        "list": fixtures.list_urls,
        "fiche": fixtures.fiche_urls,
        "search": fixtures.search_urls,
        "leases": [f"/baux/?page={n}" for n in range(1, 21)],
        "pdf": pdfs,
    }
    pages.log(f"{fixtures.dwellings} dwellings and {fixtures.households} households in the user's agencies")
    worker_args = ("--worker-class", "gthread", "--threads", str(args.threads)) if args.threads > 1 else ()
    load_before = os.getloadavg()
    pages.log(f"load average before the run: {' '.join(f'{x:.2f}' for x in load_before)}")
    server = pages.Server(env, args.workers, worker_args)
    try:
        server.wait_ready()
        password = os.environ.get("DEMO_PASSWORD", "Locatif-Demo-2026")
        cookies = [pages.login(server.port, args.user, password) for _ in range(max(1, args.sessions))]
        workers = server.worker_pids()
        cpu0 = pages.process_cpu(workers)
        stats, wall = run(args, server.port, cookies, urls)
        # Postgres is left out: its backends come and go with the sync workers' connections between two
        # samples, which then miss most of their CPU (bench/pages.py measures it per endpoint).
        cpu = {"gunicorn": pages.cpu_used(cpu0, pages.process_cpu(workers))}
    finally:
        server.stop()
    load_after = os.getloadavg()
    summary = report(args, stats, wall, pdf_kind, cpu=cpu, load=(load_before, load_after))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
