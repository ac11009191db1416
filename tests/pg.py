"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl on a free port, in a temporary
folder, as the `postgres` user when the tests run as root (PostgreSQL refuses to run as root).

When no server can be started the tests that need one fail if `CI` is set, and skip with a loud
reason only on a developer's machine without PostgreSQL.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

_names = itertools.count(1)


def unavailable(reason: str):
    """Fail in CI (the server binaries are part of the CI set-up); skip loudly elsewhere."""
    message = f"PostgreSQL TESTS CANNOT RUN: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _as_postgres(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], check=check, capture_output=True, text=True, timeout=120)


class PgCluster:
    """One server for the whole test session; each test gets databases of its own."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
        if not found:
            unavailable("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")
        self.bindir = os.path.dirname(found[-1])
        self.root = tempfile.mkdtemp(prefix="annotator-pg-")
        self.data, self.sock = os.path.join(self.root, "data"), os.path.join(self.root, "sock")
        os.makedirs(self.sock)
        if os.geteuid() == 0:
            for path in (self.root, self.sock):
                shutil.chown(path, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        try:
            _as_postgres(f"{self.bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--locale=C.UTF-8")
            self.start()
        except (subprocess.SubprocessError, OSError) as e:
            detail = getattr(e, "stderr", "") or ""
            shutil.rmtree(self.root, ignore_errors=True)
            unavailable(f"could not start a throwaway server ({e}) {detail.strip()}")

    # --- the server
    def start(self) -> None:
        # fsync off: a test cluster need not survive a power cut, only a server crash or restart
        _as_postgres(f"{self.bindir}/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.root, "log"),
                     "-o", f"-p {self.port} -k {self.sock} -c listen_addresses='' -c fsync=off "
                           "-c full_page_writes=off -c max_connections=60", "start")

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(f"{self.bindir}/pg_ctl", "-D", self.data, "-w", "-m", mode, "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # --- databases
    def url(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@/{dbname}?host={self.sock}&port={self.port}"

    def connect(self, dbname: str = "postgres", user: str = "postgres", **kwargs):
        import psycopg

        return psycopg.connect(host=self.sock, port=self.port, user=user, dbname=dbname, **kwargs)

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new, empty database (or a copy of `template`); its name."""
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        with self.connect(autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        with self.connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
