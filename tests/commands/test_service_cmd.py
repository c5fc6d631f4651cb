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
        (["submissions", "show", "0123abcd"], "not a submission id"),
        (["submissions", "show", "0" * 28], "no submission"),
        (["submissions", "export", "0123abcd"], "not a submission id"),
        (["submissions", "list", "--verdict", "maybe"], "unknown verdict"),
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


def test_submissions_list_pages_through_what_the_service_recorded(service_settings: Settings,
                                                                 tmp_path: Path) -> None:
    from pipeline.service.config import ServiceConfig
    from pipeline.service.models import SubmissionIn
    from pipeline.service.services import open_services

    settings = with_db(service_settings, tmp_path)
    env, root = service_env(settings), settings.project_root
    with open_services(settings, ServiceConfig(workers=0)) as core:  # accepted and queued, no Lean
        claim = core.claims.claims()[0].id
        ids = [core.submissions.submit(SubmissionIn(claim_id=claim, proof=f"by\n  sorry -- {i}", agent=agent),
                                       token_id=None, channel="mcp").id
               for i, agent in enumerate(["ann", "bob", "ann"])]
    page = run_cli(["submissions", "list", "--agent", "ann", "--limit", "1", "--json"], env, root)
    assert page.returncode == 0, page.stderr
    first = json.loads(page.stdout)
    assert [v["id"] for v in first["items"]] == [ids[2]] and first["next_cursor"] == ids[2]
    rest = json.loads(run_cli(["submissions", "list", "--agent", "ann", "--cursor", first["next_cursor"],
                               "--json"], env, root).stdout)
    assert [v["id"] for v in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    table = run_cli(["submissions", "list", "--claim", claim], env, root)  # piped: tab-separated, whole
    lines = table.stdout.strip().split("\n")
    assert lines[0].split("\t")[:3] == ["id", "claim", "agent"] and len(lines) == 4
    assert all(len(line.split("\t")[0]) == 28 for line in lines[1:])  # ids never cut
    assert {line.split("\t")[3] for line in lines[1:]} == {"mcp"}
