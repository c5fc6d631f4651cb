"""A real, throw-away PostgreSQL server for the tests that need one.

The server is Debian's ``postgresql`` (``initdb`` and ``pg_ctl`` on PATH): a cluster in a
temporary folder, listening only on a Unix socket in that folder, trust authentication,
stopped and deleted at the end of the session. Each test gets a fresh database in it.
Without the binaries the tests are skipped with a reason that says how to get them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

INSTALL_HINT = ("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                "apt-get install postgresql (scripts/install-system-deps.sh does)")


def server_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl`` from PATH, else from Debian's versioned folder (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0, reverse=True)
    return str(candidates[0]) if candidates else None


def postgres_available() -> bool:
    return server_binary("initdb") is not None and server_binary("pg_ctl") is not None


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user there."""
    argv = [server_binary(argv[0]) or argv[0], *argv[1:]]
    if os.geteuid() != 0:
        return argv
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--", *argv]


class PostgresCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sequent-pg-"))
        self.data = self.root / "data"
        self.socket = self.root
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o755)

    def start(self) -> PostgresCluster:
        run = lambda argv: subprocess.run(
            _as_server_user(argv), check=True, capture_output=True, text=True, timeout=120)
        run(["initdb", "-D", str(self.data), "-U", "sequent", "-A", "trust", "-E", "UTF8", "--no-sync"])
        opts = f"-F -k {self.socket} -c listen_addresses='' -c max_connections=200"
        run(["pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "server.log"), "-w", "start"])
        return self

    def stop(self) -> None:
        subprocess.run(_as_server_user(["pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"]), check=False,
                       capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://sequent@/{database}?host={self.socket}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"dbname=postgres user=sequent host={self.socket}", autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    if not postgres_available():
        pytest.skip(INSTALL_HINT)
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()  # also removes the folder of a cluster that failed to start
