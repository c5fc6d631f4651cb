"""The coding-agent guidance (Claude Code skill, AGENTS.md) stays true: every `sequent` command
they name runs (a real process, real Lean where the command needs it), and every MCP tool they
name is one the server offers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO, lean_home, needs_lean

SKILL = REPO / ".claude" / "skills" / "sequent" / "SKILL.md"
AGENTS = REPO / "AGENTS.md"
_CMD = re.compile(r"^((?:\.venv/bin/)?sequent [^#\n`]*?)\s*(?:#.*)?$", re.MULTILINE)
_INLINE = re.compile(r"`((?:\.venv/bin/)?sequent [^`]+)`")


def named_commands(*docs: Path) -> list[str]:
    blocks: dict[str, None] = {}
    prose: dict[str, None] = {}
    for doc in docs:
        text = doc.read_text()
        for block in re.findall(r"```(?:sh|console)?\n(.*?)```", text, re.DOTALL):
            for m in _CMD.finditer(block):
                blocks[m.group(1).strip()] = None
        for m in _INLINE.finditer(text):
            prose[m.group(1).strip()] = None
    # prose may name a command by its first words (`sequent check`): covered by its full form
    extra = [c for c in prose if c not in blocks and not any(b.startswith(c + " ") for b in blocks)]
    return [*blocks, *extra]


def test_the_skill_has_frontmatter_and_names_commands() -> None:
    head = SKILL.read_text().split("---")[1]
    assert "name: sequent" in head and "description:" in head
    commands = named_commands(SKILL, AGENTS)
    assert ".venv/bin/sequent mcp --print-config" in commands
    assert any(c.startswith(".venv/bin/sequent goals") for c in commands)
    # `sequent` is not on PATH after `make setup`: every command names the venv's script
    assert all(c.startswith(".venv/bin/sequent ") for c in commands), commands


def test_every_named_mcp_tool_exists() -> None:
    source = (REPO / "pipeline" / "service" / "mcp_server.py").read_text()
    offered = set(re.findall(r"@server\.tool\(\)\n\s+@_tool_errors\n\s+def (\w+)\(", source))
    for doc in (SKILL, AGENTS):
        named = set(re.findall(r"`([a-z_]+)`", doc.read_text())) & {
            "list_claims", "get_claim", "hypothesis_status", "goal_state", "check_proof", "multi_attempt",
            "check_lean", "submit_proof", "get_submission", "minimal_hypotheses", "review", "search",
            "declaration", "list_submissions"}
        assert named <= offered, named - offered
        assert len(named) >= 10, named


@pytest.mark.lean
@needs_lean
def test_every_sequent_command_the_guidance_names_runs(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(REPO / "claims", project / "claims")  # no Formal/: check and goals skip the build
    (project / "lakefile.lean").write_text("-- test\n")
    (project / ".venv").symlink_to(REPO / ".venv")  # what `make setup` leaves in a fresh clone
    claim = tomllib.loads(min((project / "claims").glob("*.toml")).read_text())["id"]
    (project / "Draft.lean").write_text("theorem draft (a b : Nat) (h : a = b) : b = a := by\n  subst h\n  rfl\n")
    values = {"<claim>": claim, "<file>": "Draft.lean", "<line>": "3", "<col>": "2"}  # at `rfl`
    env = dict(os.environ, SEQUENT_LEAN_HOME=str(lean_home()), SEQUENT_POOL_SIZE="1",
               SEQUENT_RESIDENT_WORKERS="1")
    commands = named_commands(SKILL, AGENTS)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not (Path(p) / "sequent").exists())  # as in a fresh shell
    for command in commands:
        written = command
        for placeholder, value in values.items():
            written = written.replace(placeholder, value)
        assert "<" not in written, f"unknown placeholder in {command!r}"
        args = written.split()[1:]
        proc = subprocess.run(["bash", "-c", written], cwd=project, env=env,  # exactly as written
                              capture_output=True, text=True, timeout=900, check=False)
        assert proc.returncode == 0, (command, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr
        if args[:2] == ["mcp", "--print-config"]:
            out = proc.stdout
            config = (json.loads(out)["mcpServers"]["sequent"] if "--client" not in args
                      else tomllib.loads(out)["mcp_servers"]["sequent"])
            assert config["args"][-3:] == ["mcp", "--project", str(project.resolve())]
            assert Path(config["command"]).is_file()  # an absolute command a client can start
            if "--client" in args:
                assert config["startup_timeout_sec"] >= 30 and config["tool_timeout_sec"] >= 300
        if "--json" in args:
            json.loads(proc.stdout)  # machine-readable, whole
        if args[0] == "goals":
            assert "⊢ a = a" in proc.stdout and "h : a = b" not in proc.stdout, proc.stdout
        if args[0] == "check":
            assert "accepted" in proc.stdout
