"""Fixtures of the service tests: real SQLite files, one copy of this repository's Lean
library and claims (a git repository, its modules built once per session into a shared
state folder), real ``sequent serve`` processes on loopback."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.service.config import ServiceConfig
from pipeline.service.migrate import upgrade
from pipeline.service.services import open_services
from pipeline.settings import Settings
from pipeline.store.db import Database
from tests.conftest import REPO, lean_home
from tests.postgres import postgres  # noqa: F401 - fixture
from tests.service.process import ServerProcess, service_env

GIT_ID = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
          "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a real SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
    else:
        with request.getfixturevalue("postgres").fresh_database() as url:
            yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated service database on each backend."""
    database = Database(db_url, create=False)
    upgrade(database.engine)
    yield database
    database.close()


@pytest.fixture(scope="session")
def service_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's ``Formal/`` and ``claims/`` in a fresh git repository."""
    root = tmp_path_factory.mktemp("service") / "proj"
    root.mkdir()
    for name in ("Formal", "claims"):
        shutil.copytree(REPO / name, root / name)
    for name in ("Formal.lean", "lakefile.lean", "lean-toolchain"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, root / name)
    (root / ".gitignore").write_text(".sequent/\n")
    import os

    env = {**os.environ, **GIT_ID}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


@pytest.fixture(scope="session")
def service_settings(service_project: Path) -> Settings:
    """Settings of the project copy: one warm Lean process, a state folder shared by the
    session (so ``Formal/`` is built once); each test gives its own database URL."""
    return Settings.load(service_project, lean_home=lean_home(), state_dir=service_project / ".sequent",
                         pool_size=1, lean_backend="embedded")


def with_db(settings: Settings, folder: Path) -> Settings:
    return settings.model_copy(update={"database_url": f"sqlite:///{folder / 'service.db'}"})


def new_token(settings: Settings, name: str, **limits: int) -> str:
    with open_services(settings, ServiceConfig(), worker_threads=0) as services:
        return services.tokens.create(name, **limits).secret  # type: ignore[arg-type]


class Live:
    """A running server with its settings and a token."""

    def __init__(self, server: ServerProcess, settings: Settings, secret: str) -> None:
        self.server, self.settings, self.secret = server, settings, secret
        self.url = server.url
        self.auth = {"Authorization": f"Bearer {secret}"}

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=600, **kw)  # type: ignore[arg-type]

    def wait_verdict(self, submission_id: str, timeout: float = 600) -> dict[str, object]:
        import time

        deadline = time.monotonic() + timeout
        with self.client() as http:
            while time.monotonic() < deadline:
                view = http.get(f"/v1/submissions/{submission_id}", params={"wait": 30}).json()
                if view["status"] in ("accepted", "rejected", "error"):
                    return dict(view)
        raise AssertionError(f"no verdict for {submission_id} in {timeout}s:\n{self.server.log()}")


def start_live(settings: Settings, folder: Path, *, workers: int = 1, **config: object) -> Live:
    secret = new_token(settings, "tester", rate_per_minute=10_000, max_concurrent=1_000)
    env = service_env(settings, **config)
    server = ServerProcess(settings.project_root, env, folder / "server.log", workers=workers).start()
    return Live(server, settings, secret)
