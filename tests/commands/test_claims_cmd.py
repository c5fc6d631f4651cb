"""``sequent claims list|show|graph|pin`` (only ``pin`` runs Lean; ``check`` is in test_lean.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.commands.app import run
from tests.claims.fixtures import ProjectFactory, copy_sources, edit
from tests.conftest import lean_home, needs_lean


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_sources(tmp_path / "p")


def sequent(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = 0
    try:
        run(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = sequent(capsys, "claims", "list", "--project", str(root))
    assert code == 0 and "9 claims" in err and "debate_tree" in out
    rows = out.strip().split("\n")  # not a terminal: a header and one tab-separated row per claim
    assert rows[0].split("\t")[0] == "id" and len(rows) == 10
    assert "debate_tree" in [r.split("\t")[0] for r in rows]  # ids whole, never cut
    code, out, _ = sequent(capsys, "claims", "list", "--json", "--project", str(root))
    data = json.loads(out)
    assert code == 0 and [c["id"] for c in data][:2] == ["bayes_surprise", "bic_regular"]
    assert data[0]["path"] == "claims/bayes_surprise.toml" and data[0]["lean"]["open"] == ["Formal", "Formal.Bayes"]


def test_show(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sequent(capsys, "claims", "show", "sgd_chung", "--project", str(root))
    assert code == 0
    for text in ("sgd_chung: SGD on a strongly convex objective", "Formal.SGD.sgd_convergence_rate",
                 "(h_step_size : ∀ t : Nat, 1 ≤ t → η t = 1 / (lam * t))",
                 "pipeline.evidence.checks.sgd:step_size_exact", "lam = exact: estimate step_size_rate",
                 "distance_rate: pipeline.evidence.checks.sgd:distance_rate", "Formal.rateN"):
        assert text in out, text
    code, out, _ = sequent(capsys, "claims", "show", "sgd_chung", "--json", "--project", str(root))
    assert json.loads(out)["hypotheses"][1]["binder"] == "h_strong_convexity"
    code, _, err = sequent(capsys, "claims", "show", "nope", "--project", str(root))
    assert code == 2 and "unknown claim 'nope'" in err


def test_graph(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sequent(capsys, "claims", "graph", "--format", "dot", "--project", str(root))
    assert code == 0 and out.startswith("digraph claims {")
    assert '"debate_equilibrium" -> "debate_tree";' in out
    code, out, _ = sequent(capsys, "claims", "graph", "--format", "json", "--project", str(root))
    edges = json.loads(out)["edges"]
    assert {"from": "prover_estimator_composition", "to": "debate_tree"} in edges and len(edges) == 2
    code, _, err = sequent(capsys, "claims", "graph", "--format", "svg", "--project", str(root))
    assert code == 2 and "svg" in err


@pytest.mark.lean
@needs_lean
def test_pin(project_copy: ProjectFactory, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> None:
    """``pin`` reads the meaning from the compiled library, so it builds ``Formal/`` first."""
    settings = project_copy("pinned")
    root = settings.project_root
    monkeypatch.setenv("SEQUENT_LEAN_HOME", str(lean_home()))
    monkeypatch.setenv("SEQUENT_POOL_SIZE", "1")
    code, out, err = sequent(capsys, "claims", "pin", "bayes_surprise", "--project", str(root))
    assert code == 0 and "pins are up to date" in out, out + err
    # the same definition written differently (Lean inserts the `decide` itself): the source pin
    # changes; the library still builds, so pin succeeds
    edit(root / "Formal" / "Bayes.lean", "decide (q ≤ 1 / 2)", "q ≤ 1 / 2")
    code, out, err = sequent(capsys, "claims", "pin", "bayes_surprise", "--project", str(root))
    assert code == 0, out + err
    assert "~ Formal.Bayes.surprises" in out and "wrote claims/bayes_surprise.toml" in out
    edit(root / "Formal" / "Bayes.lean", "fun q => q ≤ 1 / 2)", "fun q => q < 1 / 2)")  # breaks its proofs
    code, out, err = sequent(capsys, "claims", "pin", "bayes_surprise", "--project", str(root))
    assert code == 1 and "does not build" in out + err


def test_usage_errors(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = sequent(capsys, "claims", "list", "--project", str(tmp_path / "missing"))
    assert code == 2 and "not a folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = sequent(capsys, "claims", "list", "--project", str(tmp_path / "empty"))
    assert code == 2 and "the claims folder does not exist" in err
    (root / "claims" / "debate_tree.toml").write_bytes(b"\xff\xfe")
    code, _, err = sequent(capsys, "claims", "list", "--project", str(root))
    assert code == 1 and "claims/debate_tree.toml: (file): not valid UTF-8" in err
