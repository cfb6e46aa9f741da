"""Run the example site in gunicorn processes on loopback, sharing the test database.

Tests of several processes and of concurrency need real app servers: separate processes with
their own database connections, as behind a load balancer. :func:`app_servers` starts them on free
loopback ports and stops them (by the process id it started) when the ``with`` block ends.

The processes use the database the test runs on:

* PostgreSQL: the test database itself (pytest-django's ``test_<name>``); data committed by a
  transactional test is visible to the servers, and what they write is visible to the test.
* SQLite: the test database lives in memory, out of reach of other processes. :func:`shared_sqlite`
  copies it into a file (SQLite's online backup) for the servers, and copies the file back when the
  ``with`` block ends, so the test reads what the servers wrote with the ORM as usual.

Use both only in ``django_db(transaction=True)`` tests: data must be committed to be seen.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import connection

from wagtail_lti.conf import lti_settings


ROOT = Path(__file__).resolve().parents[2]
READY_PATH = "/lti/1.3/token/"  # answers 405 to GET without touching the database


def pg_and_redis_configured() -> bool:
    """Whether this test run uses PostgreSQL and Redis (``DATABASE_URL`` / ``CACHE_URL``)."""
    database = os.environ.get("DATABASE_URL", "")
    cache = os.environ.get("CACHE_URL", "")
    return database.startswith(("postgres://", "postgresql://", "pgsql://")) and cache.startswith(
        ("redis://", "rediss://")
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_url() -> str:
    """A ``DATABASE_URL`` naming the database the test process is connected to."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def database_env(sqlite_path: str | None = None) -> dict[str, str]:
    """Environment variables pointing a server process at the test's database."""
    if connection.vendor == "postgresql":
        return {"DATABASE_URL": postgres_url()}
    if connection.vendor == "sqlite":
        if sqlite_path is None:
            raise RuntimeError("SQLite: share the database with shared_sqlite() first.")
        return {"SQLITE_PATH": sqlite_path}
    raise RuntimeError(f"No app server support for {connection.vendor}")


@contextlib.contextmanager
def shared_sqlite() -> Iterator[str | None]:
    """SQLite: the in-memory test database copied to a file for the servers, and back afterwards.

    Yields the file's path (``None`` on other databases, where nothing needs copying). Start the
    servers inside the block, after the test's data is created, and stop them before it ends.
    """
    if connection.vendor != "sqlite":
        yield None
        return
    connection.ensure_connection()
    with tempfile.TemporaryDirectory(prefix="wagtail-lti-db-") as directory:
        path = os.path.join(directory, "db.sqlite3")
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        try:
            yield path
        finally:
            source = sqlite3.connect(path)
            try:
                source.backup(connection.connection)
            finally:
                source.close()


@dataclass
class AppServer:
    """One gunicorn master process (and its workers) serving the example site."""

    name: str
    port: int
    process: subprocess.Popen
    log_dir: Path
    extra: dict = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def access_log(self) -> str:
        path = self.log_dir / f"{self.name}-access.log"
        return path.read_text() if path.exists() else ""

    @property
    def error_log(self) -> str:
        """gunicorn's error log and the site's own log output (standard error)."""
        text = ""
        for suffix in ("error", "stderr"):
            path = self.log_dir / f"{self.name}-{suffix}.log"
            text += path.read_text(errors="replace") if path.exists() else ""
        return text


def server_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server process: this test run's settings, plus ``overrides``.

    That includes the cache key prefix of this test process (``CACHE_KEY_PREFIX``).
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="example_site.settings",
        SECRET_KEY=settings.SECRET_KEY,
        PYTHONPATH=os.pathsep.join(
            [str(ROOT), str(ROOT / "example_site"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        PYTHONUNBUFFERED="1",
    )
    if lti_settings.ENCRYPTION_KEY:
        env["LTI_ENCRYPTION_KEY"] = lti_settings.ENCRYPTION_KEY
    # The test's own cache key prefix (per xdist worker, tests/conftest.py), so a server shares
    # keys with the test that started it and with nobody else.
    prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX")
    if prefix is not None:
        env["CACHE_KEY_PREFIX"] = prefix
    env.update(overrides or {})
    return env


def start_server(
    name: str,
    port: int,
    env: dict[str, str],
    log_dir: Path,
    *,
    workers: int = 1,
    threads: int = 1,
) -> AppServer:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "example_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        # Import the site once in the master, then fork the workers: starts in about half the time.
        "--preload",
        "--access-logfile",
        str(log_dir / f"{name}-access.log"),
        "--error-logfile",
        str(log_dir / f"{name}-error.log"),
        "--log-level",
        "warning",
    ]
    with open(log_dir / f"{name}-stderr.log", "wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            command,
            cwd=ROOT / "example_site",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    return AppServer(name=name, port=port, process=process, log_dir=log_dir)


def wait_ready(server: AppServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited ({server.process.returncode}):\n" + server.error_log
            )
        try:
            if requests.get(server.url(READY_PATH), timeout=2).status_code == 405:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer within {timeout} s:\n{server.error_log}")


def stop_server(server: AppServer) -> None:
    """Stop the gunicorn master we started (it stops its workers); then its process group."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # Workers of this master only: the group was created for it (start_new_session).
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def app_servers(
    count: int,
    *,
    env: dict[str, str] | None = None,
    ports: list[int] | None = None,
    workers: int = 1,
    threads: int = 1,
    log_dir: Path | None = None,
) -> Iterator[list[AppServer]]:
    """Start ``count`` gunicorn servers of the example site; stop them all on exit.

    ``env``: environment variables on top of this run's (see :func:`server_env`), e.g.
    :func:`database_env` and ``LTI_ISSUER``.
    """
    ports = ports or [free_port() for _ in range(count)]
    env = server_env(env)
    with contextlib.ExitStack() as stack:
        if log_dir is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wagtail-lti-")))
        servers: list[AppServer] = []
        try:
            for index, port in enumerate(ports):
                servers.append(
                    start_server(
                        f"server-{chr(ord('a') + index)}",
                        port,
                        env,
                        log_dir,
                        workers=workers,
                        threads=threads,
                    )
                )
            for server in servers:
                wait_ready(server)
            yield servers
        finally:
            for server in servers:
                stop_server(server)
