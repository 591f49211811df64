#!/usr/bin/env python
"""Where one page spends its time, with the production settings the benchmark uses (DEBUG off).

    .venv/bin/python bench/profile_page.py [--database-url URL] [--user clientele.seine] [-n 200]
        [--sort tottime|cumulative] [--limit 40] PATH [PATH ...]

Renders the PATHs n times in-process (Django test client, logged in as --user), prints the mean
wall time per request and the cProfile table. The gunicorn/HTTP layer is not included.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/locatif_big")
    parser.add_argument("--user", default="clientele.seine")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client

    from tenancies.models import User

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(User.objects.get(username=args.user))
    for path in args.paths:  # warm: templates compiled, connections open
        status = client.get(path).status_code
        print(f"{path} -> {status}")
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for _ in range(args.n):
        for path in args.paths:
            client.get(path)
    profiler.disable()
    per_request = (time.perf_counter() - t0) / (args.n * len(args.paths)) * 1000
    print(f"{per_request:.2f} ms per request (under the profiler, which inflates it)")
    t0 = time.perf_counter()
    for _ in range(args.n):
        for path in args.paths:
            client.get(path)
    print(f"{(time.perf_counter() - t0) / (args.n * len(args.paths)) * 1000:.2f} ms per request without profiler")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
