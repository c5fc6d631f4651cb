"""docs/architecture.md, "One submission's path", matches the code: every module and name it
lists exists there, and the path flows one way (the store does not import the queue, the
worker does not reach the object that owns it, export reads the submission through the store,
git has one home). Pure Python, no Lean: well under a second."""

from __future__ import annotations

import importlib
import re

from tests.conftest import REPO
from tests.imports import imported

DOC = REPO / "docs" / "architecture.md"
SERVICE = REPO / "pipeline" / "service"


def steps() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("<!-- submission-path:begin -->")[1].split("<!-- submission-path:end -->")[0]
    return [line for line in section.strip().splitlines() if re.match(r"\d+\. ", line)]


def named(step: str) -> list[tuple[str, str]]:
    """``(module path, name)`` for each `` `Name` `` after a `` `pipeline/….py`: ``."""
    pairs: list[tuple[str, str]] = []
    for m in re.finditer(r"`(pipeline/[\w/]+\.py)`: ((?:`[\w.]+`(?:, )?)+)", step):
        pairs += [(m.group(1), name) for name in re.findall(r"`([\w.]+)`", m.group(2))]
    return pairs


def test_every_step_names_code_that_exists() -> None:
    listed = steps()
    assert [int(s.split(".")[0]) for s in listed] == list(range(1, len(listed) + 1)) and len(listed) >= 8
    for step in listed:
        pairs = named(step)
        assert pairs, f"a step that names no function: {step}"
        for path, name in pairs:
            assert (REPO / path).is_file(), path
            obj: object = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            for part in name.split("."):
                assert hasattr(obj, part), f"{path}: no {name} (docs/architecture.md, one submission's path)"
                obj = getattr(obj, part)


def test_the_path_flows_one_way() -> None:
    # the store knows nothing of the queue; the writes touching both run in the caller's transaction
    assert "pipeline.service.queue" not in imported(SERVICE / "submissions.py")
    # the worker is given the engine and the queue: it reaches no service above it
    above = {f"pipeline.service.{m}" for m in ("services", "submission_service", "lean_host", "adhoc_checks",
                                               "app", "deps", "mcp_server")}
    assert not imported(SERVICE / "worker.py") & above
    # export reads the submission through the store, never its table
    assert "pipeline.service.tables" not in imported(SERVICE / "export.py")
    # git has one home (pipeline/vcs.py): nobody else imports gitpython, and nothing imports the gate for it
    for path in (REPO / "pipeline").rglob("*.py"):
        if path.name == "vcs.py":
            continue
        assert not {"git", "gitdb.exc"} & imported(path), f"{path} imports git outside pipeline/vcs.py"
    assert "pipeline.gate.repo" not in imported(REPO / "pipeline" / "report" / "collect.py")
