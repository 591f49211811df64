#!/usr/bin/env bash
# Chaos scenarios (RELIABILITY.md FT-2) on a private PostgreSQL cluster and a private Redis, so that
# restarting them disturbs no other process of the machine (the shared 5432/6379 are never touched):
#
#   (a) kill -9 a Celery pool child mid-chunk        (b) kill -9 the whole worker, restart it
#   (c) restart PostgreSQL mid-chunk                  (d) restart Redis without persistence
#
# After each: no notice missing, none twice, the ledger reconciles (tests/reliability/test_chaos.py).
# Prints one line per scenario with its time to converge, then a JSON summary as the last line.
#
#   scripts/chaos.sh            # first run: initdb + migrations of the test database (~1 min more)
#   scripts/chaos.sh -x -k redis
#
# Needs the Debian postgresql-15 binaries and redis-server; run as root (the cluster runs as the
# postgres user) or as a user that may run initdb. State lives in .data/chaos-pg (reused).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PGPORT="${CHAOS_PG_PORT:-55432}"
REDIS_PORT="${CHAOS_REDIS_PORT:-56379}"
PGDATA="$ROOT/.data/chaos-pg"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/locatif-chaos-XXXXXX")"
chmod 755 "$WORK"
mkdir "$WORK/pg" # the server's log and socket, written by the postgres user
[ "$(id -u)" -eq 0 ] && chown postgres: "$WORK/pg"
REPORT="$WORK/report.jsonl"

log() { printf '\033[1;34m[chaos]\033[0m %s\n' "$*" >&2; }

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    as_pg=(runuser -u postgres --)
fi
pg_ctl() { "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" "$@"; }

cleanup() {
    log "stopping the private PostgreSQL and Redis"
    pg_ctl -m immediate stop >/dev/null 2>&1 || true
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initdb $PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PGDATA"
    "${as_pg[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
pg_ctl -m immediate stop >/dev/null 2>&1 || true
log "starting PostgreSQL on 127.0.0.1:$PGPORT"
pg_ctl -w -l "$WORK/pg/postgres.log" -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $WORK/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null

log "starting Redis on 127.0.0.1:$REDIS_PORT (no persistence)"
redis_start="redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir $WORK"
eval "$redis_start" >/dev/null
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# What the scenarios run to restart each server (never the shared ones).
cat >"$WORK/restart_redis.sh" <<EOF
#!/usr/bin/env bash
redis-cli -p $REDIS_PORT shutdown nosave >/dev/null 2>&1 || true
for _ in \$(seq 1 50); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 || break; sleep 0.1; done
$redis_start >/dev/null
EOF
chmod +x "$WORK/restart_redis.sh"

export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/locatif_chaos"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/9"
export LOCATIF_CHAOS=1
export LOCATIF_CHAOS_REPORT="$REPORT"
export LOCATIF_CHAOS_PG_RESTART="${as_pg[*]} $PGBIN/pg_ctl -D $PGDATA -s -l $WORK/pg/postgres.log -m fast -w restart"
export LOCATIF_CHAOS_REDIS_RESTART="$WORK/restart_redis.sh"
# Anything that would use the default broker goes to the private Redis too (database 8; the
# scenarios take databases 9 and up), never to the shared 6379.
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/8"
unset CELERY_TASK_ALWAYS_EAGER CACHE_URL

started=$(date +%s)
rc=0
"$ROOT/.venv/bin/pytest" tests/reliability/test_chaos.py -m chaos -p no:cacheprovider --reuse-db -q -s "$@" || rc=$?
elapsed=$(($(date +%s) - started))

echo
printf '%-44s %12s %7s %8s %11s %11s\n' scenario "converged s" chunks missing duplicates "ledger gaps"
if [ -s "$REPORT" ]; then
    "$ROOT/.venv/bin/python" - "$REPORT" "$elapsed" "$rc" <<'PY'
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
for r in rows:
    print(f"{r['scenario']:<44} {r['converged_s']:>12} {r['chunks']:>7} {r['missing']:>8} {r['duplicates']:>11}"
          f" {r['ledger_gaps']:>11}")
print(json.dumps({"scenarios": len(rows), "passed": sys.argv[3] == "0", "total_seconds": int(sys.argv[2]),
                  "converged_s": {r["scenario"]: r["converged_s"] for r in rows},
                  "missing": sum(r["missing"] for r in rows), "duplicates": sum(r["duplicates"] for r in rows),
                  "ledger_gaps": sum(r["ledger_gaps"] for r in rows)}))
PY
else
    echo "no scenario finished"
fi
exit "$rc"
