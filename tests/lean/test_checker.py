"""The checker against the real embedded Lean: verdicts, policy, limits, cache."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pipeline.errors import InputError, NotFoundError
from pipeline.lean.checker import Checker, read_text_checked
from pipeline.lean.models import CheckRequest, CheckResult, Policy, Reason
from tests.conftest import REPO, make_settings, needs_lean
from tests.waiting import wait_until

pytestmark = [pytest.mark.lean, needs_lean]


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    root = tmp_path_factory.mktemp("checker-proj")
    (root / "lakefile.lean").write_text("-- test\n")
    with Checker(make_settings(root, pool_size=2)) as c:
        yield c


def test_accepts_a_true_theorem(checker: Checker) -> None:
    r = checker.check(CheckRequest(source="theorem ok_add (a b : Nat) (h : a < b) : a + 1 ≤ b := by omega\n"))
    assert r.accepted, r.diagnostics()
    assert r.reasons == ()
    assert r.backend == "embedded" and "4.28" in r.lean_version
    assert not r.cached


def test_rejects_a_type_error_with_position(checker: Checker) -> None:
    r = checker.check(CheckRequest(source="theorem bad : (2 : Nat) + 2 = 5 := rfl\n"))
    assert not r.accepted
    assert Reason.error in r.reasons
    err = r.errors()[0]
    assert err.pos is not None and err.pos.line == 1
    assert "Check.lean:1:" in r.diagnostics()


def test_rejects_sorry_before_running_lean(checker: Checker) -> None:
    r = checker.check(CheckRequest(source="theorem s : 1 = 2 := by\n  sorry\n"))
    assert r.reasons == (Reason.sorry,)
    assert r.violations[0].line == 2
    assert r.messages == ()  # Lean never ran the file


def test_sorry_hidden_behind_a_macro_is_caught_by_lean_too(checker: Checker) -> None:
    # Trusted tooling may define macros; the sorry they expand to is still caught, here by
    # Lean's own `hasSorry` report (the token scan is told sorry is allowed, to prove that).
    src = 'macro "trust_me" : tactic => `(tactic| sorry)\ntheorem hidden : 1 = 2 := by trust_me\n'
    r = checker.check(CheckRequest(source=src, policy=Policy(trusted_tooling=True, allow_sorry=False)))
    assert not r.accepted and Reason.sorry in r.reasons
    lean_only = checker.check(CheckRequest(source=src.replace("sorry", "sorry "), policy=Policy(trusted_tooling=True)))
    assert Reason.sorry in lean_only.reasons
    untrusted = checker.check(CheckRequest(source=src))
    assert {v.rule for v in untrusted.violations} >= {"metaprogramming", "sorry"}


def test_hassorry_from_lean_itself(checker: Checker) -> None:
    r = checker.check(CheckRequest(source="theorem s2 : 1 = 2 := sorry\n", policy=Policy(allow_sorry=True)))
    # allow_sorry skips the token rule; Lean's message still names it but policy allows it
    assert any(m.kind == "hasSorry" for m in r.messages)


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("axiom cheat : False\ntheorem t : 1 = 2 := cheat.elim\n", "axiom"),
        ("theorem nd : 10 < 20 := by native_decide\n", "native_decide"),
        ("@[implemented_by id] def f (n : Nat) : Nat := n\n", "implemented_by"),
        ("set_option debug.skipKernelTC true in\ntheorem k : True := trivial\n", "option"),
        ('#eval IO.println "ran"\n', "metaprogramming"),
        ("unsafe def u : Nat := 0\n", "unsafe"),
    ],
)
def test_trust_policy_rejects(checker: Checker, source: str, rule: str) -> None:
    r = checker.check(CheckRequest(source=source))
    assert not r.accepted
    assert rule in {v.rule for v in r.violations}


def test_comments_and_strings_are_not_tokens(checker: Checker) -> None:
    src = '-- sorry, native_decide, axiom\n/- sorry -/\ntheorem str_ok : "sorry".length = 5 := by decide\n'
    r = checker.check(CheckRequest(source=src))
    assert r.accepted, r.diagnostics()


def test_every_way_in_runs_the_same_limits_and_policy(checker: Checker) -> None:
    """check, check_all and diagnose share one path (limits, policy, then the strategy): the
    same input error and the same refusal (Lean never runs), each item of check_all in place;
    only the acceptance path's refusal is the result cache's."""
    bad_name = CheckRequest(source="theorem t : True := trivial\n", file_name="../x.lean")
    refused = CheckRequest(source="theorem r : 1 = 2 := by\n  sorry\n", file_name="Refused.lean")
    too_big = CheckRequest(source="-- " + "x" * (1 << 20) + "\ntheorem b : True := trivial\n")
    for request in (bad_name, too_big):
        with pytest.raises(InputError):
            checker.check(request)
        with pytest.raises(InputError):
            checker.diagnose(request)
    error, result, big = checker.check_all([bad_name, refused, too_big])
    assert isinstance(error, InputError) and "NAME.lean" in str(error)
    assert isinstance(big, InputError) and "over the limit" in str(big)
    assert isinstance(result, CheckResult) and result.reasons == (Reason.sorry,) and result.violations
    iteration = checker.diagnose(refused)
    assert iteration.reasons == result.reasons and iteration.cache_key == result.cache_key
    assert iteration.backend == f"{result.backend}+resident" and not iteration.cached
    assert checker.check(refused).cached  # the acceptance path's refusal was cached, Lean never ran


def test_cache_hit_is_marked(checker: Checker) -> None:
    """A second check of the same input is the stored verdict, marked cached (how fast a hit
    is: benchmarks/bench_lean.py and docs/performance.md, not an assertion here)."""
    src = "theorem cached_thm : 3 * 3 = 9 := by decide\n"
    first = checker.check(CheckRequest(source=src))
    second = checker.check(CheckRequest(source=src))
    assert second.cached and not first.cached
    assert second.verdict == first.verdict and second.cache_key == first.cache_key
    changed = checker.check(CheckRequest(source=src.replace("9", "9 ")))
    assert changed.cache_key != first.cache_key


def test_bad_inputs_get_clear_errors(checker: Checker, tmp_path: Path) -> None:
    root = checker.settings.project_root

    def check_file(path: Path) -> CheckResult:  # what `sequent check FILE` does
        text = read_text_checked(path, max_bytes=checker.settings.max_file_bytes, root=root)
        return checker.check(CheckRequest(source=text, file_name=path.name))

    with pytest.raises(NotFoundError, match="no such file"):
        check_file(root / "missing.lean")
    (root / "latin1.lean").write_bytes(b"theorem caf\xe9 : True := trivial\n")
    with pytest.raises(InputError, match="UTF-8"):
        check_file(root / "latin1.lean")
    (root / "empty.lean").write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        check_file(root / "empty.lean")
    outside = tmp_path / "outside.lean"
    outside.write_text("theorem o : True := trivial\n")
    with pytest.raises(InputError, match="outside the project"):
        check_file(outside)
    (root / "big.lean").write_text("-- " + "x" * (1 << 20) + "\n")
    with pytest.raises(InputError, match="over the limit"):
        check_file(root / "big.lean")
    with pytest.raises(InputError, match="NAME.lean"):
        checker.check(CheckRequest(source="theorem t : True := trivial", file_name="../x.lean"))


def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    (tmp_path / "lakefile.lean").write_text("")
    settings = make_settings(tmp_path, lean_timeout_s=3.0, artifact_cache=None)  # Lean must run
    with Checker(settings, warm=False) as cold:
        r = cold.check(CheckRequest(source="theorem t : 2 + 2 = 4 := rfl\n"))

        def leftovers() -> list[psutil.Process]:
            # Only this checker's processes: their command line names this test's build folder
            # (other modules' warm pools may be alive in the same pytest session); a killed
            # process is gone once the kernel has reaped it, which may take a moment under load
            mine = psutil.Process().children(recursive=True)
            return [p for p in mine if "launcher.js" in (c := " ".join(_cmd(p))) and str(tmp_path) in c
                    and _running(p)]

        wait_until(lambda: not leftovers(), timeout_s=30, what="the timed-out Lean tree gone",
                   detail=leftovers)
    assert r.reasons == (Reason.timeout,)
    assert not r.cached


def test_memory_cap_returns_out_of_memory(tmp_path: Path) -> None:
    (tmp_path / "lakefile.lean").write_text("")
    settings = make_settings(tmp_path, lean_memory_mb=300, artifact_cache=None)  # Lean must run
    with Checker(settings, warm=False) as cold:
        r = cold.check(CheckRequest(source="theorem t : 2 + 2 = 4 := rfl\n"))
    assert r.reasons == (Reason.out_of_memory,)


PARENT = """
import sys, threading, time
from pathlib import Path
from pipeline.lean.install import embedded_command
from pipeline.lean.install import load_install
from pipeline.lean.process import LeanProcess
from tests.conftest import make_settings
root = Path(sys.argv[1])
settings = make_settings(root)
work = root / "work"
work.mkdir()
settings.build_dir.mkdir(parents=True)
(work / "Long.lean").write_text("".join(
    f"theorem t{i} (a b c : Nat) (h : a < b) (h2 : b < c) : a + {i} < c + {i} := by omega\\n"
    for i in range(1500)))
cmd, env = embedded_command(load_install(settings), work, settings.build_dir, threads=settings.lean_threads)
proc = LeanProcess(cmd, workdir=work, env=env, warm=True, memory_mb=6144).start()
assert proc.wait_ready(600)
from tests.waiting import working
threading.Thread(target=proc.run, args=(["Long.lean"], 900), daemon=True).start()
working(proc.proc.pid)  # mid-check: Lean works on the file
# another process holds Lean's output pipes open, so Lean gets no EPIPE when we die
import subprocess
pipes = (proc.proc.stdout.fileno(), proc.proc.stderr.fileno())
holder = subprocess.Popen(["sleep", "120"], pass_fds=pipes, start_new_session=True)
print(proc.proc.pid, holder.pid, flush=True)
threading.Event().wait()  # until killed
"""


def test_lean_does_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    """SIGKILL the process whose Lean is mid-check (it cannot clean up, and Lean runs in its
    own session, so no group signal reaches it): the Lean process notices and exits, long
    before its ~1 min check would have ended, even if its output pipes stay open."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    lean: list[psutil.Process] = []
    try:
        assert parent.stdout is not None
        lean_pid, holder_pid = map(int, parent.stdout.readline().split())
        lean = [psutil.Process(lean_pid), psutil.Process(holder_pid)]
        assert lean[0].is_running() and lean[0].status() != psutil.STATUS_ZOMBIE
        parent.kill()
        parent.wait(timeout=30)
        _, alive = psutil.wait_procs(lean[:1], timeout=10)
        assert alive == []
    finally:
        parent.kill()
        parent.wait(timeout=30)
        if parent.stdout is not None:
            parent.stdout.close()
        for p in lean:
            try:
                p.kill()
            except psutil.Error:
                pass


def _cmd(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _running(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


LEGITIMATE = r"""import Init.Data.List.Basic import Init.Data.Nat.Basic
/- import Fake -/ -- axiom hidden : False
noncomputable section

def fib : Nat → Nat
  | 0 => 0
  | 1 => 1
  | n + 2 => fib n + fib (n + 1)

theorem fib_five : fib 5 = 5 := by decide

theorem lin (a b : Nat) (h_lt : a < b) : a + 1 ≤ b := by omega

def sumTo : Nat → Nat
  | 0 => 0
  | n + 1 => (n + 1) + sumTo n

theorem sumTo_two : sumTo 2 = 3 := by simp [sumTo]

theorem by_contra (p : Prop) (h_nn : ¬¬p) : p := Classical.byContradiction h_nn

def texts : List String := ["import X", "-/ sorry /-", "\"", "axiom a : False", r"\", r#"a " b"#]
def chars : List Char := ['"', '\'', '\\', 'a']

theorem texts_length : texts.length = 6 := rfl

def withWhere (n : Nat) : Nat := go n + 1
where
  go : Nat → Nat
    | 0 => 0
    | k + 1 => go k

theorem withWhere_zero : withWhere 0 = 1 := by simp [withWhere, withWhere.go]

class Sized (α : Type) [LE α] where
  size : α → Nat

instance : Sized Nat := ⟨fun n => n⟩

class Ordered (α : Type) extends LE α where
  refl : ∀ a : α, a ≤ a

structure Pt where
  x : Nat

instance : LE Pt := ⟨fun a b => a.x ≤ b.x⟩

instance : Ordered Pt where
  le a b := a.x ≤ b.x
  refl a := Nat.le_refl a.x

end
"""


def test_a_legitimate_corpus_is_accepted(checker: Checker) -> None:
    """Issue 25: what a proof ordinarily uses passes the policy, Lean and the audit: decide,
    omega, structural recursion, Classical.byContradiction, simp, tricky string and char
    literals (``"import X"``, a comment opener in a string), ``where`` auxiliaries, several
    imports on one line, a class with an instance-implicit parameter and one extending a core
    class, instantiated for the file's own type."""
    r = checker.check(CheckRequest(source=LEGITIMATE))
    assert r.accepted, r.diagnostics()
    assert r.environment is not None and not r.environment.issues
