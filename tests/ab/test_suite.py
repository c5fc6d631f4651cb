"""The shipped A/B suite: what it holds, stable ids and digest, hidden proofs, and every
core task's reference proof checked by the real Lean (one run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ab.models import Task
from pipeline.ab.suite import core_tasks, project_tasks, shipped_suite, task_claim
from pipeline.agents.loop import module_context
from pipeline.agents.prompts import argument_prompt, proof_prompt
from pipeline.claims.registry import load_registry
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest
from pipeline.lean.syntax import THEOREM_KINDS, declarations
from pipeline.settings import Settings
from tests.claims.fixtures import BuiltLibrary
from tests.conftest import REPO, make_settings, needs_lean


@pytest.fixture(scope="module")
def repo_settings() -> Settings:
    return Settings.load(REPO)


def test_the_suite_holds_every_claim_every_formal_theorem_and_graded_core_tasks(
        repo_settings: Settings) -> None:
    suite = shipped_suite(repo_settings)
    ids = [t.id for t in suite.tasks]
    assert len(ids) == len(set(ids))
    claims = load_registry(repo_settings).claims
    assert {f"claim:{c.id}" for c in claims} <= set(ids)
    claimed = {c.lean.declaration for c in claims}
    theorems = {d.name for p in (REPO / "Formal").rglob("*.lean")
                for d in declarations(p.read_text()) if d.kind in THEOREM_KINDS
                and "private" not in d.modifiers}
    assert {f"formal:{n}" for n in theorems - claimed} <= set(ids)
    core = [t for t in suite.tasks if t.kind == "core"]
    assert len(core) >= 30
    assert {t.difficulty for t in core} >= {1, 2, 3, 4}
    topics = " ".join(t.statement for t in core)
    for needle in ("Rat", "List", "≤", "2 ^"):
        assert needle in topics
    assert all(t.reference_proof for t in suite.tasks)


def test_ids_are_stable_and_the_digest_follows_the_statements(repo_settings: Settings) -> None:
    one, two = shipped_suite(repo_settings), shipped_suite(repo_settings)
    assert one.digest == two.digest and [t.id for t in one.tasks] == [t.id for t in two.tasks]
    changed = one.model_copy(update={"tasks": (
        one.tasks[0].model_copy(update={"statement": one.tasks[0].statement + " ∧ True"}),
        *one.tasks[1:])})
    assert changed.digest != one.digest
    proof = one.model_copy(update={"tasks": (
        one.tasks[0].model_copy(update={"reference_proof": "by sorry"}), *one.tasks[1:])})
    assert proof.digest != one.digest


def test_the_hidden_proof_is_not_in_the_prompts(repo_settings: Settings) -> None:
    suite = shipped_suite(repo_settings)
    for kind in ("claim", "formal", "core"):
        task = next(t for t in suite.tasks if t.kind == kind and len(t.reference_proof) > 40)
        claim = task_claim(repo_settings, task)
        context = module_context(repo_settings, claim)
        shown = argument_prompt(claim, context).user + proof_prompt(
            claim, "argument", claim.lean.statement, "sequent_submission", context).user
        body = task.reference_proof.removeprefix("by").strip()
        assert body not in shown, task.id
        assert claim.id.startswith("ab_")  # never a project claim's id (its proof file)


def test_bad_suite_and_variant_files_are_clear_errors(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.commands.app import run

    (tmp_path / "lakefile.lean").write_text("")
    (tmp_path / "v.toml").write_text("name = 'a b'\n")
    # settings that would make no difference are refused, not recorded as if they did
    (tmp_path / "tools.toml").write_text("name = 'a'\ntools = ['search', 'shell']\n")
    (tmp_path / "temp.toml").write_text("name = 'a'\nprovider = 'anthropic'\ntemperature = 0.2\n")
    for args, needle in ((["ab", "suite", "--suite", "nope.json"], "neither"),
                         (["ab", "run", "--variant", str(tmp_path / "tools.toml"), "--variant", "x.toml"],
                          "unknown tool 'shell' (known tools: search, declaration)"),
                         (["ab", "run", "--variant", str(tmp_path / "temp.toml"), "--variant", "x.toml"],
                          "takes no temperature"),
                         (["ab", "suite", "--task", "zzz"], "no task"),
                         (["ab", "run", "--variant", str(tmp_path / "v.toml"), "--variant", "x.toml"],
                          "not a variant")):
        with pytest.raises(SystemExit) as done:
            run([*args, "--project", str(tmp_path)])
        err = capsys.readouterr().err
        assert done.value.code == 2, err
        assert needle in err and "Traceback" not in err


@needs_lean
@pytest.mark.lean
def test_every_core_reference_proof_is_accepted_by_lean_and_a_wrong_one_is_not(
        tmp_path: Path) -> None:
    """All reference proofs in one file (one Lean run); the negative control swaps two
    reference proofs of different tasks, which Lean must reject."""
    tasks = core_tasks()
    source = "\n\n".join(f"theorem {t.declaration} :\n    {t.statement}\n    :=\n{t.reference_proof}"
                         for t in tasks)
    tasks_by = {t.declaration: t for t in tasks}
    wrong = (f"theorem swapped :\n    {tasks_by['ab_rat_convex'].statement}\n    :=\n"
             f"{tasks_by['ab_list_append_nil'].reference_proof}")
    (tmp_path / "lakefile.lean").write_text("")
    with Checker(make_settings(tmp_path, pool_size=1)) as checker:
        good, bad = checker.check_all([
            CheckRequest(source=source, file_name="CoreTasks.lean"),
            CheckRequest(source=wrong, file_name="Swapped.lean"),
        ])
    assert not isinstance(good, Exception) and good.accepted, good
    assert not isinstance(bad, Exception) and not bad.accepted


@needs_lean
@pytest.mark.lean
@pytest.mark.heavy
def test_every_project_task_states_its_declaration_exactly(built_library: BuiltLibrary) -> None:
    """Each claim and Formal-theorem task's `∀` statement, elaborated with its imports and
    opens, is proved by `@declaration` itself: the statement is the declaration's type (one
    Lean run). Negative control: a weakened conclusion (`∨ True`) is not its type."""
    settings = built_library.settings
    tasks = project_tasks(settings)
    assert tasks
    modules = tuple(sorted({t.module for t in tasks}))

    def file(statements: list[tuple[Task, str]]) -> str:
        parts = ["set_option autoImplicit false", ""]
        for i, (t, statement) in enumerate(statements):
            if t.opens:
                parts.append(f"open {' '.join(t.opens)} in")
            parts += [f"theorem ab_check_{i} :", f"    {statement}", f"    := @{t.declaration}", ""]
        return "\n".join(parts)

    one = tasks[-1]
    with Checker(settings) as checker:
        good, bad = checker.check_all([
            CheckRequest(source=file([(t, t.statement) for t in tasks]), imports=modules,
                         file_name="ProjectTasks.lean"),
            CheckRequest(source=file([(one, f"({one.statement}) ∨ True")]), imports=(one.module,),
                         file_name="Weakened.lean"),
        ])
    assert not isinstance(good, Exception) and good.accepted, good.diagnostics() if not isinstance(good, Exception) else good
    assert not isinstance(bad, Exception) and not bad.accepted
