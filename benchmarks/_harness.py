"""What the benchmarks share: Django set up on a throw-away database, gunicorn servers, machine facts.

Import this module first (it sets the environment before Django loads the example settings)::

    from _harness import harness   # from a script in benchmarks/

``DATABASE_URL`` (PostgreSQL) is honoured: the benchmark then creates its own database next to the
named one (``<name>_bench``, with the role's CREATEDB right, as the test suite does) and drops it
at the end; without it, a SQLite file in a temporary directory is used. Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "example_site")]
_TMP = tempfile.TemporaryDirectory(prefix="wagtail-lti-bench-")
if not os.environ.get("DATABASE_URL"):
    os.environ["SQLITE_PATH"] = str(Path(_TMP.name) / "unused.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")
os.environ["DEBUG"] = "0"  # as in production: no query log, no debug pages
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

import django  # noqa: E402


django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A fresh, migrated database for this run; yields its name. Dropped afterwards."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        name = str(Path(_TMP.name) / "bench.sqlite3")
    else:
        name = f"{db['NAME']}_bench"
    db.setdefault("TEST", {})["NAME"] = name
    old_name = db["NAME"]
    created = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=False
    )
    try:
        yield created
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def server_database_env() -> dict[str, str]:
    """Environment variables pointing a server process at the benchmark's database."""
    from tests.support.app_servers import database_env

    if connection.vendor == "sqlite":
        return database_env(settings.DATABASES["default"]["NAME"])
    return database_env()


def _command(*args: str) -> str:
    try:
        return subprocess.run(  # noqa: S603 - fixed commands
            list(args), capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, str]:
    """The facts that go with a figure: CPUs, memory, versions, database, load."""
    import wagtail

    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kb = next((line.split()[1] for line in meminfo.splitlines() if "MemTotal" in line), "0")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            db_version = cursor.fetchone()[0].split(",")[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            db_version = "SQLite " + cursor.fetchone()[0]
    return {
        "CPUs (nproc)": _command("nproc") or str(os.cpu_count()),
        "CPU": cpu,
        "memory": f"{int(total_kb) / 1024 / 1024:.1f} GiB",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "Wagtail": wagtail.__version__,
        "database": db_version,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
    }


def print_machine() -> None:
    print("Machine:")
    for key, value in machine().items():
        print(f"  {key}: {value}")


def median_ms(func: Callable[[], object], rounds: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)
