"""Embedded PostgreSQL for development, used by scripts/lib.sh as a last resort.

Usage:
    python scripts/embedded_pg.py start [PGDATA]   # prints "<uri> <started|reused>"
    python scripts/embedded_pg.py stop [PGDATA]

The server comes from the ``pgserver`` package (PostgreSQL binaries shipped in
the wheel). It listens on a Unix socket only; the printed URI carries the
socket directory as ``?host=...``, which libpq, psycopg and django-environ
understand. The server keeps running after this helper exits
(``cleanup_mode=None``): ``stop`` shuts it down.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

# platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

DEFAULT_PGDATA = Path(__file__).resolve().parent.parent / ".data" / "pgdata"


def start(pgdata: Path) -> None:
    import pgserver
    from pgserver.utils import PostmasterInfo

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    before = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    was_running = before is not None and before.is_running()
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    print(server.get_uri(), "reused" if was_running else "started")


def stop(pgdata: Path) -> None:
    from pgserver import pg_ctl
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return
    # As root, pgserver runs PostgreSQL as the "pgserver" system user.
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    pgdata = Path(argv[1]) if len(argv) == 2 else DEFAULT_PGDATA
    pgdata = pgdata.expanduser().resolve()
    if argv[0] == "start":
        start(pgdata)
    else:
        stop(pgdata)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
