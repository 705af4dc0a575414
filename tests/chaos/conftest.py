"""Fault tests: real processes (our own Redis, hostile HTTP servers, a real worker) started and broken here.

They assert what a user would notice — pages answer, good data is kept, a source resumes — never timings.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/chaos/" in str(item.fspath):
            item.add_marker(pytest.mark.chaos)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisProcess:
    """A redis-server of the test's own, which the test may kill or freeze."""

    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, and nothing ever answers."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    if not Path(REDIS_SERVER).exists():
        pytest.fail(f"redis-server not found at {REDIS_SERVER}: the fault tests start their own Redis")
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("our own redis-server did not start")
    redis = RedisProcess(port=port, process=process)
    yield redis
    if process.poll() is None:
        redis.thaw()
        process.kill()
        process.wait(timeout=10)


BASE_DIR = Path(__file__).resolve().parent.parent.parent
CELERY = Path(sys.executable).parent / "celery"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll until `predicate` returns something true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


class AntsServer:
    """An ANTS editor API on 127.0.0.1, in a thread of the test: the test sets what it answers and may hold
    the slot requests (`hold()`) until it lets them go (`release()`)."""

    def __init__(self) -> None:
        self.meeting_points: list[dict[str, object]] = []
        self.slots: dict[str, list[dict[str, object]]] = {}
        self.left_out: set[str] = set()  # answered as if the editor did not know them: no key at all
        self.failing: set[str] = set()  # a request asking for one of these answers HTTP 500
        self.slot_requested = threading.Event()
        self._released = threading.Event()
        self._released.set()
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}/api"

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ants = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                if url.path == "/api/getManagedMeetingPoints":
                    payload: object = ants.meeting_points
                elif url.path == "/api/availableTimeSlots":
                    ants.slot_requested.set()
                    # Bounded: a test that forgets to release still ends.
                    ants._released.wait(timeout=60)
                    ids = parse_qs(url.query).get("meeting_point_ids", [])
                    if ants.failing.intersection(ids):
                        self.send_error(500)
                        return
                    payload = {mp: ants.slots.get(mp, []) for mp in ids if mp not in ants.left_out}
                else:
                    self.send_error(404)
                    return
                body = json.dumps(payload).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the worker was killed while it waited for this answer
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def ants_server() -> Iterator[AntsServer]:
    server = AntsServer()
    yield server
    server.close()


class Worker:
    """A real `celery worker --pool threads` process, as production runs it, logging to a file."""

    def __init__(self, *, name: str, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "rdvpasseport",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--hostname",
                f"{name}@chaos",
                # Nothing to synchronise with other workers: start faster.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker consumes tasks; its worker_ready handlers (closing interrupted runs) have run."""

        def ready() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            return " ready." in self.log()

        wait_for(ready, timeout=timeout, what="the worker to be ready")

    def kill(self) -> None:
        """kill -9: no shutdown handler runs, nothing is acknowledged or recorded."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def worker_env(*, database_url: str, redis_url: str, ants: AntsServer, **values: str) -> dict[str, str]:
    """The environment of a production worker (base settings), on the test's database, Redis and source."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "rdvpasseport.settings.base",
        "DEBUG": "0",
        "SECRET_KEY": "chaos-tests-secret-key",
        "LOG_FORMAT": "plain",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SCRAPER_ALLOWED_HOSTS": ants.host,
        "SCRAPER_POLITE_DELAY": "0",
        "SCRAPER_TIMEOUT": "10",
        **values,
    }


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers with `workers(name, env)`; every one still running is stopped at the end."""
    started: list[Worker] = []

    def start(name: str, env: dict[str, str]) -> Worker:
        worker = Worker(name=name, env=env, log_path=tmp_path / f"{name}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def send_scrape(broker_url: str, source_ids: list[int]) -> None:
    """Send scrape tasks to the broker the workers of the test listen to (not the suite's own)."""
    from rdvpasseport.celery import app

    with app.connection_for_write(broker_url) as connection:
        for source_id in source_ids:
            app.send_task("scrapers.tasks.source_scrape", args=(source_id,), connection=connection)


@dataclass
class PostgresProcess:
    """A PostgreSQL cluster of the test's own (run as the postgres system user), which the test may stop."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off"
        )
        done = self._pg_ctl(
            "start", "-w", "-t", "30", "-l", str(self.directory / "postgres.log"), "-o", options
        )
        assert done.returncode == 0, done.stdout + done.stderr + self.server_log()

    def stop(self) -> None:
        """pg_ctl stop -m immediate: every connection is cut at once, as in a crash."""
        done = self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")
        assert done.returncode == 0, done.stdout + done.stderr

    def running(self) -> bool:
        return self._pg_ctl("status").returncode == 0

    def server_log(self) -> str:
        path = self.directory / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def own_postgres() -> Iterator[PostgresProcess]:
    initdb = PG_BIN / "initdb"
    if not initdb.exists() or shutil.which("runuser") is None:
        pytest.skip(f"{initdb} or runuser is missing: the database outage test starts its own PostgreSQL")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user to run our own PostgreSQL cluster")
    # Not under tmp_path: pytest's base folder is readable by root only, and the cluster runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="rdvp-chaos-pg-"))
    os.chown(directory, owner.pw_uid, owner.pw_gid)
    postgres = PostgresProcess(directory=directory, port=free_port())
    try:
        created = subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(initdb),
                "-D",
                str(directory / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if created.returncode != 0:
            pytest.skip(f"initdb cannot run on this machine: {created.stderr.strip()[-500:]}")
        postgres.start()
        yield postgres
    finally:
        if postgres.running():
            postgres._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")
        shutil.rmtree(directory, ignore_errors=True)
