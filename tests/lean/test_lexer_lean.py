"""The source reader agrees with the real Lean on where code is, and the hidden-axiom and
instance-hijack attacks of issue 12 are refused by the policy (real embedded Lean)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, Policy, Reason
from pipeline.lean.syntax import blank_comments_and_strings
from tests.conftest import make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]

PROBE = "theorem {name} : (2 : Nat) + 2 = 5 := rfl"
"""A line Lean rejects if and only if it reads it as code."""

# Each literal or comment is followed by a probe Lean must see as code...
AFTER = [
    'def c1 : String := r"\\"',
    'def c2 : String := r#"a "b" c"#',
    'def c3 : String := r##"a "# b"##',
    "def c4 : Char := '\"'",
    "def c5 : Char := '\\''",
    "/- a /- b -/ c -/",
    'def c6 : String := "a\\"b"',
    'def c7 : String := s!"{ "}" }"',
    'def c8 : String := s!"\\{"',
    'def c9 : String := "{" ++ "}"',
]
# ...or hides a probe inside it, which Lean must not see.
INSIDE = [
    'def h1 : String := r"{probe}"',
    'def h2 : String := r#"say "{probe}" here"#',
    "/- /- {probe} -/ {probe} -/",
    'def h4 : String := s!"{{1}} {probe}"',
    'def h5 : String := "\\"{probe}"',
    "/-- {probe} -/\ndef h6 : Nat := 1",
]


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    root = tmp_path_factory.mktemp("lexer-proj")
    (root / "lakefile.lean").write_text("-- test\n")
    with Checker(make_settings(root, pool_size=1)) as c:
        yield c


def test_lean_and_the_reader_agree_on_what_is_code(checker: Checker) -> None:
    lines: list[str] = []
    for i, literal in enumerate(AFTER):
        lines += [literal, PROBE.format(name=f"after_{i}")]
    for i, literal in enumerate(INSIDE):
        lines += literal.format(probe=PROBE.format(name=f"inside_{i}")).split("\n")
    source = "\n".join(lines) + "\n"
    result = checker.check(CheckRequest(source=source))
    assert result.violations == ()
    lean_code_lines = {m.pos.line for m in result.errors() if m.pos is not None}
    blanked = blank_comments_and_strings(source).split("\n")
    reader_code_lines = {n for n, text in enumerate(blanked, 1) if re.search(r"\btheorem\b", text)}
    assert reader_code_lines == {2 * i + 2 for i in range(len(AFTER))}
    assert lean_code_lines == reader_code_lines, result.diagnostics()


def test_an_axiom_after_a_raw_string_is_refused(checker: Checker) -> None:
    source = ('def looks_harmless : String := r"\\"\n'
              "axiom helper : ∀ n : Nat, n < n + 0\n"
              "theorem from_helper : False := by have := helper 0; omega\n")
    result = checker.check(CheckRequest(source=source))
    assert not result.accepted and result.reasons == (Reason.axiom,)
    [violation] = result.violations
    assert (violation.rule, violation.line, violation.token) == ("axiom", 2, "axiom")
    assert "helper" in violation.message


def test_a_core_instance_hijack_is_refused(checker: Checker) -> None:
    source = ("instance (priority := high) : LE Nat := ⟨fun _ _ => True⟩\n"
              "theorem hijacked : (5 : Nat) ≤ 0 := trivial\n")
    # Lean itself accepts the hijack: only the policy (and the environment audit) stop it.
    trusted = checker.check(CheckRequest(source=source, policy=Policy(trusted_tooling=True)))
    assert trusted.accepted, trusted.diagnostics()
    result = checker.check(CheckRequest(source=source))
    assert not result.accepted and result.reasons == (Reason.forbidden,)
    assert [v.rule for v in result.violations] == ["instance_override"]
