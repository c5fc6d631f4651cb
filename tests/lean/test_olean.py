"""The .olean reader against facts: a small module compiled by the real embedded Lean, the
shipped core library, and corrupt files (which must fail clearly, never pass)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.lean.builds import keep_parts
from pipeline.lean.checker import Checker
from pipeline.lean.models import DEFAULT_AXIOMS, CheckRequest, Policy
from pipeline.lean.olean.audit import axioms_reached, meaning, witness_applies
from pipeline.lean.olean.decode import Decoder, Kind
from pipeline.lean.olean.environment import CORE_AXIOMS, CoreIndex, ProjectEnvironment
from pipeline.lean.olean.region import OleanFormatError, Region, module_parts
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.settings import Settings
from tests.conftest import lean_home, make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]

SAMPLE = """module
public section
noncomputable section
namespace T

inductive Color where
  | red
  | green

@[expose] def f (n : Nat) : Nat := n + 1

theorem helper_only_in_proof (n : Nat) : n < n + 1 := Nat.lt_succ_self n

theorem f_pos (n : Nat) : 0 < f n := by
  have h := helper_only_in_proof n
  unfold f; omega

theorem em' (p : Prop) : p ∨ ¬p := Classical.em p

def pick (h : Nonempty Nat) : Nat := Classical.choice h
theorem pick_eq (h : Nonempty Nat) : pick h = pick h := rfl

theorem same_a : ∀ n : Nat, 0 < n + 1 := fun n => Nat.succ_pos n
theorem same_b : ∀ m : Nat, 0 < m + 1 := fun m => Nat.zero_lt_succ m
theorem other : ∀ n : Nat, 0 < 1 + n := fun n => by omega

theorem big : (1267650600228229401496703205376 : Nat) = 2 ^ 100 := by decide

theorem cond (n : Nat) (h_small : n < 5) : n < 6 := by omega
theorem cond_witness : 3 < 6 := cond 3 (by decide)
theorem cond_fake : ∀ n : Nat, n < 5 → n < 6 := fun n h => cond n h

set_option pp.all true in
#check @f_pos
set_option pp.all true in
#check @cond
set_option pp.all true in
#check @same_a

end T
end
end
"""


PRINTED: dict[str, str] = {}
"""What Lean printed for ``#check`` (pp.all) while compiling SAMPLE: name -> type."""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Path, Checker]]:
    root = tmp_path_factory.mktemp("olean") / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test\n")
    settings = make_settings(root, pool_size=1)
    with Checker(settings, expected_leases=0) as checker:  # one-shot: one compile (and its replay)
        out = settings.build_dir / "T.olean"
        result = checker.compiler.compile_module("T", SAMPLE, out)
        assert result.accepted, result.diagnostics()
        for message in result.messages:
            name, sep, printed = message.text.partition(" : ")
            if message.severity.value == "information" and sep:
                PRINTED[name.strip()] = " ".join(printed.split())
        yield settings, out, checker


@pytest.fixture(scope="module")
def core() -> CoreIndex:
    return CoreIndex.load(lean_home() / "core-index.json")


def _env(core: CoreIndex, olean: Path) -> ProjectEnvironment:
    env = ProjectEnvironment(core)
    env.add_module("T", olean)
    return env


def test_all_parts_are_written_and_read_as_one_region(compiled: tuple[Settings, Path, Checker]) -> None:
    _settings, olean, _checker = compiled
    parts = module_parts(olean)
    assert [p.name for p in parts] == ["T.olean", "T.olean.server", "T.olean.private"]
    region = Region(parts)
    decoder = Decoder(region)
    exported = {c.name: c.kind for c in decoder.module_data(0).constants}
    private = {c.name: c for c in decoder.module_data().constants}
    # Lean exports a theorem as an axiom without a proof; the private part has the theorem
    assert exported["T.f_pos"] is Kind.axiom
    assert private["T.f_pos"].kind is Kind.theorem and private["T.f_pos"].value is not None
    # a lemma used only inside a proof appears in the private part's proof, not the exported one
    assert "T.helper_only_in_proof" in decoder.referenced(private["T.f_pos"])
    assert {c.name for c in decoder.module_data(0).constants if "helper" in c.name} <= {"T.helper_only_in_proof"}


def test_names_and_kinds_as_declared(compiled: tuple[Settings, Path, Checker], core: CoreIndex) -> None:
    _s, olean, _c = compiled
    env = _env(core, olean)
    kinds = {name: loc.constant.kind for name, loc in env.constants.items()}
    assert kinds["T.Color"] is Kind.inductive
    assert kinds["T.Color.red"] is Kind.constructor and kinds["T.Color.green"] is Kind.constructor
    assert kinds["T.Color.rec"] is Kind.recursor
    assert kinds["T.f"] is Kind.definition
    assert kinds["T.f_pos"] is Kind.theorem
    color = env.get("T.Color")
    assert color is not None and color.constant.names == ("T.Color.red", "T.Color.green")
    f = env.get("T.f")
    assert f is not None and {"HAdd.hAdd", "Nat"} <= f.decoder.constants_in(f.constant.value or 0)


def test_axioms_of_known_theorems(compiled: tuple[Settings, Path, Checker], core: CoreIndex) -> None:
    _s, olean, _c = compiled
    env = _env(core, olean)
    pick_axioms, unknown = axioms_reached(env, "T.pick_eq")  # through the project's own `pick`
    assert pick_axioms == {"Classical.choice"} and not unknown
    # `Classical.em` is a core theorem shipped without its proof: trusted, its axioms unseen
    assert axioms_reached(env, "T.em'") == (set(), set())
    assert core.kind("Classical.em") == "theorem"
    assert axioms_reached(env, "T.same_a")[0] <= DEFAULT_AXIOMS
    assert set(CORE_AXIOMS) <= {n for n, k in core.kinds.items() if k == "axiom"}
    assert core.kind("Nat.add_comm") == "theorem" and core.kind("Nat") == "inductive"
    assert core.axioms_of("sorryAx") == ("sorryAx",)


def test_types_compare_as_expressions(compiled: tuple[Settings, Path, Checker], core: CoreIndex) -> None:
    _s, olean, _c = compiled
    env = _env(core, olean)
    # equal up to binder names; a different expression (1 + n) differs
    assert meaning(env, "T.same_a").statement == meaning(env, "T.same_b").statement
    assert meaning(env, "T.same_a").statement != meaning(env, "T.other").statement
    big = env.get("T.big")
    assert big is not None
    # the 101-bit literal is read from its big-number object (Lean-native limbs)
    assert 2 ** 100 in _literals(big.decoder, big.constant.type)


def _literals(decoder: Decoder, root: int) -> set[int]:
    found: set[int] = set()
    stack = [root]
    while stack:
        tag, subs, others, _ = decoder.expr_children(stack.pop())
        if tag == 9:  # lit
            lit_tag, lit_fields, _ = decoder.region.ctor(others[0])
            if lit_tag == 0:
                found.add(decoder.region.nat(lit_fields[0]))
        stack.extend(subs)
    return found


def test_witness_must_close_every_hypothesis(compiled: tuple[Settings, Path, Checker], core: CoreIndex) -> None:
    _s, olean, _c = compiled
    env = _env(core, olean)
    assert witness_applies(env, "T.cond_witness", "T.cond") is None
    why = witness_applies(env, "T.cond_fake", "T.cond")
    assert why is not None and "left open" in why
    assert witness_applies(env, "T.same_a", "T.cond") is not None


def test_checked_file_facts(compiled: tuple[Settings, Path, Checker]) -> None:
    _settings, _olean, checker = compiled
    result = checker.check(CheckRequest(source="theorem uses : 0 < 5 := by decide\n"))
    assert result.accepted, result.diagnostics()
    assert result.environment is not None
    fact = result.environment.declaration("uses")
    assert fact is not None and fact.kind == "theorem" and fact.axioms == ()
    assert result.axioms == ()


@pytest.mark.parametrize("damage", ["truncate", "githash", "garbage", "pointer"])
def test_corrupt_files_are_errors_never_passes(compiled: tuple[Settings, Path, Checker], core: CoreIndex,
                                               tmp_path: Path, damage: str) -> None:
    _s, olean, _c = compiled
    target = tmp_path / "T.olean"
    for part in module_parts(olean):
        shutil.copy(part, tmp_path / part.name)
    data = bytearray(target.read_bytes())
    if damage == "truncate":
        target.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "githash":
        data[40:48] = b"deadbeef"
        target.write_bytes(bytes(data))
    elif damage == "garbage":
        target.write_bytes(b"not an olean at all" * 10)
    else:  # the root pointer aimed outside every part
        data[84:88] = (0xFFFFFFF0).to_bytes(4, "little")
        target.write_bytes(bytes(data))
    with pytest.raises(OleanFormatError) as err:
        _env(core, target).get("T.f")
    assert "T.olean" in str(err.value)
    # through the auditor the same file is an 'unreadable' issue, which rejects
    auditor = EnvironmentAuditor(lean_home() / "lib", lean_home() / "core-index.json", tmp_path / "none")
    audit = auditor.audit_file(target, [], Policy())
    assert [i.rule for i in audit.issues] == ["unreadable"]


PLAIN_DEF = """module
public section
noncomputable section
namespace L
@[expose] def d (n : Nat) : Nat := n - 1
theorem d_le : ∀ n : Nat, d n ≤ n := fun n => Nat.sub_le n 1
end L
end
end
"""
LOCAL_INSTANCE = """module
public section
noncomputable section
namespace L
def zeroSub : Sub Nat := ⟨fun _ _ => 0⟩
attribute [local instance high] zeroSub
@[expose] def d (n : Nat) : Nat := n - 1
theorem d_le : ∀ n : Nat, d n ≤ n := fun n => Nat.zero_le n
end L
end
end
"""


def _compile_without_policy(checker: Checker, source: str, out: Path) -> None:
    with checker.backend.session(checker.settings.lean_timeout_s) as session:
        raw = session.compile("L.lean", source, "out/L.olean", checker.settings.lean_timeout_s)
        assert raw.returncode == 0, raw.stdout[-2000:]
        keep_parts(session.workdir / "out" / "L.olean", out)


def test_a_local_instance_changes_the_meaning_of_identical_text(compiled: tuple[Settings, Path, Checker],
                                                                core: CoreIndex, tmp_path: Path) -> None:
    """``def d (n : Nat) : Nat := n - 1`` is byte-identical in both modules; a local instance
    placed before it makes it 0. Text pins cannot tell; the compiled meaning can."""
    _s, _olean, checker = compiled
    digests = []
    for i, source in enumerate((PLAIN_DEF, LOCAL_INSTANCE)):
        out = tmp_path / f"v{i}" / "L.olean"
        _compile_without_policy(checker, source, out)  # the policy refuses `attribute [local instance]`
        env = ProjectEnvironment(core)
        env.add_module("L", out)
        digests.append(meaning(env, "L.d_le"))
    plain, hijacked = digests
    assert plain.statement == hijacked.statement  # the theorem's own type mentions only `d`
    assert plain.constants["L.d"] != hijacked.constants["L.d"]
    assert "L.zeroSub" in hijacked.constants and plain.digest != hijacked.digest


def test_types_print_as_lean_prints_them(compiled: tuple[Settings, Path, Checker], core: CoreIndex) -> None:
    """The reader's rendering of a type equals Lean's own ``#check`` with ``pp.all``."""
    _s, olean, _c = compiled
    env = _env(core, olean)
    prelude = Decoder(Region([lean_home() / "lib" / "Init" / "Prelude.olean"]))
    core_consts = {c.name: c for c in prelude.module_data().constants}

    def has_implicit(name: str) -> bool:
        located = env.get(name)
        if located is not None:
            return located.decoder.has_implicit_binders(located.constant)
        return prelude.has_implicit_binders(core_consts[name])

    assert set(PRINTED) >= {"T.f_pos", "T.cond", "T.same_a"}, PRINTED
    for name in ("T.f_pos", "T.cond", "T.same_a"):
        located = env.get(name)
        assert located is not None
        assert located.decoder.render(located.constant.type, has_implicit) == PRINTED[name]
