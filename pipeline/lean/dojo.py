"""LeanDojo's tracer as an optional engine of ``sequent trace`` (extra ``dojo``).

Where ``lean-dojo-v2`` and a native Lean toolchain (``lake`` of the project's pinned version)
are installed, ``sequent trace --engine dojo`` runs LeanDojo's own tracer on the project's git
checkout and writes its traced tactics in the same JSON Lines layout as the embedded engine
(:class:`pipeline.lean.trace.TacticStep`), with LeanDojo's premises. Everywhere else it says
why it cannot run: LeanDojo needs a native toolchain (it builds the project with ``lake`` and
reads the info trees), which the embedded wasm Lean does not provide.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.lean.models import Location
from pipeline.lean.trace import ConstantRef, TacticStep

EXTRA = "pip install -e '.[dojo]'"


def unavailable() -> str | None:
    """Why LeanDojo cannot trace here, or ``None`` when it can."""
    try:
        importlib.import_module("lean_dojo_v2")
    except ImportError:
        return f"lean-dojo-v2 is not installed ({EXTRA})"
    if shutil.which("lake") is None or shutil.which("lean") is None:
        return "LeanDojo needs a native Lean toolchain (lake and lean on PATH, e.g. from elan)"
    return None


def _goals(state: str) -> tuple[str, ...]:
    state = state.strip()
    if not state or state == "no goals":
        return ()
    return tuple(g.strip() for g in state.split("\n\n") if g.strip())


def _premise(provenance: dict[str, Any]) -> ConstantRef:
    """LeanDojo's provenance (``full_name``, ``def_path``, ``def_pos``: 1-based line and column)
    as a :class:`ConstantRef`; the module is the path's, below ``.lake/packages/<pkg>/`` or the
    toolchain's ``library/`` for constants outside the project."""
    path = Path(str(provenance.get("def_path") or ""))
    parts = path.with_suffix("").parts
    outside = path.is_absolute() or (parts[:1] == (".lake",))
    for anchor in ("library", "packages"):
        if anchor in parts:
            cut = parts.index(anchor) + (2 if anchor == "packages" else 1)
            parts = parts[cut:]
    pos = provenance.get("def_pos") or (None, None)
    end = provenance.get("def_end_pos") or (None, None)
    location = None if outside else Location(file=path.as_posix(), line=pos[0], column=pos[1] - 1 if pos[1] else None,
                                             end_line=end[0], end_column=end[1] - 1 if end[1] else None)
    return ConstantRef(full_name=str(provenance["full_name"]), module=".".join(parts),
                       origin="core" if outside else "project", location=location)


def steps(project_root: Path, commit: str = "HEAD") -> Iterator[TacticStep]:
    """Every traced tactic of the project at ``commit`` (a local git checkout), as LeanDojo
    reports it."""
    reason = unavailable()
    if reason is not None:
        raise InputError(f"cannot trace with LeanDojo: {reason}")
    dojo: Any = importlib.import_module("lean_dojo_v2")
    from pipeline.vcs import GitRepository  # resolve HEAD to the hash LeanDojo caches by

    with GitRepository(project_root) as repo:
        sha = repo.resolve(commit)
    traced = dojo.trace(dojo.LeanGitRepo(str(project_root.resolve()), sha))
    for thm in traced.get_traced_theorems():
        statement = thm.get_theorem_statement()
        for tac in thm.get_traced_tactics():
            _annotated, provenances = tac.get_annotated_tactic()
            yield TacticStep(
                file=Path(thm.file_path).as_posix(), declaration=thm.theorem.full_name, kind="theorem",
                statement=statement, tactic=tac.tactic, line=tac.start.line_nb,
                column=tac.start.column_nb - 1, state_before=tac.state_before,
                state_after=tac.state_after, goals_before=_goals(tac.state_before),
                goals_after=_goals(tac.state_after),
                end_line=tac.end.line_nb, end_column=tac.end.column_nb - 1,
                premises=tuple({str(p["full_name"]): _premise(p) for p in provenances}.values()),
            )


__all__ = ["steps", "unavailable"]
