"""Instances a compiled module registers, and which core classes they are instances of.

An instance of a class that extends a core class (``class P extends LE Rat``, then an instance
of ``P``) is, through the parent projection ``P.toLE`` (itself an instance), an instance of
``LE Rat``: it changes what ``≤`` means for a type the module does not declare. The token policy
sees this only when the class is declared in the same file; here it is read from what Lean
wrote: the module's entries of ``Lean.Meta.instanceExtension`` (the instances it registers),
each instance's class (the head of its type's conclusion), and the class's parents (the
constructor's ``toX`` fields and instance-implicit fields), through project classes in any
module, down to a core class.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import SequentError
from pipeline.lean.models import user_name
from pipeline.lean.olean.audit import EnvIssue
from pipeline.lean.olean.decode import CONST, FORALL, LAM, MDATA, PROJ, Decoder, Kind
from pipeline.lean.olean.environment import Located, ProjectEnvironment
from pipeline.lean.olean.region import OleanFormatError

INSTANCE_EXTENSION = "Lean.Meta.instanceExtension"
INST_IMPLICIT = 3
"""``BinderInfo.instImplicit``."""


def registered_instances(decoder: Decoder) -> set[str]:
    """The constants a compiled module registers as instances (every part's entries)."""
    region = decoder.region
    names: set[str] = set()
    for part in range(len(region.parts)):
        try:
            _tag, fields, _ = region.ctor(region.root(part))
            if len(fields) != 5:
                continue
            extensions = region.array(fields[4])
        except (OleanFormatError, ValueError, IndexError):
            continue
        for item in extensions:
            _tag, pair, _ = region.ctor(item)
            if decoder.name(pair[0]) != INSTANCE_EXTENSION:
                continue
            for entry in region.array(pair[1]):
                name = _entry_constant(decoder, entry)
                if name is not None:
                    names.add(name)
    return names


def _entry_constant(decoder: Decoder, entry: int) -> str | None:
    """The instance constant of an olean entry of the instance extension: a
    ``ScopedEnvExtension.Entry`` (``global e`` or ``scoped ns e``) around an ``InstanceEntry``
    (keys, ``val``: an ``Expr.const``, priority, ``globalName?``, synth order)."""
    if entry & 1:
        return None
    tag, outer, _ = decoder.region.ctor(entry)
    if not outer or outer[-1] & 1:
        return None
    _tag, fields, _ = decoder.region.ctor(outer[0] if tag == 0 else outer[-1])
    for ptr in fields:
        if ptr & 1:
            continue
        try:
            if decoder.region.tag(ptr) != CONST:
                continue
            name = decoder.const_name(ptr)
        except (SequentError, ValueError, IndexError, KeyError):
            continue
        if name is not None:
            return name
    return None


def _conclusion(decoder: Decoder, ptr: int) -> int:
    while True:
        tag, subs, _, _ = decoder.expr_children(ptr)
        if tag in (FORALL, MDATA):
            ptr = subs[-1] if tag == FORALL else subs[0]
            continue
        return ptr


def class_of(decoder: Decoder, type_ptr: int) -> tuple[str | None, list[int]]:
    """(class, argument addresses) of an instance's type ``∀ …, C a₁ … aₙ``."""
    head, args = decoder.app_spine(_conclusion(decoder, type_ptr))
    return decoder.const_name(head), args


def core_path(env: ProjectEnvironment, cls: str, is_core: Callable[[str], bool],
              seen: frozenset[str] = frozenset()) -> list[str] | None:
    """``[cls, …, core class]`` when an instance of ``cls`` is also one of a core class
    through its parents (project classes only; a core class is the end)."""
    if is_core(cls):
        return [cls]
    located = env.get(cls)
    if located is None or located.constant.kind is not Kind.inductive or cls in seen:
        return None
    for ctor in located.constant.names:
        built = env.get(ctor)
        if built is None:
            continue
        for name, binder_type, info in _fields(built):
            if not (name.rsplit(".", 1)[-1].startswith("to") or info == INST_IMPLICIT):
                continue
            parent, _args = class_of(built.decoder, binder_type)
            if parent is None or parent == cls:
                continue
            found = core_path(env, parent, is_core, seen | {cls})
            if found:
                return [cls, *found]
    return None


def _fields(ctor: Located) -> list[tuple[str, int, int]]:
    """A constructor's field binders (its type's binders after the structure's parameters)."""
    binders = ctor.decoder.binders(ctor.constant.type)
    params = ctor.constant.scalars[1] if ctor.constant.kind is Kind.constructor and len(ctor.constant.scalars) > 1 else 0
    return binders[params:]


def _parent_projection(env: ProjectEnvironment, inst: Located) -> bool:
    """Whether the instance is a class's projection to a parent (``S.toX``, registered as an
    instance by ``class S extends X``; or to an instance-implicit field): its value is
    ``fun … self => self.i`` onto a field :func:`core_path` counts as a parent, so it fires only
    for an instance of ``S``, which is judged on its own (by kernel terms, not by name)."""
    decoder, const = inst.decoder, inst.constant
    if const.value is None:
        return False
    ptr = const.value
    while True:
        tag, subs, others, _ = decoder.expr_children(ptr)
        if tag == LAM:
            ptr = subs[1]
        elif tag == MDATA:
            ptr = subs[0]
        else:
            break
    if tag != PROJ:
        return False
    structure = env.get(decoder.name(others[0]))
    if structure is None or structure.constant.kind is not Kind.inductive:
        return False
    index = decoder.region.nat(others[1])
    for ctor in structure.constant.names:
        built = env.get(ctor)
        fields = _fields(built) if built is not None else []
        if index < len(fields):
            name, _type, info = fields[index]
            return name.rsplit(".", 1)[-1].startswith("to") or info == INST_IMPLICIT
    return False


def core_instance_issues(env: ProjectEnvironment, module: str, decoder: Decoder,
                         is_core: Callable[[str], bool]) -> list[EnvIssue]:
    """An issue for each instance ``module`` registers that is an instance of a core class
    (directly, or through its class's parents) for arguments that mention no type the module
    itself declares."""
    own = {c.name for c in env.declared_in(module)}
    issues: list[EnvIssue] = []
    for inst in sorted(registered_instances(decoder)):
        located = env.get(inst)
        if located is None or _parent_projection(env, located):
            continue
        cls, args = class_of(located.decoder, located.constant.type)
        if cls is None:
            continue
        if any(located.decoder.constants_in(a) & own for a in args):
            continue  # about a type (or a class argument) this module declares
        path = core_path(env, cls, is_core)
        if path is None:
            continue
        shown = [user_name(c) for c in path]
        how = (f"an instance of the core class {shown[-1]}" if len(path) == 1 else
               f"an instance of {shown[0]}, which extends the core class {shown[-1]} ({' → '.join(shown)})")
        issues.append(EnvIssue("core_instance", inst,
                               f"{user_name(inst)} is {how} for a type the module does not declare: it can "
                               "change what existing statements mean (what `≤`, `+` or a numeral denote)"))
    return issues


__all__ = ["INSTANCE_EXTENSION", "class_of", "core_instance_issues", "core_path", "registered_instances"]
