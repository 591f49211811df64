# shellcheck shell=bash
# Shared helpers for scripts/run and scripts/test. Source it, don't execute it.
#
#   ensure_system_packages [extra-debian-package ...]
#   ensure_venv
#   ensure_postgres      -> exports DATABASE_URL
#   ensure_redis         -> exports REDIS_URL, or CELERY_TASK_ALWAYS_EAGER=1
#   stop_started_services  (call from an EXIT trap: stops only what we started)

LOCATIF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCATIF_DATA="$LOCATIF_ROOT/.data"
LOCATIF_VENV="$LOCATIF_ROOT/.venv"

# Services this shell started itself, stopped again by stop_started_services.
LOCATIF_STARTED_PG_CLUSTER=""   # "<version> <name>" of a Debian cluster we started
LOCATIF_STARTED_PG_EMBEDDED=0   # 1 if we started the pgserver instance in .data/pgdata
LOCATIF_STARTED_REDIS=""        # "<host> <port>" of a redis-server we started

LOCATIF_BASE_PACKAGES=(postgresql redis-server libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)

log() { printf '\033[1;34m[locatif]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m[locatif]\033[0m %s\n' "$*" >&2; }
die() {
    printf '\033[1;31m[locatif]\033[0m %s\n' "$*" >&2
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

_pkg_installed() {
    # No pipe into grep -q: with pipefail, an early grep exit could fail dpkg.
    [[ "$(dpkg -s "$1" 2>/dev/null)" == *"Status: install ok installed"* ]]
}

# Install the Debian packages the app needs (plus any given as arguments),
# only when running as root on a machine with apt-get, and only if missing.
ensure_system_packages() {
    local pkgs=("${LOCATIF_BASE_PACKAGES[@]}" "$@") missing=() p
    if ! is_root || ! have apt-get || ! have dpkg; then
        for p in "${pkgs[@]}"; do
            if have dpkg && ! _pkg_installed "$p"; then missing+=("$p"); fi
        done
        if [ ${#missing[@]} -gt 0 ]; then
            warn "Not root (or no apt-get): not installing ${missing[*]}; falling back where possible."
        fi
        return 0
    fi
    # A venv needs ensurepip, which Debian ships separately.
    if have python3 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        pkgs+=(python3-venv)
    fi
    for p in "${pkgs[@]}"; do
        _pkg_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    log "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Create .venv if needed and (re)install the project when pyproject.toml
# changed since the last install. Puts .venv/bin first on PATH.
ensure_venv() {
    local python="${PYTHON:-}" want have_sha
    if [ ! -x "$LOCATIF_VENV/bin/python" ]; then
        if [ -z "$python" ]; then
            if have python3.11; then python=python3.11; else python=python3; fi
        fi
        have "$python" || die "$python not found: install Python 3.11."
        log "Creating virtualenv .venv with $python"
        "$python" -m venv "$LOCATIF_VENV"
    fi
    if ! "$LOCATIF_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        die ".venv does not run Python 3.11 (pyproject.toml requires it): remove .venv and set PYTHON=/path/to/python3.11."
    fi
    want="$(sha256sum "$LOCATIF_ROOT/pyproject.toml" | cut -d' ' -f1)"
    have_sha="$(cat "$LOCATIF_VENV/.pyproject.sha" 2>/dev/null || true)"
    if [ "$want" != "$have_sha" ]; then
        log "Installing Python dependencies (pip install -e '.[dev]')"
        "$LOCATIF_VENV/bin/python" -m pip install -q --disable-pip-version-check -e "${LOCATIF_ROOT}[dev]"
        printf '%s\n' "$want" >"$LOCATIF_VENV/.pyproject.sha"
    fi
    export VIRTUAL_ENV="$LOCATIF_VENV"
    case ":$PATH:" in
    *":$LOCATIF_VENV/bin:"*) ;;
    *) export PATH="$LOCATIF_VENV/bin:$PATH" ;;
    esac
}

# --- PostgreSQL -------------------------------------------------------------

_pg_ready_local() {
    if have pg_isready; then
        pg_isready -q -h 127.0.0.1 -p 5432 -t 3
    else # no client tools: is anything listening at all?
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

# Newest Debian cluster "<version> main", or nothing.
_pg_debian_cluster() {
    local ver
    [ -d /etc/postgresql ] || return 0
    # shellcheck disable=SC2012
    for ver in $(ls /etc/postgresql 2>/dev/null | sort -rV); do
        if [ -f "/etc/postgresql/$ver/main/postgresql.conf" ]; then
            echo "$ver main"
            return 0
        fi
    done
}

# Connect to the server of URL and create URL's database if missing.
# Exit status: 0 ok, 3 authentication failed, 1 other error.
_pg_create_db() {
    "$LOCATIF_VENV/bin/python" - "$1" <<'PY'
import sys

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

url = sys.argv[1]
dbname = conninfo_to_dict(url).get("dbname") or "postgres"
try:
    conn = psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=10)
except psycopg.OperationalError as exc:
    msg = str(exc)
    print(msg.strip(), file=sys.stderr)
    auth = "authentication failed" in msg or "no password supplied" in msg
    sys.exit(3 if auth else 1)
with conn:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        print(f"created database {dbname}", file=sys.stderr)
PY
}

# Debian's default pg_hba.conf asks for a password over TCP: give the local
# "postgres" role the dev password "postgres" (root only, local cluster only).
_pg_set_dev_password() {
    is_root && have runuser && id postgres >/dev/null 2>&1 || return 1
    warn "Password authentication required on 127.0.0.1: setting dev password 'postgres' for role postgres."
    runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
}

# Export DATABASE_URL: the given one; else a server on 127.0.0.1:5432; else the
# local Debian cluster (started here); else an embedded pgserver in .data/pgdata.
ensure_postgres() {
    local url="" cluster rc out
    if [ -n "${DATABASE_URL:-}" ]; then
        log "PostgreSQL: using DATABASE_URL from the environment"
        export DATABASE_URL
        _pg_create_db "$DATABASE_URL" || warn "Could not check/create the database of DATABASE_URL"
        return 0
    fi
    if _pg_ready_local; then
        log "PostgreSQL: server answering on 127.0.0.1:5432"
        url="postgres://postgres@127.0.0.1:5432/locatif"
    else
        cluster="$(_pg_debian_cluster)"
        if [ -n "$cluster" ] && have pg_ctlcluster; then
            log "PostgreSQL: starting cluster $cluster"
            # shellcheck disable=SC2086  # "<version> <name>"
            if pg_ctlcluster --skip-systemctl-redirect $cluster start; then
                LOCATIF_STARTED_PG_CLUSTER="$cluster"
                for _ in $(seq 1 30); do
                    _pg_ready_local && break
                    sleep 0.5
                done
                if _pg_ready_local; then
                    url="postgres://postgres@127.0.0.1:5432/locatif"
                else
                    warn "PostgreSQL cluster $cluster started but does not answer on 127.0.0.1:5432"
                fi
            else
                warn "Could not start PostgreSQL cluster $cluster"
            fi
        fi
    fi
    if [ -z "$url" ]; then
        log "PostgreSQL: starting embedded server (pgserver) in $LOCATIF_DATA/pgdata"
        mkdir -p "$LOCATIF_DATA"
        out="$("$LOCATIF_VENV/bin/python" "$LOCATIF_ROOT/scripts/embedded_pg.py" start "$LOCATIF_DATA/pgdata")" ||
            die "Could not start the embedded PostgreSQL (see $LOCATIF_DATA/pgdata/log)"
        [ "${out##* }" = started ] && LOCATIF_STARTED_PG_EMBEDDED=1
        url="${out% *}"
        # pgserver's URI names the "postgres" database: point it at "locatif".
        url="$(printf '%s' "$url" | sed -E 's#^(postgres(ql)?://[^/]*)/[^?]*#\1/locatif#')"
    fi
    rc=0
    _pg_create_db "$url" || rc=$?
    if [ "$rc" -eq 3 ] && [[ "$url" == postgres://postgres@127.0.0.1:* ]] && _pg_set_dev_password; then
        url="postgres://postgres:postgres@127.0.0.1:5432/locatif"
        rc=0
        _pg_create_db "$url" || rc=$?
    fi
    [ "$rc" -eq 0 ] || die "PostgreSQL at $url is not usable: set DATABASE_URL."
    export DATABASE_URL="$url"
    log "DATABASE_URL=$DATABASE_URL"
}

# --- Redis ------------------------------------------------------------------

_redis_ping() { # host port
    if have redis-cli; then
        [ "$(redis-cli -h "$1" -p "$2" ping 2>/dev/null)" = PONG ]
    elif [ -x "$LOCATIF_VENV/bin/python" ]; then
        "$LOCATIF_VENV/bin/python" -c 'import sys, redis; redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), socket_timeout=2).ping()' "$1" "$2" >/dev/null 2>&1
    else
        return 1
    fi
}

# Export REDIS_URL: the given one; else a server on 127.0.0.1:6379; else a
# redis-server started here; else CELERY_TASK_ALWAYS_EAGER=1 (no worker/beat).
ensure_redis() {
    if [ -n "${REDIS_URL:-}" ]; then
        log "Redis: using REDIS_URL from the environment"
        export REDIS_URL
        return 0
    fi
    if _redis_ping 127.0.0.1 6379; then
        log "Redis: server answering on 127.0.0.1:6379"
    elif have redis-server; then
        log "Redis: starting redis-server on 127.0.0.1:6379"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
            --dir "${TMPDIR:-/tmp}" >/dev/null
        LOCATIF_STARTED_REDIS="127.0.0.1 6379"
        for _ in $(seq 1 30); do
            _redis_ping 127.0.0.1 6379 && break
            sleep 0.2
        done
        _redis_ping 127.0.0.1 6379 || die "redis-server was started but does not answer on 127.0.0.1:6379"
    else
        warn "Redis unavailable: Celery tasks run eagerly in-process (CELERY_TASK_ALWAYS_EAGER=1), no worker/beat."
        export CELERY_TASK_ALWAYS_EAGER=1
        return 0
    fi
    export REDIS_URL="redis://127.0.0.1:6379/0"
    log "REDIS_URL=$REDIS_URL"
}

# Stop whatever ensure_postgres / ensure_redis started. Safe to call twice.
stop_started_services() {
    if [ -n "$LOCATIF_STARTED_REDIS" ]; then
        log "Stopping the redis-server we started"
        # shellcheck disable=SC2086
        if have redis-cli; then
            redis-cli -h ${LOCATIF_STARTED_REDIS% *} -p ${LOCATIF_STARTED_REDIS#* } shutdown nosave >/dev/null 2>&1 || true
        else
            "$LOCATIF_VENV/bin/python" -c 'import redis; redis.Redis(host="127.0.0.1", port=6379).shutdown(nosave=True)' >/dev/null 2>&1 || true
        fi
        LOCATIF_STARTED_REDIS=""
    fi
    if [ -n "$LOCATIF_STARTED_PG_CLUSTER" ]; then
        log "Stopping the PostgreSQL cluster we started ($LOCATIF_STARTED_PG_CLUSTER)"
        # shellcheck disable=SC2086
        pg_ctlcluster --skip-systemctl-redirect $LOCATIF_STARTED_PG_CLUSTER stop >/dev/null 2>&1 || true
        LOCATIF_STARTED_PG_CLUSTER=""
    fi
    if [ "$LOCATIF_STARTED_PG_EMBEDDED" = 1 ]; then
        log "Stopping the embedded PostgreSQL"
        "$LOCATIF_VENV/bin/python" "$LOCATIF_ROOT/scripts/embedded_pg.py" stop "$LOCATIF_DATA/pgdata" >/dev/null 2>&1 || true
        LOCATIF_STARTED_PG_EMBEDDED=0
    fi
}
