"""Reading a variant file (TOML or JSON). Folders it names (``prompt_set``, ``recordings_dir``)
are relative to the file; they are made absolute here."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from pipeline.ab.models import Variant
from pipeline.errors import InputError


def load_variant(path: Path) -> Variant:
    """The variant in ``path``; InputError naming the file and the field when it is not one."""
    if not path.is_file():
        raise InputError(f"--variant {path}: no such file (a variant is a .toml or .json file)")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        variant = Variant.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'variant'}: {e['msg'].removeprefix('Value error, ')}"
                           for e in exc.errors())
        raise InputError(f"{path}: not a variant: {fields}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a variant: {str(exc).splitlines()[0]}") from exc
    update: dict[str, str] = {}
    if variant.recordings_dir is not None and not Path(variant.recordings_dir).is_absolute():
        update["recordings_dir"] = str((path.parent / variant.recordings_dir).resolve())
    if variant.prompt_set != "default" and not Path(variant.prompt_set).is_absolute():
        update["prompt_set"] = str((path.parent / variant.prompt_set).resolve())
    return variant.model_copy(update=update) if update else variant


__all__ = ["load_variant"]
