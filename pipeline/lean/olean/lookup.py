"""Search and declaration look-up over the compiled environment: the core library's constants
and the project's own modules, read from the ``.olean`` files (no Lean process).

* :class:`CoreCatalog` — every core constant's module, kind and the constants its *type*
  mentions (its "shape"), built once per Lean install in parallel (~10-30 s) and cached beside
  the core index (``core-catalog.json``, keyed by the library's githash).
* :class:`Lookup` — the catalog plus the project's built modules (types, docstrings and
  declaration ranges come from the modules' server parts, which the project's build keeps):
  :meth:`Lookup.search` by name (substring, ranked) and by type shape (every constant named
  in ``mentions`` must occur in the type), :meth:`Lookup.declaration` (type, docstring, source
  location) in milliseconds once loaded.

The shipped core library holds only the exported part of each module: it has no docstrings
and no declaration ranges, so a core constant's ``docstring`` and ``location`` are ``None``.
Types are rendered in the notation of ``set_option pp.all true`` (explicit universes and
instances), the kernel's own view.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pipeline.lean.models import Location, Span
from pipeline.lean.olean.decode import Constant, Decoder
from pipeline.lean.olean.environment import CORE_AXIOMS
from pipeline.lean.olean.region import OleanFormatError, Region, module_parts
from pipeline.models import Frozen

CATALOG_FILE = "core-catalog.json"
CATALOG_VERSION = 1
DOC_EXT = "Lean.docStringExt"
RANGE_EXT = "Lean.declRangeExt"


class SearchHit(Frozen):
    name: str
    kind: str
    module: str
    origin: str
    """``project`` or ``core``."""


class DeclarationInfo(SearchHit):
    """One constant, for an agent: its type, docstring and where it is declared."""

    type: str
    """The type as the kernel holds it (``pp.all`` notation)."""
    docstring: str | None = None
    location: Location | None = None
    """Where it is declared, from its doc comment to its end (project constants whose source
    is there; the shipped core keeps no declaration ranges)."""


class SearchResult(Frozen):
    query: str
    mentions: tuple[str, ...] = ()
    hits: tuple[SearchHit, ...] = ()
    total: int
    """How many constants matched (``hits`` holds the first ``limit``, best first)."""


def _module_name(lib: Path, path: Path) -> str:
    return ".".join(path.relative_to(lib).with_suffix("").parts)


def _core_kind(name: str, kind: str) -> str:
    """The exported library stores a core theorem as an axiom without a body."""
    return "theorem" if kind == "axiom" and name not in CORE_AXIOMS else kind


def _scan(path: str) -> list[tuple[str, str, list[str]]]:
    decoder = Decoder(Region([Path(path)]))
    data = decoder.module_data()
    return [(c.name, _core_kind(c.name, c.kind.value), sorted(decoder.constants_in(c.type)))
            for c in data.constants if not c.name.startswith("_private.")]


class CoreCatalog:
    """Core constant -> (module, kind, constants of its type)."""

    def __init__(self, githash: str, entries: dict[str, tuple[str, str, tuple[str, ...]]]) -> None:
        self.githash = githash
        self.entries = entries

    @classmethod
    def build(cls, lib: Path, githash: str, *, jobs: int | None = None) -> CoreCatalog:
        files = sorted(lib.rglob("*.olean"))
        if not files:
            raise OleanFormatError(f"{lib}: no .olean files to index")
        entries: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        workers = max(1, jobs or (os.cpu_count() or 1))
        # spawn, not fork: the catalog is built inside a threaded server (forking threads deadlocks)
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for path, rows in zip(files, pool.map(_scan, [str(p) for p in files], chunksize=16),
                                  strict=True):
                module = _module_name(lib, path)
                for name, kind, mentions in rows:
                    entries[name] = (module, kind, tuple(mentions))
        return cls(githash, entries)

    def save(self, path: Path) -> None:
        payload = {"version": CATALOG_VERSION, "githash": self.githash,
                   "entries": {k: [m, kd, list(t)] for k, (m, kd, t) in self.entries.items()}}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, githash: str) -> CoreCatalog | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != CATALOG_VERSION or data.get("githash") != githash:
            return None
        return cls(githash, {k: (str(v[0]), str(v[1]), tuple(v[2])) for k, v in data["entries"].items()})


def load_catalog(lib: Path, cache: Path, githash: str) -> CoreCatalog:
    """The cached catalog, or a new one (built, then cached)."""
    found = CoreCatalog.load(cache, githash)
    if found is not None:
        return found
    catalog = CoreCatalog.build(lib, githash)
    cache.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(cache)
    return catalog


class _ProjectConstant(DeclarationInfo):
    """A constant of the project's built modules, as read (its location from Lean's
    ``declRangeExt``), with the constants its type mentions (the search by type shape)."""

    mentions: tuple[str, ...] = ()


def _extension(decoder: Decoder, part: int, name: str) -> list[int]:
    region = decoder.region
    _tag, fields, _ = region.ctor(region.root(part))
    for entry in region.array(fields[4]):
        _t, (ext, items), _ = region.ctor(entry)
        if decoder.name(ext) == name:
            return list(region.array(items))
    return []


def read_project_module(module: str, olean: Path, githash: str, source: str | None) -> list[_ProjectConstant]:
    """The constants of one built project module, with docstrings and ranges (server part);
    ``source``: the module's project-relative source file, ``None`` when it is not there (no
    location then)."""
    region = Region(module_parts(olean), githash=githash)
    decoder = Decoder(region)
    data = decoder.module_data()
    docs: dict[str, str] = {}
    ranges: dict[str, Span] = {}
    for part in range(len(region.parts)):
        try:
            for item in _extension(decoder, part, DOC_EXT):
                _t, f, _ = region.ctor(item)
                docs.setdefault(decoder.name(f[0]), region.string(f[1]).strip())
            for item in _extension(decoder, part, RANGE_EXT):
                _t, f, _ = region.ctor(item)
                rng = region.ctor(region.ctor(f[1])[1][0])[1]
                start, end = region.ctor(rng[0])[1], region.ctor(rng[2])[1]
                ranges.setdefault(decoder.name(f[0]), Span(line=region.nat(start[0]), column=region.nat(start[1]),
                                                           end_line=region.nat(end[0]),
                                                           end_column=region.nat(end[1])))
        except (OleanFormatError, IndexError, ValueError):
            continue  # a part without the extensions' usual layout: no docs/ranges from it
    out = []
    for c in data.constants:
        if c.name.startswith("_private.") or _auxiliary(c):
            continue
        out.append(_ProjectConstant(
            name=c.name, kind=c.kind.value, module=module, origin="project", type=decoder.render(c.type),
            docstring=docs.get(c.name),
            location=Location(file=source, **ranges.get(c.name, Span()).model_dump()) if source else None,
            mentions=tuple(sorted(decoder.constants_in(c.type)))))
    return out


def _auxiliary(c: Constant) -> bool:
    last = c.name.rsplit(".", 1)[-1]
    return last.startswith(("match_", "proof_", "_")) or last in ("eq_def", "eq_1", "eq_2")


class Lookup:
    """Search and look-up over core and the project (see the module docstring). Thread-safe;
    the project part is re-read when a module's ``.olean`` changes."""

    def __init__(self, lib: Path, catalog_path: Path, githash: str, build_dir: Path, project_root: Path) -> None:
        self.lib, self.catalog_path, self.githash = lib, catalog_path, githash
        self.build_dir, self.project_root = build_dir, project_root
        self._catalog: CoreCatalog | None = None
        self._rows: list[tuple[str, str, str, str, tuple[str, ...]]] = []
        """Core constants as (lower-case name, name, kind, module, type's constants)."""
        self._by_mention: dict[str, list[int]] | None = None
        """Constant -> indices of the core rows whose type mentions it (built on first use)."""
        self._project: dict[str, tuple[float, list[_ProjectConstant]]] = {}
        self._lock = threading.Lock()

    def catalog(self) -> CoreCatalog:
        with self._lock:
            if self._catalog is None:
                self._catalog = load_catalog(self.lib, self.catalog_path, self.githash)
                self._rows = [(n.lower(), n, kd, m, t) for n, (m, kd, t) in self._catalog.entries.items()]
            return self._catalog

    def project(self) -> dict[str, _ProjectConstant]:
        """Every constant of the project's built modules (re-read when a module is rebuilt)."""
        found: dict[str, _ProjectConstant] = {}
        oleans = sorted(self.build_dir.rglob("*.olean")) if self.build_dir.is_dir() else []
        for olean in oleans:
            module = _module_name(self.build_dir, olean)
            mtime = olean.stat().st_mtime
            with self._lock:
                cached = self._project.get(module)
            if cached is None or cached[0] != mtime:
                source = Path(*module.split(".")).with_suffix(".lean")
                try:
                    constants = read_project_module(module, olean, self.githash, source.as_posix()
                                                    if (self.project_root / source).is_file() else None)
                except OleanFormatError:
                    continue
                cached = (mtime, constants)
                with self._lock:
                    self._project[module] = cached
            for c in cached[1]:
                found[c.name] = c
        return found

    def warm(self) -> None:
        self.catalog()
        self._mention_index()
        self.project()

    def search(self, query: str, mentions: Sequence[str] = (), limit: int = 20) -> SearchResult:
        """Constants whose name contains ``query`` (case-insensitive; empty: any) and whose type
        mentions every constant in ``mentions`` (full names, or a last component ``le`` that
        matches ``Nat.le``); best first: exact name or last component, then prefix, then the
        project's before core's, then shorter names."""
        q = query.strip().lower()
        wanted = [m.strip() for m in mentions if m.strip()]
        project = self.project()
        self.catalog()
        core: Iterable[tuple[str, str, str, str, tuple[str, ...]]]
        if wanted:
            index = self._mention_index()
            sets = [set().union(*(index.get(full, ()) for full in self._expand(w))) for w in wanted]
            core = (self._rows[i] for i in sorted(set.intersection(*sets)))
        else:
            core = self._rows
        rows: Iterable[tuple[str, str, str, str, tuple[str, ...]]] = (
            *((c.name.lower(), c.name, c.kind, c.module, c.mentions) for c in project.values()),
            *(core if not q else (r for r in core if q in r[0])),
        )
        hits: list[tuple[tuple[int, int, int, str], SearchHit]] = []
        for lower, name, kind, module, types in rows:
            if q and q not in lower:
                continue
            if wanted and not all(_mentions(types, w) for w in wanted):
                continue
            origin = "project" if name in project else "core"
            last = lower.rsplit(".", 1)[-1]
            rank = (0 if q in (lower, last) else 1 if last.startswith(q) or lower.startswith(q) else 2,
                    0 if origin == "project" else 1, len(name), name)
            hits.append((rank, SearchHit(name=name, kind=kind, module=module, origin=origin)))
        hits.sort(key=lambda h: h[0])
        return SearchResult(query=query, mentions=tuple(wanted), hits=tuple(h for _, h in hits[:limit]),
                            total=len(hits))

    def _mention_index(self) -> dict[str, list[int]]:
        with self._lock:
            if self._by_mention is None:
                index: dict[str, list[int]] = {}
                for i, row in enumerate(self._rows):
                    for used in row[4]:
                        index.setdefault(used, []).append(i)
                self._by_mention = index
            return self._by_mention

    def _expand(self, wanted: str) -> list[str]:
        """``Nat.le`` as given; ``le`` -> every constant whose last component is ``le``."""
        if "." in wanted:
            return [wanted]
        return [k for k in self._mention_index() if k == wanted or k.endswith("." + wanted)]

    def declaration(self, name: str) -> DeclarationInfo | None:
        """The constant ``name`` (project first, then core); None when neither has it."""
        own = self.project().get(name)
        if own is not None:
            return DeclarationInfo.model_validate(own.model_dump(exclude={"mentions"}))
        entry = self.catalog().entries.get(name)
        if entry is None:
            return None
        module, kind, _ = entry
        decoder = Decoder(Region([self.lib / Path(*module.split(".")).with_suffix(".olean")]))
        const = next((c for c in decoder.module_data().constants if c.name == name), None)
        if const is None:  # pragma: no cover - the catalog was built from this file
            return None
        return DeclarationInfo(name=name, kind=kind, module=module, origin="core", type=decoder.render(const.type))


def _mentions(types: tuple[str, ...], wanted: str) -> bool:
    if "." in wanted:
        return wanted in types
    return any(t == wanted or t.endswith("." + wanted) for t in types)


__all__ = ["CATALOG_FILE", "CoreCatalog", "DeclarationInfo", "Lookup", "SearchHit", "SearchResult", "load_catalog",
           "read_project_module"]
