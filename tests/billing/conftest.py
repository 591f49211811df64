"""Real infrastructure around a test: a dedicated Redis database, Celery workers run as subprocesses on the
test database, the in-process Celery app switched between eager and broker dispatch, slowed-down statements.

Only for `django_db(transaction=True)` tests: a worker in another process sees committed rows only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
# Redis databases for broker and results: each test using them takes the first free one of these (a lock key
# in that database), so that concurrent test runs never share queues; emptied before and after the test.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
TEST_REDIS_DATABASES = 7  # TEST_REDIS_URL's database number and the next ones (Redis has 16 by default)
REDIS_LOCK_KEY = "locatif:test-lock"


def wait_until(predicate, *, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value (returned); AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


def current_database_url() -> str:
    """The URL of the database this test uses (pytest-django's test_<name>), for a subprocess."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _empty_but_lock(client) -> None:
    keys = [key for key in client.scan_iter(count=1000) if key != REDIS_LOCK_KEY.encode()]
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_url():
    """URL of a Redis database taken for this test alone, empty at the start and at the end.

    Skips the test when Redis is down; fails when every candidate database is taken.
    """
    import redis

    parts = urlsplit(TEST_REDIS_URL)
    first = int(parts.path.lstrip("/") or 0)
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    for number in range(first, first + TEST_REDIS_DATABASES):
        url = urlunsplit(parts._replace(path=f"/{number}"))
        client = redis.Redis.from_url(url)
        try:
            taken = client.set(REDIS_LOCK_KEY, token, nx=True, ex=600)
        except redis.ConnectionError as exc:
            client.close()
            pytest.fail(f"Redis unreachable at {url}: {exc} (.ci/run starts it)")
        if taken:
            break
        client.close()
    else:
        pytest.fail(f"Redis databases {first}-{first + TEST_REDIS_DATABASES - 1} are all taken by other test runs")
    _empty_but_lock(client)
    yield url
    _empty_but_lock(client)
    if client.get(REDIS_LOCK_KEY) == token.encode():
        client.delete(REDIS_LOCK_KEY)
    client.close()


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _reset_celery_connections(app) -> None:
    """Forget the app's cached broker pools and result backend, so that the next send uses the current conf.

    app.close() is not enough: it keeps amqp's producer pool, bound to the broker of the first send (even an
    eager send takes a producer). The pools themselves are kombu's, shared per broker URL: left open.
    """
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


@pytest.fixture
def celery_dispatch(redis_url):
    """Tasks sent by this process go to the Redis broker at `redis_url` instead of running eagerly."""
    from config.celery import app

    keys = ("task_always_eager", "broker_url", "result_backend")
    saved = {key: app.conf[key] for key in keys}
    _reset_celery_connections(app)
    # No result backend here: the caller never waits on a result (the worker stores them with its own conf).
    app.conf.update(task_always_eager=False, broker_url=redis_url, result_backend=None)
    # Never let a test's tasks leak to another broker database (a developer's worker would run them).
    producer_url = app.amqp.producer_pool.connections.connection.as_uri(include_password=True)
    assert producer_url == redis_url, (producer_url, redis_url)
    yield app
    _reset_celery_connections(app)
    app.conf.update(saved)


@pytest.fixture
def celery_eager():
    """Tasks sent by this process run at once, in the sending thread (whatever the environment says)."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = saved


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie is dead, just not reaped yet


@dataclass
class Worker:
    """One `celery worker` subprocess, leader of its own process group (main process + pool children)."""

    process: subprocess.Popen
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def children(self) -> list[int]:
        """The pool processes (prefork children) of the main process."""
        return _children(self.pid)

    def wait_ready(self, timeout: float = 30) -> None:
        def ready():
            assert self.alive(), f"worker exited with {self.process.returncode}:\n{self.log()}"
            return " ready." in self.log() and self.children()

        wait_until(ready, timeout=timeout, message=f"the Celery worker to be ready; log:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the main process and its children at once (a crashed host or an OOM kill)."""
        group = self.children()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        wait_until(lambda: not any(_alive(pid) for pid in group), timeout=10, message="the pool children to die")

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM to the group), then SIGKILL when it does not end in time."""
        if not self.alive():
            return
        group = self.children()
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid in group:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


class CeleryWorkers:
    """Starts real Celery workers on the test database and the dedicated Redis database; stops them all."""

    app = "tests.billing.kill_app"  # the project's app with fast restore sweeps (see that module)
    visibility_timeout = 8  # seconds: how long an unacknowledged message waits before Redis hands it out again

    def __init__(self, redis_url: str, log_dir: Path):
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.workers: list[Worker] = []

    def env(self, visibility_timeout: int) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "LOCATIF_TESTING": "1",
            "DATABASE_URL": current_database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "REDIS_URL": self.redis_url,
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, *extra_args: str, concurrency: int = 1, visibility_timeout: int | None = None) -> Worker:
        index = len(self.workers) + 1
        log_path = self.log_dir / f"worker-{index}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            self.app,
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{index}-{uuid.uuid4().hex[:8]}@%h",
            *extra_args,
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - fixed command line
                command,
                cwd=REPO,
                env=self.env(visibility_timeout or self.visibility_timeout),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log_path)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name} (pid {w.pid})\n{w.log()}" for w in self.workers)


@pytest.fixture
def celery_workers(transactional_db, redis_url, tmp_path):
    """Factory of real Celery worker subprocesses; every one is stopped before the database is flushed."""
    workers = CeleryWorkers(redis_url, tmp_path)
    yield workers
    workers.stop_all()


@pytest.fixture
def slow_statements(transactional_db):
    """Factory: slow(table, seconds) makes every INSERT statement on `table` sleep, inside its transaction.

    A statement-level AFTER trigger runs pg_sleep, so a process killed during the sleep dies with the statement's
    rows written but not committed. The triggers are dropped at teardown.
    """
    created: list[tuple[str, str]] = []
    quote_name = connection.ops.quote_name

    def slow(table: str, seconds: float, operation: str = "INSERT") -> None:
        assert operation in {"INSERT", "UPDATE", "DELETE"}
        name = f"test_slow_{table}_{operation.lower()}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE FUNCTION {quote_name(name)}() RETURNS trigger LANGUAGE plpgsql "
                f"AS $$ BEGIN PERFORM pg_sleep({float(seconds)}); RETURN NULL; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {quote_name(name)} AFTER {operation} ON {quote_name(table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {quote_name(name)}()"
            )
        created.append((table, name))

    yield slow
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '20s'")
        for table, name in created:
            cursor.execute(f"DROP TRIGGER IF EXISTS {quote_name(name)} ON {quote_name(table)}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {quote_name(name)}()")
        cursor.execute("RESET lock_timeout")
