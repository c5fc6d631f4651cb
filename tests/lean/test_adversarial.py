"""An adversarial corpus: each case is an attack a hostile branch or agent would try, and the
reason it must be rejected for. Every case goes through the whole checker (token policy first,
then Lean, then the compiled-environment audit). The cases marked ``env`` are also compiled
with the policy bypassed, to show that the environment audit alone rejects them: the token
policy is the fast first filter, never the only line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.lean.checker import Checker, all_or_raise
from pipeline.lean.models import CheckRequest, EnvironmentAudit, Policy, Reason, user_name
from tests.conftest import make_settings, needs_lean

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    source: str
    reason: Reason
    env: str | None = None
    """The environment-audit rule that rejects it on its own (policy bypassed)."""
    expected: tuple[str, ...] | None = None
    """For submissions: the only declarations the file may add."""


FALSE_FROM = "theorem bad : False := Nat.lt_irrefl 0 (helper 0)\n"
SUB = ("sequent_submission",)
CASES: tuple[Case, ...] = (
    # hidden axioms: parser tricks the token scanner once missed, and plain ones
    Case("raw-string-escape", "hidden axiom",
         'def s : String := r"\\"\naxiom helper : ∀ n : Nat, n < n + 0\n' + FALSE_FROM, Reason.axiom, "declares_axiom"),
    Case("raw-string-hashes", "hidden axiom",
         'def s : String := r#"a " b"#\naxiom helper : ∀ n : Nat, n < n + 0\n' + FALSE_FROM, Reason.axiom, "declares_axiom"),
    Case("nested-comment", "hidden axiom",
         "/- outer /- inner -/ still comment -/\naxiom helper : ∀ n : Nat, n < n + 0\n" + FALSE_FROM,
         Reason.axiom, "declares_axiom"),
    Case("char-literal-quote", "hidden axiom",
         "def c : Char := '\"'\naxiom helper : ∀ n : Nat, n < n + 0\n" + FALSE_FROM, Reason.axiom, "declares_axiom"),
    Case("doc-comment-same-line", "hidden axiom",
         "/-- docs -/ axiom helper : ∀ n : Nat, n < n + 0\n" + FALSE_FROM, Reason.axiom, "declares_axiom"),
    Case("private-axiom", "hidden axiom",
         "private axiom helper : ∀ n : Nat, n < n + 0\n" + FALSE_FROM, Reason.axiom, "declares_axiom"),
    Case("indented-axiom-in-namespace", "hidden axiom",
         "namespace X\n  axiom helper : ∀ n : Nat, n < n + 0\nend X\n"
         "theorem bad : False := Nat.lt_irrefl 0 (X.helper 0)\n", Reason.axiom, "declares_axiom"),
    Case("attribute-axiom", "hidden axiom",
         "@[simp] axiom helper : ∀ n : Nat, n < n + 0\n" + FALSE_FROM, Reason.axiom, "declares_axiom"),
    Case("axiom-unused", "declared axiom", "axiom unused : 1 = 2\ntheorem fine : 1 = 1 := rfl\n",
         Reason.axiom, "declares_axiom"),
    # sorry and its disguises
    Case("sorry", "sorry", "theorem t : 1 = 2 := sorry\n", Reason.sorry, "axiom"),
    Case("admit", "sorry", "theorem t : 1 = 2 := by admit\n", Reason.sorry, "axiom"),
    Case("sorryAx-by-name", "sorry", "theorem t : 1 = 2 := sorryAx _ false\n", Reason.sorry, "axiom"),
    Case("sorry-in-raw-string-shadow", "sorry",
         'def s : String := r"\\"\ntheorem t : 1 = 2 := sorryAx _ false\n', Reason.sorry, "axiom"),
    # the compiler trusted as a kernel
    Case("native-decide", "native code", "theorem t : 10 < 20 := by native_decide\n", Reason.forbidden, "axiom"),
    Case("ofReduceBool-by-name", "native code",
         "theorem t : (10 < 20) = True := Lean.ofReduceBool _ _ rfl |> fun _ => by decide\n", Reason.forbidden),
    Case("implemented-by", "native code",
         "def f (n : Nat) : Nat := n\n@[implemented_by f] def g (n : Nat) : Nat := n + 1\n", Reason.forbidden),
    Case("extern", "native code", '@[extern "lean_nat_add"] def myadd (a b : Nat) : Nat := a + b\n',
         Reason.forbidden),
    Case("unsafe-def", "native code", "unsafe def u : Nat := 1\n", Reason.forbidden),
    Case("skip-kernel", "kernel off", "set_option debug.skipKernelTC true in\ntheorem t : 1 = 1 := rfl\n",
         Reason.forbidden),
    Case("prelude", "kernel off", "prelude\ntheorem t : True := True.intro\n", Reason.forbidden),
    # code that runs while the file is checked
    Case("eval-io", "execution", '#eval IO.println "hi"\n', Reason.forbidden),
    Case("run-cmd", "execution", "run_cmd pure ()\n", Reason.forbidden),
    Case("macro-command", "metaprogramming", 'macro "thm" : command => `(theorem x : True := trivial)\nthm\n',
         Reason.forbidden),
    Case("elab-command", "metaprogramming", 'elab "nothing" : command => pure ()\n', Reason.forbidden),
    # instances that change what notation means
    Case("instance-le-rat", "instance hijack",
         "instance (priority := high) : LE Nat := ⟨fun _ _ => True⟩\ntheorem t : 5 ≤ 3 := trivial\n",
         Reason.forbidden),
    Case("instance-ofnat", "instance hijack",
         "instance : OfNat Bool 2 := ⟨true⟩\ntheorem t : (2 : Bool) = true := rfl\n", Reason.forbidden),
    # issue 25, item 5: the core class reached through a parent, or derived
    Case("class-extends-core", "instance hijack",
         "noncomputable section\nclass P extends LE Nat\ninstance instP : P where\n  le _ _ := True\nend\n",
         Reason.forbidden, "core_instance"),
    Case("class-extends-core-twice", "instance hijack",
         "noncomputable section\nclass Q (α : Type) extends LE α\nclass P extends Q Nat\n"
         "instance instP : P where\n  le _ _ := True\nend\n", Reason.forbidden, "core_instance"),
    Case("deriving-core-instance", "instance hijack", "deriving instance BEq for Nat\n", Reason.forbidden),
    Case("decide-native", "native code", "theorem t : 10 < 20 := by decide +native\n", Reason.forbidden, "axiom"),
    # submissions: only the expected theorem may be added
    Case("submission-extra-theorem", "added declarations",
         "theorem sequent_submission : 1 = 1 := rfl\ntheorem extra : 2 = 2 := rfl\n", Reason.forbidden,
         "added", SUB),
    Case("submission-extra-def", "added declarations",
         "def helperDef : Nat := 3\ntheorem sequent_submission : helperDef = 3 := rfl\n", Reason.forbidden,
         "added", SUB),
    Case("submission-hidden-axiom", "added declarations",
         'def s : String := r"\\"\naxiom smuggled : False\ntheorem sequent_submission : 1 = 2 := smuggled.elim\n',
         Reason.axiom, "declares_axiom", SUB),
    Case("submission-renamed", "added declarations", "theorem other_name : 1 = 1 := rfl\n", Reason.forbidden,
         "added", SUB),
    Case("submission-structure", "added declarations",
         "structure S where x : Nat\ntheorem sequent_submission : 1 = 1 := rfl\n", Reason.forbidden, "added", SUB),
)


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    root = tmp_path_factory.mktemp("adversarial") / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test\n")
    with Checker(make_settings(root, pool_size=2)) as c:
        yield c


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({c.category for c in CASES}) >= 8


def test_every_attack_is_rejected_for_its_reason(checker: Checker) -> None:
    requests = [CheckRequest(source=c.source, file_name=f"Case{i}.lean", expected_declarations=c.expected)
                for i, c in enumerate(CASES)]
    results = all_or_raise(checker.check_all(requests))
    wrong = [(c.id, r.verdict.value, [x.value for x in r.reasons], r.diagnostics()[:300])
             for c, r in zip(CASES, results, strict=True) if r.accepted or c.reason not in r.reasons]
    assert not wrong, wrong


def compile_and_audit(checker: Checker, case: Case, name: str) -> EnvironmentAudit:
    """Lean compiles the file with no token policy in front; only the audit decides."""
    out = Path("out") / f"{name}.olean"
    with checker.backend.session(checker.settings.lean_timeout_s) as session:
        session.compile(f"{name}.lean", case.source, str(out), checker.settings.lean_timeout_s)
        produced = session.workdir / out
        assert produced.is_file(), f"{case.id}: Lean wrote no .olean"
        return checker.auditor.audit_file(produced, [], Policy(), case.expected)


@pytest.mark.parametrize("case", [c for c in CASES if c.env is not None and c.id in {
    "raw-string-escape", "sorry-in-raw-string-shadow", "native-decide", "submission-hidden-axiom",
    "submission-extra-def", "axiom-unused", "class-extends-core", "class-extends-core-twice"}],
    ids=lambda c: c.id)
def test_the_environment_alone_rejects(checker: Checker, case: Case) -> None:
    audit = compile_and_audit(checker, case, "Bypass")
    assert case.env in {i.rule for i in audit.issues}, audit.issues


def test_a_clean_file_passes_the_audit(checker: Checker) -> None:
    ok = checker.check(CheckRequest(source="noncomputable def pick (h : Nonempty Nat) : Nat := Classical.choice h\n"
                              "theorem fine (p : Prop) : p ∨ ¬p := Classical.em p\n"))
    assert ok.accepted, ok.diagnostics()
    assert ok.environment is not None and not ok.environment.issues
    assert ok.axioms is not None and "Classical.choice" in ok.axioms


def test_native_evaluation_is_named_by_the_audit_too(checker: Checker) -> None:
    """With the policy bypassed, ``decide +native`` reaches ``Lean.ofReduceBool``: the audit's
    message says plainly that the proof ran native code instead of the kernel."""
    case = next(c for c in CASES if c.id == "decide-native")
    audit = compile_and_audit(checker, case, "Native")
    issues = [i for i in audit.issues if i.rule == "axiom"]  # the theorem and its auxiliary
    assert issues and all("Lean.ofReduceBool" in i.message and "native code" in i.message for i in issues)


def test_the_audit_names_the_parent_path_of_a_core_instance(checker: Checker) -> None:
    """With the policy bypassed, an instance of a class whose parent's parent is ``LE`` is
    found in Lean's instance table and named with the path (issue 25, item 5)."""
    case = next(c for c in CASES if c.id == "class-extends-core-twice")
    audit = compile_and_audit(checker, case, "Parents")
    [issue] = [i for i in audit.issues if i.rule == "core_instance"]
    assert user_name(issue.declaration) == "instP"
    assert issue.message.startswith("instP is an instance of P, which extends the core class LE (P → Q → LE)")
