"""Structural checks on the kernel's terms (issue 25, item 6): forged ``.olean`` files — a real
compiled module with one object of its decoded structure edited in place — are rejected by the
audit with the reason named; the module as Lean wrote it, and the whole ``Formal/`` library,
pass. Two of the forgeries are lean4 kernel-bug classes of this Lean (4.28): a projection on the
wrong structure (#14576) and a metavariable left in an opaque value (#14484)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.lean.backends import EmbeddedBackend
from pipeline.lean.checker import Checker
from pipeline.lean.models import Policy
from pipeline.lean.olean.decode import BVAR, CONST, FVAR, LIT, MVAR, PROJ, Decoder
from pipeline.lean.olean.environment import CoreIndex, ProjectEnvironment
from pipeline.lean.olean.region import Region, module_parts
from pipeline.lean.olean.structural import structural_issues
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.settings import Settings
from tests.claims.fixtures import BuiltLibrary
from tests.conftest import lean_home, make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]

SAMPLE = """module
public section
noncomputable section
namespace S

structure P where
  x : Nat
  y : Nat

structure Q where
  a : Nat
  b : Nat
  c : Nat

@[expose] def twice (n : Nat) : Nat := n + n

opaque hidden : Nat := 5

theorem big : (1267650600228229401496703205376 : Nat) = 2 ^ 100 := by decide

@[expose] def greeting : String := "héllo ∀ \\n"

end S
end
end
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Path]]:
    root = tmp_path_factory.mktemp("structural") / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test\n")
    settings = make_settings(root, pool_size=1)
    with Checker(settings, expected_leases=0) as checker:  # one-shot: one compile (and its replay)
        out = settings.build_dir / "S.olean"
        result = checker.compiler.compile_module("S", SAMPLE, out)
        assert result.accepted, result.diagnostics()
        # every Lean process was started for a session that used it: none left starting or idle
        assert isinstance(checker.backend, EmbeddedBackend)
        stats = checker.backend.pool_stats()
        assert stats["started"] >= 1 and (stats["starting"], stats["idle"]) == (0, 0), stats
        yield settings, out


@pytest.fixture(scope="module")
def core() -> CoreIndex:
    return CoreIndex.load(lean_home() / "core-index.json")


def _auditor(tmp: Path) -> EnvironmentAuditor:
    return EnvironmentAuditor(lean_home() / "lib", lean_home() / "core-index.json", tmp / "no-build")


class Forger:
    """A copy of the compiled parts whose bytes can be edited at region addresses."""

    def __init__(self, olean: Path, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for part in module_parts(olean):
            shutil.copy(part, folder / part.name)
        self.olean = folder / olean.name
        self.region = Region(module_parts(self.olean))
        self.decoder = Decoder(self.region)
        self.data = {p.path: bytearray(p.data) for p in self.region.parts}

    def constant(self, name: str) -> tuple[int, int]:
        """(type address, value address) of a constant."""
        for c in self.decoder.module_data().constants:
            if c.name == name:
                assert c.value is not None
                return c.type, c.value
        raise AssertionError(name)

    def nodes(self, root: int, tag: int) -> list[int]:
        out, seen, stack = [], set(), [root]
        while stack:
            ptr = stack.pop()
            if ptr in seen:
                continue
            seen.add(ptr)
            t, subs, _o, _s = self.decoder.expr_children(ptr)
            if t == tag:
                out.append(ptr)
            stack.extend(subs)
        return out

    def write(self, addr: int, raw: bytes) -> None:
        for part in self.region.parts:
            if part.start <= addr and addr + len(raw) <= part.end:
                self.data[part.path][addr - part.base: addr - part.base + len(raw)] = raw
                return
        raise AssertionError(f"{addr:#x} is in no part")

    def field(self, obj: int, k: int, value: int) -> None:
        self.write(obj + 8 + k * self.region.ptr, value.to_bytes(self.region.ptr, "little"))

    def save(self) -> Path:
        for path, data in self.data.items():
            path.write_bytes(bytes(data))
        return self.olean


def _rejects(tmp: Path, olean: Path, *needles: str) -> str:
    audit = _auditor(tmp).audit_file(olean, [], Policy())
    issues = [i for i in audit.issues if i.rule == "ill_formed"]
    assert issues, audit.issues
    text = " | ".join(i.message for i in issues)
    for needle in needles:
        assert needle in text, text
    return text


def test_the_module_as_lean_wrote_it_passes(compiled: tuple[Settings, Path], core: CoreIndex,
                                            tmp_path: Path) -> None:
    _s, olean = compiled
    env = ProjectEnvironment(core, lean_home() / "lib")
    env.add_module("S", olean)
    assert structural_issues(env, "S", lean_home() / "lib") == []
    audit = _auditor(tmp_path).audit_file(olean, [], Policy())
    assert [i for i in audit.issues if i.rule == "ill_formed"] == []


def test_a_loose_bound_variable_is_rejected(compiled: tuple[Settings, Path], tmp_path: Path) -> None:
    forger = Forger(compiled[1], tmp_path / "f")
    _t, value = forger.constant("S.twice")
    bvar = forger.nodes(value, BVAR)[0]
    forger.field(bvar, 0, (7 << 1) | 1)  # #7 under one binder (the cached Expr.Data unchanged)
    _rejects(tmp_path, forger.save(), "S.twice", "loose bound variable")


@pytest.mark.parametrize(("tag", "needle"), [(MVAR, "a metavariable"), (FVAR, "a free variable")])
def test_a_metavariable_or_free_variable_in_a_value_is_rejected(compiled: tuple[Settings, Path], tmp_path: Path,
                                                                tag: int, needle: str) -> None:
    forger = Forger(compiled[1], tmp_path / "f")
    _t, value = forger.constant("S.twice")
    const = forger.nodes(value, CONST)[0]
    forger.write(const + 7, bytes((tag,)))  # the node's constructor tag
    _rejects(tmp_path, forger.save(), "S.twice", needle)


def test_a_metavariable_left_in_an_opaque_value_is_rejected(compiled: tuple[Settings, Path], tmp_path: Path) -> None:
    """lean4 #14484: the 4.28 kernel accepts an opaque whose value holds a metavariable."""
    forger = Forger(compiled[1], tmp_path / "f")
    _t, value = forger.constant("S.hidden")
    nodes = forger.nodes(value, CONST) or forger.nodes(value, LIT)
    forger.write(nodes[0] + 7, bytes((MVAR,)))
    _rejects(tmp_path, forger.save(), "opaque S.hidden", "a metavariable")


def _projection(forger: Forger) -> int:
    _t, value = forger.constant("S.P.x")
    return forger.nodes(value, PROJ)[0]


def _name_ptr(forger: Forger, constant: str, name: str) -> int:
    """The address of the Name object ``name`` as some constant node of ``constant`` holds it."""
    for root in forger.constant(constant):
        for node in forger.nodes(root, CONST):
            _t, _s, others, _sc = forger.decoder.expr_children(node)
            if forger.decoder.name(others[0]) == name:
                return others[0]
    raise AssertionError(name)


def test_a_projection_beyond_the_fields_is_rejected(compiled: tuple[Settings, Path], tmp_path: Path) -> None:
    forger = Forger(compiled[1], tmp_path / "f")
    forger.field(_projection(forger), 1, (5 << 1) | 1)
    _rejects(tmp_path, forger.save(), "S.P.x", "projection .5 of S.P, which has 2 field(s)")


def test_a_projection_of_a_type_that_is_no_structure_is_rejected(compiled: tuple[Settings, Path],
                                                                  tmp_path: Path) -> None:
    forger = Forger(compiled[1], tmp_path / "f")
    nat = _name_ptr(forger, "S.twice", "Nat")
    forger.field(_projection(forger), 0, nat)
    _rejects(tmp_path, forger.save(), "S.P.x", "of Nat, which is not a structure")


def test_a_projection_on_the_wrong_structure_is_rejected(compiled: tuple[Settings, Path], tmp_path: Path) -> None:
    """lean4 #14576: the 4.28 kernel accepts ``Expr.proj Q 0 p`` with ``p : P``; the structure
    named (``S.Q``, three fields) is structure-like and the index in range, only the inferred
    type of the argument shows the mismatch."""
    forger = Forger(compiled[1], tmp_path / "f")
    q = _name_ptr(forger, "S.Q.a", "S.Q")
    forger.field(_projection(forger), 0, q)
    _rejects(tmp_path, forger.save(), "S.P.x", "a projection of S.Q on a value of type S.P")


def test_ill_formed_literals_are_rejected(compiled: tuple[Settings, Path], tmp_path: Path) -> None:
    forger = Forger(compiled[1], tmp_path / "f")
    _t, value = forger.constant("S.greeting")
    lit = forger.nodes(value, LIT)[0]
    _lt, lf, _ = forger.region.ctor(forger.decoder.expr_children(lit)[2][0])
    string = lf[0]
    forger.write(string + 8 + 2 * forger.region.ptr, (99).to_bytes(forger.region.ptr, "little"))  # length
    _rejects(tmp_path, forger.save(), "S.greeting", "String literal")

    forger = Forger(compiled[1], tmp_path / "g")
    big_type, _v = forger.constant("S.big")
    mpz = None
    for node in forger.nodes(big_type, LIT):
        _lt, lf, _ = forger.region.ctor(forger.decoder.expr_children(node)[2][0])
        if not lf[0] & 1:
            mpz = lf[0]
    assert mpz is not None, "the literal 2^100 is a big number object"
    if forger.region.headers[0].flags & 1:  # GMP: {int alloc; int size; limbs}, the sign is size's
        size = forger.region.u32(mpz + 12)
        forger.write(mpz + 12, ((-size) & 0xFFFFFFFF).to_bytes(4, "little"))
    else:  # Lean's own: {bool sign; size_t size; digits}
        forger.write(mpz + 8, b"\x01")
    _rejects(tmp_path, forger.save(), "S.big", "negative Nat literal")


def test_the_whole_library_passes(built_library: BuiltLibrary, core: CoreIndex) -> None:
    settings = built_library.settings
    env = ProjectEnvironment(core, lean_home() / "lib")
    modules = sorted(p for p in settings.build_dir.rglob("*.olean"))
    assert modules, "the library was built"
    names = []
    for olean in modules:
        name = ".".join(olean.relative_to(settings.build_dir).with_suffix("").parts)
        env.add_module(name, olean)
        names.append(name)
    for name in names:
        assert structural_issues(env, name, lean_home() / "lib") == [], name
