#!/usr/bin/env bash
# Backup and restore drill (RELIABILITY.md FT-5): dump the database and the media files, restore both
# somewhere new, and compare: row counts of every table, ledger and balance sums, media checksums.
#
#   scripts/backup_drill.sh                      # the database of $DATABASE_URL, MEDIA_ROOT or ./media
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/locatif_rel scripts/backup_drill.sh
#   scripts/backup_drill.sh --same-server [--keep]
#
# By default the dump is restored into a private, throwaway PostgreSQL 15 cluster (port
# $DRILL_PG_PORT, 55433 by default, data in a temporary folder, removed at the end), as a restore on
# a new host would be: the source server is only read by pg_dump, never written to or restarted.
# With --same-server (or when the PostgreSQL binaries are missing) the copy is a new database
# "<name>_drill" on the source server, dropped at the end unless --keep. Run it on a quiet
# database: rows written between the dump and the comparison show up as mismatches.
# Prints the figures, then as its last line one JSON object; exit status 1 on any mismatch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PRIVATE_PORT="${DRILL_PG_PORT:-55433}"
KEEP=0
SAME_SERVER=0
for arg in "$@"; do
    case "$arg" in
    --keep) KEEP=1 ;;
    --same-server) SAME_SERVER=1 ;;
    *) echo "usage: $0 [--same-server [--keep]]" >&2 && exit 2 ;;
    esac
done
[ -x "$PGBIN/initdb" ] || SAME_SERVER=1

SOURCE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/locatif}"
SOURCE_DB="${SOURCE_URL##*/}"
SOURCE_DB="${SOURCE_DB%%\?*}"
TARGET_DB="${SOURCE_DB}_drill"
MEDIA="${MEDIA_ROOT:-$ROOT/media}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/locatif-drill-XXXXXX")"
chmod 755 "$WORK"
DUMP="$WORK/$SOURCE_DB.dump"
if [ "$SAME_SERVER" = 1 ]; then
    TARGET_SERVER="${SOURCE_URL%/*}"
else
    TARGET_SERVER="postgres://postgres@127.0.0.1:$PRIVATE_PORT"
    KEEP=0
fi
TARGET_URL="$TARGET_SERVER/$TARGET_DB"

as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
private_pg() { "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$WORK/pgdata" "$@"; }

log() { printf '\033[1;34m[drill]\033[0m %s\n' "$*" >&2; }
cleanup() {
    if [ "$SAME_SERVER" = 0 ]; then
        private_pg -m immediate stop >/dev/null 2>&1 || true
    elif [ "$KEEP" = 0 ]; then
        dropdb --if-exists --force -d "$TARGET_SERVER/postgres" "$TARGET_DB" >/dev/null 2>&1 ||
            psql "$TARGET_SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$TARGET_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$SAME_SERVER" = 0 ]; then
    log "starting a private PostgreSQL on 127.0.0.1:$PRIVATE_PORT (data in $WORK/pgdata)"
    mkdir "$WORK/pgdata" "$WORK/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$WORK/pgdata" "$WORK/pg"
    "${as_pg[@]}" "$PGBIN/initdb" -D "$WORK/pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    private_pg -w -l "$WORK/pg/postgres.log" -o "-p $PRIVATE_PORT -c listen_addresses=127.0.0.1 -k $WORK/pg -c fsync=off -c synchronous_commit=off" start >/dev/null
fi

now() { date +%s.%N; }
since() { "$PY" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }

log "dumping $SOURCE_DB (pg_dump -Fc)"
t0="$(now)"
pg_dump --format=custom --no-owner --file="$DUMP" "$SOURCE_URL"
dump_s="$(since "$t0")"
dump_bytes="$(stat -c %s "$DUMP")"

media_files=0
if [ -d "$MEDIA" ]; then
    log "archiving media $MEDIA"
    tar -C "$MEDIA" -czf "$WORK/media.tar.gz" .
    (cd "$MEDIA" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$WORK/media.before"
    media_files="$(wc -l <"$WORK/media.before")"
fi

log "restoring into $TARGET_URL"
PGOPTIONS="--client-min-messages=warning" psql "$TARGET_SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$TARGET_DB\" WITH (FORCE)" >/dev/null
psql "$TARGET_SERVER/postgres" -qc "CREATE DATABASE \"$TARGET_DB\"" >/dev/null
t0="$(now)"
pg_restore --no-owner --no-acl --exit-on-error --jobs=2 --dbname="$TARGET_URL" "$DUMP"
restore_s="$(since "$t0")"

media_mismatches=0
if [ -f "$WORK/media.tar.gz" ]; then
    mkdir "$WORK/media"
    tar -C "$WORK/media" -xzf "$WORK/media.tar.gz"
    (cd "$WORK/media" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$WORK/media.after"
    media_mismatches="$(diff "$WORK/media.before" "$WORK/media.after" | grep -c '^[<>]' || true)"
fi

log "comparing"
"$PY" - "$SOURCE_URL" "$TARGET_URL" "$dump_s" "$dump_bytes" "$restore_s" "$media_files" "$media_mismatches" \
    "$([ "$SAME_SERVER" = 1 ] && echo same-server || echo private-cluster)" <<'PY'
import json
import sys

import psycopg
from psycopg import sql

source_url, target_url, dump_s, dump_bytes, restore_s, media_files, media_mismatches, restored_on = sys.argv[1:]

SUMS = {
    "ledger debit": "SELECT coalesce(sum(debit), 0) FROM billing_ledgerentry",
    "ledger credit": "SELECT coalesce(sum(credit), 0) FROM billing_ledgerentry",
    "account balances": "SELECT coalesce(sum(balance), 0) FROM billing_account",
    "notices due": "SELECT coalesce(sum(amount_due), 0) FROM billing_rentnotice",
    "payments": "SELECT coalesce(sum(amount), 0) FROM billing_payment",
    "ledger checksum": "SELECT coalesce(md5(string_agg(id || ':' || debit || ':' || credit, ',' ORDER BY id)), '')"
    " FROM billing_ledgerentry",
    "accounts off their ledger": "SELECT count(*) FROM billing_account a LEFT JOIN (SELECT account_id,"
    " sum(debit - credit) s FROM billing_ledgerentry GROUP BY 1) e ON e.account_id = a.id"
    " WHERE a.balance <> coalesce(e.s, 0)",
}


def figures(url):
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = {
            t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
            for t in tables
        }
        sums = {}
        for name, query in SUMS.items():
            try:
                sums[name] = str(conn.execute(query).fetchone()[0])
            except psycopg.errors.UndefinedTable:
                conn.rollback()
                sums[name] = "n/a"
    return counts, sums


before_counts, before_sums = figures(source_url)
after_counts, after_sums = figures(target_url)
table_mismatches = sorted(
    t for t in set(before_counts) | set(after_counts) if before_counts.get(t) != after_counts.get(t)
)
sum_mismatches = sorted(k for k in SUMS if before_sums[k] != after_sums[k])
off_ledger = after_sums["accounts off their ledger"]

print(f"{'figure':<28} {'source':>22} {'restored':>22}")
print("-" * 74)
print(f"{'tables':<28} {len(before_counts):>22} {len(after_counts):>22}")
print(f"{'rows':<28} {sum(before_counts.values()):>22} {sum(after_counts.values()):>22}")
for name in SUMS:
    print(f"{name:<28} {before_sums[name][:22]:>22} {after_sums[name][:22]:>22}")
for t in table_mismatches:
    print(f"MISMATCH {t}: {before_counts.get(t)} -> {after_counts.get(t)}")
print(f"dump {float(dump_s):.1f} s ({int(dump_bytes) / 1e6:.1f} MB), restore {float(restore_s):.1f} s")
print(f"media files {media_files}, checksum mismatches {media_mismatches}")
result = {
    "restored_on": restored_on,
    "tables": len(before_counts),
    "rows": sum(before_counts.values()),
    "table_mismatches": len(table_mismatches),
    "sum_mismatches": len(sum_mismatches),
    "accounts_off_ledger": int(off_ledger) if off_ledger.isdigit() else off_ledger,
    "ledger_debit": before_sums["ledger debit"],
    "ledger_credit": before_sums["ledger credit"],
    "dump_seconds": float(dump_s),
    "dump_mb": round(int(dump_bytes) / 1e6, 1),
    "restore_seconds": float(restore_s),
    "media_files": int(media_files),
    "media_mismatches": int(media_mismatches),
}
print(json.dumps(result))
failed = table_mismatches or sum_mismatches or int(media_mismatches) or off_ledger not in ("0", "n/a")
sys.exit(1 if failed else 0)
PY
