"""The compiled environment: the core library's index and the project's own modules.

* :class:`CoreIndex` — built once per Lean install (``sequent lean install``): every constant of
  the shipped library (``Init``, ``Std``, ``Lean``, ``Lake``) with its kind, and which axioms
  outside the allowlist each reaches. The shipped library holds only the exported part of each
  module, where Lean 4.28 stores a theorem as an ``axiom`` with no body; so a core "axiom" that
  is not one of :data:`CORE_AXIOMS` is an exported theorem of the (trusted) core library.
* :class:`ProjectEnvironment` — the project's modules read from their ``.olean`` parts (the
  private part holds proof bodies) plus any extra compiled file (a checked file, a submission).
  Every constant's references resolve to a project constant or to a core one; anything else is
  an error, never a pass.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.lean.olean.decode import Constant, Decoder, Kind, ModuleData
from pipeline.lean.olean.region import OleanFormatError, Region, module_parts

CORE_AXIOMS: tuple[str, ...] = (
    "propext", "Classical.choice", "Quot.sound",
    "sorryAx", "Lean.ofReduceBool", "Lean.ofReduceNat", "Lean.trustCompiler",
)
"""The axioms Lean's core library declares (``axiom`` commands in ``Init``). Everything else the
exported library stores as an axiom is a theorem whose proof was not shipped."""

INDEX_FILE = "core-index.json"
INDEX_VERSION = 1


@dataclass(frozen=True, slots=True)
class CoreIndex:
    githash: str
    lean_version: str
    kinds: dict[str, str]
    """Constant name -> kind (``theorem`` for an exported theorem, ``axiom`` only for
    :data:`CORE_AXIOMS`)."""
    axioms: dict[str, tuple[str, ...]]
    """Constant name -> the core axioms it reaches, only where that set is not empty."""
    modules: int
    elapsed_s: float

    def kind(self, name: str) -> str | None:
        return self.kinds.get(name)

    def axioms_of(self, name: str) -> tuple[str, ...]:
        return self.axioms.get(name, ())

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        payload = {"version": INDEX_VERSION, "githash": self.githash, "lean_version": self.lean_version,
                   "modules": self.modules, "elapsed_s": self.elapsed_s,
                   "kinds": self.kinds, "axioms": {k: list(v) for k, v in sorted(self.axioms.items())}}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> CoreIndex:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise OleanFormatError(f"{path}: no core index; run `sequent lean install`") from exc
        except (OSError, ValueError) as exc:
            raise OleanFormatError(f"{path}: unreadable core index; run `sequent lean install`") from exc
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            raise OleanFormatError(f"{path}: core index of another version; run `sequent lean install`")
        return cls(githash=str(data["githash"]), lean_version=str(data["lean_version"]),
                   kinds=dict(data["kinds"]), axioms={k: tuple(v) for k, v in data["axioms"].items()},
                   modules=int(data["modules"]), elapsed_s=float(data["elapsed_s"]))


def _scan_core_module(path: str) -> tuple[str, str, list[tuple[str, str, list[str]]]]:
    """One library module: (githash, version, [(name, kind, referenced constants)])."""
    region = Region([Path(path)])
    decoder = Decoder(region)
    data = decoder.module_data()
    rows = [(c.name, c.kind.value, sorted(decoder.referenced(c))) for c in data.constants]
    return region.githash, region.lean_version, rows


def build_core_index(lib: Path, *, jobs: int | None = None) -> CoreIndex:
    """Index every module of the shipped library (in parallel, one process per core)."""
    started = time.monotonic()
    files = sorted(str(p) for p in lib.rglob("*.olean"))
    if not files:
        raise OleanFormatError(f"{lib}: no .olean files to index")
    kinds: dict[str, str] = {}
    refs: dict[str, list[str]] = {}
    githashes: set[str] = set()
    version = ""
    workers = max(1, jobs or (os.cpu_count() or 1))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for githash, lean_version, rows in pool.map(_scan_core_module, files, chunksize=16):
            githashes.add(githash)
            version = lean_version
            for name, kind, used in rows:
                if kind == Kind.axiom.value and name not in CORE_AXIOMS:
                    kind = Kind.theorem.value
                kinds[name] = kind
                refs[name] = used
    if len(githashes) != 1:
        raise OleanFormatError(f"{lib}: modules from {len(githashes)} different Lean builds")
    axioms = _reach(refs, {a for a in CORE_AXIOMS if kinds.get(a) == Kind.axiom.value})
    return CoreIndex(githash=githashes.pop(), lean_version=version, kinds=kinds, axioms=axioms,
                     modules=len(files), elapsed_s=round(time.monotonic() - started, 2))


def _reach(refs: dict[str, list[str]], axioms: set[str]) -> dict[str, tuple[str, ...]]:
    """For every constant, the axioms it reaches through the reference graph (iterative DFS,
    strongly connected components resolved by a fixed point over the reverse graph)."""
    reached: dict[str, set[str]] = {a: {a} for a in axioms}
    users: dict[str, list[str]] = {}
    for name, used in refs.items():
        for u in used:
            users.setdefault(u, []).append(name)
    frontier = list(axioms)
    while frontier:
        current = frontier.pop()
        for user in users.get(current, ()):
            have = reached.setdefault(user, set())
            before = len(have)
            have |= reached[current]
            if len(have) != before:
                frontier.append(user)
    return {name: tuple(sorted(s)) for name, s in reached.items() if s}


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Located:
    """A project constant and where it lives."""

    module: str
    decoder: Decoder
    constant: Constant


class ProjectEnvironment:
    """The project's compiled modules (all parts), indexed by constant name."""

    def __init__(self, core: CoreIndex, library: Path | None = None) -> None:
        self.core = core
        self.library = library
        """The installed core library the ``core`` index was built from (its terms are read
        from there where a rule needs them: :mod:`pipeline.lean.olean.terms`)."""
        self.constants: dict[str, Located] = {}
        self.modules: dict[str, ModuleData] = {}
        self.decoders: dict[str, Decoder] = {}

    def add_module(self, module: str, olean: Path) -> ModuleData:
        """Read one compiled module (every part beside ``olean``) and index its constants."""
        if not olean.is_file():
            raise OleanFormatError(f"{olean}: not built")
        region = Region(module_parts(olean), githash=self.core.githash)
        decoder = Decoder(region)
        data = decoder.module_data()
        self.add_decoded(module, decoder, data)
        return data

    def add_decoded(self, module: str, decoder: Decoder, data: ModuleData) -> None:
        """Index a module that was already decoded (cached by the caller)."""
        self.modules[module] = data
        self.decoders[module] = decoder
        for const in data.constants:
            if const.name in self.core.kinds:
                raise OleanFormatError(f"{module}: redeclares the core constant {const.name}")
            if const.name in self.constants and self.constants[const.name].module != module:
                raise OleanFormatError(f"{module}: redeclares {const.name} of {self.constants[const.name].module}")
            self.constants[const.name] = Located(module, decoder, const)

    def get(self, name: str) -> Located | None:
        return self.constants.get(name)

    def declared_in(self, module: str) -> Sequence[Constant]:
        return self.modules[module].constants


def core_index_path(lean_dir: Path) -> Path:
    return lean_dir / INDEX_FILE


__all__ = ["CORE_AXIOMS", "CoreIndex", "Located", "ProjectEnvironment", "build_core_index", "core_index_path"]
