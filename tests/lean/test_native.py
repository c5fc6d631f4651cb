"""The native backend: same result schema, plus the axiom audit. Runs only where elan's Lean is."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.lean.backends import NativeBackend, native_available
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, Reason
from tests.conftest import make_settings

pytestmark = [
    pytest.mark.native_lean,
    pytest.mark.skipif(not native_available(), reason="native Lean (`lean` from elan) is not on PATH on this machine"),
]


def test_native_accepts_and_audits_axioms(project: Path) -> None:
    settings = make_settings(project, lean_backend="native")
    with Checker(settings, backend=NativeBackend(settings)) as checker:
        ok = checker.check(CheckRequest(source="theorem em' (p : Prop) : p ∨ ¬p := Classical.em p\n"))
        assert ok.accepted and ok.backend == "native"
        assert ok.axioms is not None and "Classical.choice" in ok.axioms
        bad = checker.check(CheckRequest(source="theorem t : 1 = 2 := by decide\n"))
        assert Reason.error in bad.reasons
