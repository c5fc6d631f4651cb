"""The ``sequent`` command line. Thin: each command lives in ``pipeline/commands/``."""
from __future__ import annotations


def main() -> None:
    from pipeline.commands.app import run

    run()
