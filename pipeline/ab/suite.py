"""Task suites: the shipped one, built from this repository, and the claims of a project.

* every claim of ``claims/`` (id ``claim:<id>``): the pinned statement, hidden proof = the
  declaration's proof in ``Formal/``;
* every ``theorem``/``lemma`` of ``Formal/`` that is not a claim's declaration (id
  ``formal:<declaration>``): its signature as a ``∀`` statement, hidden proof = its proof;
* the core-Lean tasks of ``suites/core_tasks.lean`` (id ``core:<theorem>``), graded by
  difficulty; tests/ab checks every reference proof with the real Lean.

Task ids depend only on names, so they are stable across edits of proofs; the suite digest
changes whenever a statement, an import, an ``open`` or a reference proof changes.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.ab.models import Suite, Task
from pipeline.claims.models import Claim, LeanRef
from pipeline.claims.registry import read_registry
from pipeline.lean.syntax import (
    THEOREM_KINDS,
    Declaration,
    blank_comments_and_strings,
    declarations,
    strip_comments,
    top_level_index,
)
from pipeline.settings import Settings

SUITE_VERSION = "1"
CORE_TASKS = Path(__file__).resolve().parent / "suites" / "core_tasks.lean"
_DIFFICULTY = re.compile(r"difficulty:\s*(\d+)")
_TRAILING_DOC = re.compile(r"\s*/--(?:(?!/--)[\s\S])*-/\s*$")
"""The doc comment of the next declaration, which a declaration's text runs into."""
_OPEN = re.compile(r"^\s*open\s+([^\n]+?)(?:\s+in)?\s*$", re.MULTILINE)


_VARIABLE = re.compile(r"^variable\b(.*)$", re.MULTILINE)


def section_binders(source: str, before_line: int) -> list[str]:
    """The binder groups of the file's ``variable`` commands above ``before_line`` (a
    declaration's statement includes those it mentions; taking them all may add an unused
    hypothesis, which only weakens the statement to prove)."""
    blanked = blank_comments_and_strings(source)
    found: list[str] = []
    for m in _VARIABLE.finditer(blanked):
        if blanked.count("\n", 0, m.start()) + 1 < before_line:
            found += _binder_groups(m.group(1))
    return found


def _used(groups: tuple[str, ...], text: str) -> list[str]:
    """The ``variable`` groups a signature uses, as Lean includes them: a group whose names
    occur in ``text``, and an instance group mentioning an included name."""
    words = set(re.findall(r"[^\W\d][\w'?!]*", blank_comments_and_strings(text)))
    kept: list[str] = []
    for group in groups:
        inner = group[1:-1]
        if group.startswith("["):
            mentioned = set(re.findall(r"[^\W\d][\w']*", inner.split(":")[-1]))
            if mentioned & included(kept):
                kept.append(group)
        elif set(inner.split(":")[0].split()) & words:
            kept.append(group)
    return kept


def included(groups: list[str]) -> set[str]:
    return {n for g in groups if not g.startswith("[") for n in g[1:-1].split(":")[0].split()}


def _binder_groups(text: str) -> list[str]:
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{⦃":
            if depth == 0:
                start = i
            depth += 1
        elif ch in ")]}⦄":
            depth -= 1
            if depth == 0:
                groups.append(text[start:i + 1])
    return groups


def split_declaration(decl: Declaration, context: tuple[str, ...] = ()) -> tuple[str, str]:
    """(statement as a closed ``∀`` type, proof text) of a theorem declaration; ``context``:
    binder groups of ``variable`` commands in scope."""
    blanked = blank_comments_and_strings(decl.text)
    cut, skipped = top_level_index(blanked, ":="), 0
    while cut >= 0 and len(re.findall(r"(?<![\w.])let\b", blanked[:cut])) > skipped:
        skipped += 1  # the `:=` of a `let` in the statement, not the proof's
        nxt = top_level_index(blanked[cut + 2:], ":=")
        cut = cut + 2 + nxt if nxt >= 0 else -1
    proof = _TRAILING_DOC.sub("", decl.text[cut + 2:]).strip() if cut >= 0 else ""
    # comments removed, string literals and line breaks kept (a `let` ends at a line break)
    head = strip_comments(decl.text[:cut] if cut >= 0 else decl.text).strip()
    m = re.search(rf"\b(?:theorem|lemma)\s+{re.escape(decl.short_name)}", head)
    rest = head[m.end():] if m else head
    colon = top_level_index(rest, ":")
    if colon < 0:
        raise ValueError(f"{decl.name}: the signature has no type")
    binders = _binder_groups(rest[:colon])
    if "".join("".join(binders).split()) != "".join(rest[:colon].split()):  # stray text
        raise ValueError(f"{decl.name}: cannot read the binders of its signature")
    conclusion = rest[colon + 1:].strip()
    binders = [*_used(context, " ".join([*binders, conclusion])), *binders]
    statement = f"∀ {' '.join(binders)}, {conclusion}" if binders else conclusion
    return statement, proof


def _namespaces(name: str) -> tuple[str, ...]:
    parts = name.split(".")[:-1]
    return tuple(".".join(parts[: k + 1]) for k in range(len(parts)))


def _module_of(settings: Settings, path: Path) -> str:
    rel = path.relative_to(settings.project_root).with_suffix("")
    return ".".join(rel.parts)


def core_tasks(path: Path = CORE_TASKS) -> list[Task]:
    source = path.read_text(encoding="utf-8")
    lines = source.split("\n")
    tasks = []
    for decl in declarations(source):
        if decl.kind not in THEOREM_KINDS:
            continue
        statement, proof = split_declaration(decl)
        found = _DIFFICULTY.search(lines[decl.line - 2]) if decl.line >= 2 else None
        tasks.append(Task(id=f"core:{decl.name}", kind="core", module="Init",
                          declaration=decl.name, statement=statement,
                          difficulty=int(found.group(1)) if found else None,
                          reference_proof=proof))
    return tasks


def project_tasks(settings: Settings) -> list[Task]:
    """The claims' tasks, then the other theorems of ``Formal/``, in file order."""
    claim_list = read_registry(settings)[0].claims if settings.claims_path.is_dir() else ()
    proofs: dict[str, tuple[str, str, Path]] = {}
    formal: list[Task] = []
    claimed = {c.lean.declaration for c in claim_list}
    for path in sorted(settings.formal_path.rglob("*.lean")) if settings.formal_path.is_dir() else []:
        source = path.read_text(encoding="utf-8")
        opens = tuple(o for line in _OPEN.findall(blank_comments_and_strings(source))
                      for o in line.split())
        module = _module_of(settings, path)
        for decl in declarations(source):
            if decl.kind not in THEOREM_KINDS or "private" in decl.modifiers:
                continue
            try:
                statement, proof = split_declaration(decl, tuple(section_binders(source, decl.line)))
            except ValueError:
                continue
            proofs[decl.name] = (statement, proof, path)
            if decl.name in claimed:
                continue
            spaces = _namespaces(decl.name)
            scoped = tuple(f"{spaces[-1]}.{o}" if spaces else o for o in opens)
            formal.append(Task(id=f"formal:{decl.name}", kind="formal", module=module,
                               declaration=decl.name, statement=statement,
                               opens=tuple(dict.fromkeys((*spaces, *scoped, *opens))),
                               reference_proof=proof))
    claims = [
        Task(id=f"claim:{c.id}", kind="claim", module=c.lean.module, declaration=c.lean.declaration,
             statement=c.lean.statement, opens=c.lean.opens,
             reference_proof=proofs.get(c.lean.declaration, ("", "", None))[1])
        for c in claim_list
    ]
    return [*claims, *formal]


def shipped_suite(settings: Settings, *, name: str = "sequent") -> Suite:
    """The suite of this repository (or of the project ``settings`` points at)."""
    return Suite(name=name, version=SUITE_VERSION, tasks=(*project_tasks(settings), *core_tasks()))


def task_slug(task_id: str) -> str:
    """A file name and claim id for a task: ``core:ab_add_zero`` -> ``ab_core_ab_add_zero``."""
    return "ab_" + re.sub(r"[^a-z0-9]+", "_", task_id.lower()).strip("_")


def task_claim(settings: Settings, task: Task) -> Claim:
    """The task as a claim the drafting loop can work on. Its id is :func:`task_slug` (so an
    A/B run never writes over a project claim's accepted proof); its declaration is the
    task's target, which the submission may not cite. No reference proof goes in."""
    path = (settings.project_root / Path(*task.module.split("."))).with_suffix(".lean")
    return Claim(
        id=task_slug(task.id), title=task.id,
        statement=f"Prove the pinned Lean statement of task {task.id}.",
        argument="No informal argument is given: write your own.", source="sequent A/B suite",
        lean=LeanRef(module=task.module, declaration=task.declaration, statement=task.statement,
                     witness=task.declaration, **{"open": task.opens}),  # noqa: PIE804 (an alias)
        path=path if path.is_file() else CORE_TASKS,
    )


__all__ = ["CORE_TASKS", "SUITE_VERSION", "core_tasks", "project_tasks", "shipped_suite",
           "split_declaration", "task_claim", "task_slug"]
