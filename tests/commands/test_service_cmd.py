"""``sequent token``, ``sequent submissions`` and ``sequent serve`` as a user runs them."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from pipeline.settings import Settings
from tests.service.fixtures import with_db
from tests.service.process import run_cli, service_env


def test_token_create_shows_the_secret_once(service_settings: Settings, tmp_path: Path) -> None:
    settings = with_db(service_settings, tmp_path)
    env, root = service_env(settings), settings.project_root
    made = run_cli(["token", "create", "--name", "agent-x", "--rate", "9", "--json"], env, root)
    assert made.returncode == 0, made.stderr
    new = json.loads(made.stdout)
    assert new["secret"].startswith("sqt_") and new["token"]["rate_per_minute"] == 9
    listed = run_cli(["token", "list", "--json"], env, root)
    assert [t["name"] for t in json.loads(listed.stdout)] == ["agent-x"]
    assert new["secret"] not in listed.stdout
    assert settings.database_url is not None
    db_bytes = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
    assert new["secret"].encode() not in db_bytes
    dup = run_cli(["token", "create", "--name", "agent-x"], env, root)
    assert dup.returncode == 2 and "already exists" in dup.stderr and "Traceback" not in dup.stderr
    revoked = run_cli(["token", "revoke", "agent-x"], env, root)
    assert revoked.returncode == 0 and "revoked" in revoked.stderr


def test_user_errors_are_clean_messages(service_settings: Settings, tmp_path: Path) -> None:
    settings = with_db(service_settings, tmp_path)
    env, root = service_env(settings), settings.project_root
    for args, needle in (
        (["submissions", "show", "0123abcd"], "no submission"),
        (["submissions", "export", "0123abcd"], "no submission"),
        (["token", "revoke", "nobody"], "no token"),
    ):
        out = run_cli(args, env, root)
        assert out.returncode == 2, (args, out.stderr)
        assert needle in out.stderr and "Traceback" not in out.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run_cli(["serve", "--port", str(port)], env, root)
    assert out.returncode == 2 and "already in use" in out.stderr
