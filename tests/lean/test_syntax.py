"""The source reader against hostile text: what Lean reads as code must stay code.

Every case is written as an attack first (text that hides a declaration or token from a
reader that gets Lean's lexer wrong), then the harmless neighbours. Pure, no Lean.
"""

from __future__ import annotations

import pytest

from pipeline.gate.changes import diff_declarations, index_declarations
from pipeline.gate.models import ChangeKind, Severity
from pipeline.gate.rules import elaboration_case
from pipeline.lean.models import Policy
from pipeline.lean.policy import scan
from pipeline.lean.syntax import (
    CORE_INTERPOLATION,
    blank_comments_and_strings,
    declarations,
    header,
    imports,
    instance_header,
    strip_comments,
    tokens,
)

HIDDEN = "axiom hidden : False"


def _visible(source: str) -> bool:
    """Whether the axiom command is outside comments and literals."""
    return "axiom hidden" in blank_comments_and_strings(source)


def _rules(source: str, policy: Policy | None = None) -> list[str]:
    return [v.rule for v in scan(source, policy or Policy())]


# ---- lexer: what hides an axiom from a wrong reader, and must not -----------------------

@pytest.mark.parametrize(
    "source",
    [
        'def s := r"\\"\n' + HIDDEN + '\ndef t := "x"',  # raw: backslash is no escape
        'def s := r"\\"' + " " + HIDDEN,
        'def s := r#"a "# ' + HIDDEN + ' "#',  # closes at the first "# after r#"
        'def s := r##"a "# b"##\n' + HIDDEN,  # "# does not close r##"
        "def c := '\"'\n" + HIDDEN + '\ndef d := "',  # '"' is a char, opens no string
        "def c := '\\''\n" + HIDDEN,  # escaped quote char
        "def c := '\\\\'\n" + HIDDEN,  # escaped backslash char
        "def c := '\\x22'\n" + HIDDEN,
        "def n := 2'\"'\n" + HIDDEN,  # a number ends a token: '"' after it is a char literal
        '/--/ nothing -/\n' + HIDDEN,  # a doc comment's body starts after "/--"
        "/- a /- b -/ c -/\n" + HIDDEN,  # nested comment closed twice
        '/-- doc /- inner -/ still doc -/ ' + HIDDEN,
        '/-! module doc -/ ' + HIDDEN,
        'def s := "a\\"b" ' + HIDDEN,  # escaped quote inside an ordinary string
        'def s := s!"{ "}" }" ' + HIDDEN,  # a brace-string inside an interpolation
        'def s := s!"\\{" ' + HIDDEN,  # an escaped brace opens no interpolation
        "def x' := 1\ndef y := x'\n" + HIDDEN,  # primes belong to identifiers
    ],
)
def test_text_lean_reads_as_code_stays_code(source: str) -> None:
    assert _visible(source), blank_comments_and_strings(source)
    assert "axiom" in _rules(source)


@pytest.mark.parametrize(
    "source",
    [
        'def s := r"' + HIDDEN + '"',
        'def s := r#"say "' + HIDDEN + '" here"#',
        'def s := r##"a "# ' + HIDDEN + ' "##',
        "/- /- " + HIDDEN + " -/ still a comment " + HIDDEN + " -/",
        "/-- " + HIDDEN + " -/ theorem t : True := trivial",
        "-- " + HIDDEN,
        'def s := "' + HIDDEN + '"',
        'def s := "\\"' + HIDDEN + '"',
        'def s := s!"{1} ' + HIDDEN + '"',
        'def s := "{" ++ "' + HIDDEN + '"',
    ],
)
def test_text_lean_reads_as_literal_or_comment_is_blanked(source: str) -> None:
    assert not _visible(source)
    assert _rules(source) == []


def test_identifier_r_and_name_literals_do_not_start_raw_strings() -> None:
    # `x.r"…"` is the identifier `x.r` then an ordinary string; `` `r `` is a name literal
    for source in ['def s := x.r"\\" ' + HIDDEN + '"', 'def s := `r"\\" ' + HIDDEN + '"',
                   'def s := for"\\" ' + HIDDEN + '"']:
        assert not _visible(source), source


def test_interpolated_code_stays_visible() -> None:
    assert _rules('def s := s!"value {(sorry : Nat)}"') == ["sorry"]
    assert _rules('def s := f!"{(by native_decide : 1 = 1)}"') == ["native_decide"]
    # outside the braces it is text
    assert _rules('def s := s!"sorry {1}"') == []


def test_interpolation_that_depends_on_imports_is_scanned_both_ways() -> None:
    # With `import Lean`, `m!` makes the string interpolated and the axiom is a string;
    # without it, `m!` is an ordinary identifier and Lean reads the axiom as a command.
    source = 'def m! (s : String) := s\ndef s := m! "{" ' + HIDDEN + ' "}"'
    assert not _visible(source)
    assert "axiom hidden" in blank_comments_and_strings(source, interpolation=CORE_INTERPOLATION)
    assert "axiom" in _rules(source)


def test_blanking_keeps_every_position() -> None:
    source = 'a r#"x\ny"# b /- c\n/- d -/\n-/ e \'\\n\' f s!"{g}\nh" i -- j\n'
    out = blank_comments_and_strings(source)
    assert len(out) == len(source) and out.count("\n") == source.count("\n")
    assert [t.text for t in tokens(source)] == ["a", "b", "e", "f", "s!", "g", "i"]
    assert strip_comments('x /- c -/ "s -- t" -- u') == 'x   "s -- t"  '


def test_unterminated_literals_run_to_the_end() -> None:
    # Lean rejects these files; the reader must not expose what follows as code either way
    assert blank_comments_and_strings('r#"abc " ' + HIDDEN).strip() == ""
    assert blank_comments_and_strings("/- /- -/ " + HIDDEN).strip() == ""


# ---- declarations: everything the gate's change list must see ---------------------------

SOURCE = """namespace Formal.Toy
/-- doc -/ theorem documented : True := trivial
  theorem indented : True := trivial
@[simp,
  expose]
private theorem attributed : True := trivial
protected noncomputable def modified : Nat := 0
partial def looping : Nat → Nat := fun n => n
unsafe def unchecked : Nat := 0
scoped instance : LE Rat := ⟨fun _ _ => True⟩
local instance : Sub Rat := ⟨fun _ _ => 0⟩
instance (priority := high) : OfNat Rat 2 := ⟨1⟩
instance (priority := low) named [Inhabited α] : Inhabited (List α) := ⟨[]⟩
notation "⟪" x "⟫" => x
syntax (name := mySyntax) "my" : term
macro "mac" : term => `(1)
axiom ax : False
opaque op : Nat
inductive Ind | a
structure Str where
  x : Nat
  deriving Repr
class Cls (α : Type) where
  f : α
class inductive CI | a
abbrev Ab := Nat
section Inner
theorem in_section : True := trivial
end Inner
mutual
  def even : Nat → Bool | 0 => true | n + 1 => odd n
  def odd : Nat → Bool | 0 => false | n + 1 => even n
end
open Nat in theorem opened : True := trivial
theorem _root_.rooted : True := trivial
deriving instance BEq for Str
attribute [local simp] modified
namespace Deeper
theorem deep : True := trivial
end Deeper
end Formal.Toy
theorem outside : True := trivial
"""


def test_declarations_sees_every_form() -> None:
    decls = {d.name: d for d in declarations(SOURCE)}
    p = "Formal.Toy."
    for short in ["documented", "indented", "attributed", "modified", "looping", "unchecked",
                  "instLERat", "instSubRat", "instOfNatRat", "named", "mySyntax", "ax", "op", "Ind",
                  "Str", "Cls", "CI", "Ab", "in_section", "even", "odd", "opened", "Deeper.deep"]:
        assert p + short in decls, short
    assert "rooted" in decls and "outside" in decls
    assert decls[p + "instLERat"].modifiers == ("scoped",)
    assert decls[p + "instSubRat"].modifiers == ("local",)
    assert decls[p + "attributed"].modifiers == ("private",)
    assert decls[p + "attributed"].attributes == "@[simp, expose]"
    assert decls[p + "attributed"].line == 4  # the attribute lines belong to it
    assert decls[p + "modified"].modifiers == ("protected", "noncomputable")
    assert decls[p + "CI"].kind == "class inductive"
    kinds = {d.kind for d in decls.values()}
    assert {"notation", "macro", "syntax", "axiom", "opaque", "inductive", "structure", "class",
            "abbrev", "instance", "deriving instance", "attribute"} <= kinds
    # the notation and macro have no name: a digest of their text stands in, stable across lines
    [notation] = [d for d in decls.values() if d.kind == "notation"]
    moved = declarations("\n\n" + SOURCE)
    assert notation.name in {d.name for d in moved}
    # a structure's `deriving` clause is part of it, not a declaration
    assert decls[p + "Str"].end_line - decls[p + "Str"].line == 2


def test_declarations_after_other_text_on_the_same_line() -> None:
    # Lean needs no line break between commands: a declaration after a proof is still one
    source = ("theorem a : True := trivial local instance : Sub Rat := ⟨fun _ _ => 0⟩\n"
              "def b := 1 /-- doc -/ private axiom c : False\n")
    decls = declarations(source)
    assert [(d.name, d.kind, d.line) for d in decls] == [
        ("a", "theorem", 1), ("instSubRat", "instance", 1), ("b", "def", 2), ("c", "axiom", 2)]
    assert decls[0].text == "theorem a : True := trivial "
    assert decls[1].text.startswith("local instance") and decls[1].modifiers == ("local",)
    assert decls[3].modifiers == ("private",)


def test_keywords_in_attribute_lists_are_not_declarations() -> None:
    source = ("@[simp, instance] def f : Inhabited Nat := ⟨0⟩\n"
              "attribute [local instance] f\n"
              "structure S where\n  x : Nat\n  deriving Repr\nderiving instance BEq for S\n")
    assert declarations(source)[0].name == "f"
    assert [d.kind for d in declarations(source)] == ["def", "attribute", "structure", "deriving instance"]


def test_instance_header() -> None:
    text = "instance (priority := high) foo [Mul α] {β : Type} : HAdd α β α := ⟨fun a _ => a⟩"
    h = instance_header(text, len("instance"))
    assert (h.priority, h.name, h.class_name) == ("high", "foo", "HAdd")
    assert h.binders == ("β",)
    assert h.arguments == ("α", "β", "α")
    anonymous = instance_header("instance : OfNat Rat 2 := ⟨1⟩", len("instance"))
    assert (anonymous.name, anonymous.class_name, anonymous.arguments) == (None, "OfNat", ("Rat",))


BASE = "namespace Formal.Basic\ntheorem t : True := trivial\nend Formal.Basic\n"


@pytest.mark.parametrize(
    ("added", "kind", "severity"),
    [
        ("  scoped instance : LE Rat := ⟨fun _ _ => True⟩", "instance", Severity.warning),
        ("/-- looks harmless -/ local instance : Sub Rat := ⟨fun _ _ => 0⟩", "instance", Severity.warning),
        ("@[simp] axiom helper : ∀ n : Nat, n < n + 0", "axiom", Severity.error),
        ("  private axiom quiet : False", "axiom", Severity.error),
        ('local notation "⟪" x "⟫" => x + 1', "notation", Severity.warning),
        ("attribute [local instance] Classical.propDecidable", "attribute", Severity.warning),
    ],
)
def test_the_gate_sees_hidden_declarations(added: str, kind: str, severity: Severity) -> None:
    head = BASE.replace("theorem t", added + "\ntheorem t")
    base_index = index_declarations({"Formal/Basic.lean": BASE})
    head_index = index_declarations({"Formal/Basic.lean": head})
    changes = diff_declarations(base_index, head_index)
    assert [(c.kind, c.change) for c in changes] == [(kind, ChangeKind.added)]
    case = elaboration_case(changes, head_index, base_index)
    assert [f.severity for f in case.findings] == [severity]
    assert changes[0].name.startswith("Formal.Basic.")


def test_a_changed_instance_body_is_a_change() -> None:
    base = BASE + "instance : LE Rat := ⟨fun a b => a ≤ b⟩\n"
    head = BASE + "instance : LE Rat := ⟨fun _ _ => True⟩\n"
    changes = diff_declarations(index_declarations({"F.lean": base}), index_declarations({"F.lean": head}))
    assert [(c.name, c.change) for c in changes] == [("instLERat", ChangeKind.changed)]


# ---- the policy ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("instance : LE Rat := ⟨fun _ _ => True⟩", "instance_override"),
        ("instance : OfNat Rat 2 := ⟨1⟩", "instance_override"),
        ("local instance : Sub Rat := ⟨fun _ _ => 0⟩", "instance_override"),
        ("scoped instance (priority := high) : LE Rat := ⟨fun _ _ => True⟩", "instance_override"),
        ("instance myLE : LE Nat := ⟨fun _ _ => True⟩", "instance_override"),
        ("instance [Mul α] : Add α := ⟨(· * ·)⟩", "instance_override"),
        ("instance : Decidable (1 = 2) := isTrue sorry", "instance_override"),
        ("instance : _root_.HAdd Rat Rat Rat := ⟨fun _ _ => 0⟩", "instance_override"),
        ("@[instance] def leRat : LE Rat := ⟨fun _ _ => True⟩", "instance_override"),
        ("attribute [local instance] leRat", "instance_override"),
        ("@[default_instance] instance : HMul Nat Nat Rat := ⟨fun _ _ => 0⟩", "instance_override"),
        ("instance (priority := high) : Formal.Judge Nat := ⟨⟩", "instance_override"),
        ("theorem t : True := «sorryAx» _ false", "sorry"),
        ("theorem t : True := _root_.sorryAx _ false", "sorry"),
        ("theorem t : True := Lean.«ofReduceBool» _ _ rfl", "native_decide"),
        ("set_option debug.skipKernelTC true in\ntheorem t : True := trivial", "option"),
        ("set_option «debug».skipKernelTC true", "option"),
        ("#eval IO.println 1", "metaprogramming"),
        ("run_cmd pure ()", "metaprogramming"),
        ("unsafe def f : Nat := 0", "unsafe"),
        ("prelude\ntheorem t : True := trivial", "prelude"),
        ("theorem t : 1 = 1 := by native_decide", "native_decide"),
        ('@[implemented_by g] def f : Nat := 0', "implemented_by"),
        ('@[extern "f"] opaque f : Nat', "extern"),
        ("import Lean.Elab\ntheorem t : True := trivial", "metaprogramming"),
        ('local notation "⟪" x "⟫" => x', "metaprogramming"),
        ("unif_hint (n : Nat) where n =?= 0 ⊢ n + 1 =?= 1", "metaprogramming"),
        # issue 25, item 5: an instance of a core class reached through a parent, a derived one,
        # native evaluation under `decide`, an elaborator import behind `all` or on a shared line
        ("class P extends LE Rat\ninstance : P := ⟨fun _ _ => True⟩", "instance_override"),
        ("class Q (α : Type) extends LE α\nclass P extends Q Rat\ninstance instP : P where\n  le _ _ := True",
         "instance_override"),
        ("class P (α : Type) extends Inhabited α, LE α where\n  x : Nat\ninstance : P Rat := ⟨⟨0⟩, ⟨fun _ _ => True⟩, 1⟩",
         "instance_override"),
        ("class abbrev P := LE Rat, Add Rat\ninstance : P := {}", "instance_override"),
        ("class P where\n  [inst : LE Rat]\ninstance : P := {}", "instance_override"),
        ("@[class] structure P extends LE Rat\ninstance : P := ⟨fun _ _ => True⟩", "instance_override"),
        ("deriving instance BEq for Rat", "instance_override"),
        ("deriving instance Repr, DecidableEq for Nat, Rat", "instance_override"),
        ("class P (α : Type) extends BEq α\nderiving instance P for Rat", "instance_override"),
        ("theorem t : 10 < 20 := by decide +native", "native_decide"),
        ("theorem t : 10 < 20 := by\n  decide (config := { native := true })", "native_decide"),
        ("import all Lean.Elab\ntheorem t : True := trivial", "metaprogramming"),
        ("module\npublic import Init.Data.List public import Lean\n", "metaprogramming"),
        ("module /- c -/ import\n  Lake\n", "metaprogramming"),
    ],
)
def test_policy_flags(source: str, rule: str) -> None:
    violations = scan(source, Policy())
    assert rule in [v.rule for v in violations], violations
    assert all(v.message for v in violations)


def test_instance_override_message_names_class_and_type() -> None:
    [v] = scan("instance : LE Rat := ⟨fun _ _ => True⟩", Policy())
    assert (v.rule, v.line, v.column) == ("instance_override", 1, 0)
    assert "core class LE" in v.message and "Rat" in v.message and "mean" in v.message


@pytest.mark.parametrize(
    "source",
    [
        "structure V where\n  x : Nat\ninstance : Add V := ⟨fun a b => ⟨a.x + b.x⟩⟩",
        ("inductive T | a | b\ninstance : DecidableEq T := fun a b => by cases a <;> cases b <;> "
        "first | exact isTrue rfl | exact isFalse (by intro h; cases h)"),
        "structure V where\n  x : Nat\nderiving instance BEq for V",
        "structure V where\n  x : Nat\n  deriving DecidableEq",
        "theorem t : True := trivial -- instance : LE Rat",
        'def s := "instance : LE Rat"',
        "class Judge (α : Type) where\n  ok : α → Prop\ninstance : Judge Nat := ⟨fun _ => True⟩",
        "structure T where\n  n : Nat\nclass P (α : Type) extends LE α\ninstance : P T := ⟨fun _ _ => True⟩",
        "structure T where\n  n : Nat\nclass P extends LE T\ninstance : P := ⟨fun _ _ => True⟩",
        "structure V where\n  x : Nat\nderiving instance BEq, Repr for V",
        "theorem t : 10 < 20 := by decide\ndef native : Nat := 1\ntheorem u : native = 1 := rfl",
    ],
)
def test_policy_allows_instances_on_the_files_own_types(source: str) -> None:
    assert scan(source, Policy()) == []


def test_trusted_tooling_may_declare_instances() -> None:
    assert scan("instance : LE Rat := ⟨fun _ _ => True⟩", Policy(trusted_tooling=True)) == []
    assert scan("attribute [local instance] leRat", Policy(trusted_tooling=True)) == []


def test_class_parent_message_names_the_path() -> None:
    [v] = scan("class Q (α : Type) extends LE α\nclass P extends Q Rat\ninstance : P := ⟨fun _ _ => True⟩",
               Policy())
    assert (v.rule, v.line) == ("instance_override", 3)
    assert "extends the core class LE (P → Q → LE)" in v.message
    [d] = scan("deriving instance BEq for Rat", Policy())
    assert "core class BEq" in d.message and "Rat" in d.message


def test_native_evaluation_is_named_plainly() -> None:
    [v] = scan("theorem t : 10 < 20 := by decide +native", Policy())
    assert "native code" in v.message and "Lean.ofReduceBool" in v.message


# -- the header, as Lean's grammar reads it (one reader for every caller) -----------------------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("module\npublic import Formal.Basic public import Formal.Units\n", ["Formal.Basic", "Formal.Units"]),
        ("import A import B import C\ntheorem t : True := trivial", ["A", "B", "C"]),
        ("module\n\npublic\n  meta\n  import all\n   Formal.A\n-- import Fake\n/- import Fake2 -/ import «Formal».«B»",
         ["Formal.A", "Formal.B"]),
        ("/- import X -/ prelude import Init.Core", ["Init.Core"]),
        ("import A\ndef s := \"import Z\"\nimport Q", ["A"]),  # Lean's header ended at `def`
        ("import A\npublic section\n", ["A"]),
        ("theorem t : True := trivial\nimport A", []),
        ("", []),
    ],
)
def test_imports_follow_leans_header_grammar(source: str, expected: list[str]) -> None:
    assert imports(source) == expected


def test_header_positions_and_end() -> None:
    text = "module\npublic import A  public import B\n\npublic section\n"
    h = header(text)
    assert h.module and not h.prelude
    assert [(i.module, i.line, i.column) for i in h.imports] == [("A", 2, 14), ("B", 2, 31)]
    assert text[: h.end].endswith("import B")
