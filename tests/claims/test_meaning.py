"""A claim's meaning, decided on the compiled environment: an instance the token policy lets
through (a later instance of a project class) changes what a byte-identical statement means,
and ``claims check`` names the constants that changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.meaning import meaning_pins
from pipeline.claims.models import STATEMENT_KEY
from pipeline.claims.pin import pin_claim
from pipeline.claims.proof_status import evaluate
from pipeline.claims.registry import load_registry
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from tests.conftest import make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]

MODULE = """module
public section
noncomputable section
namespace Formal.Cap

/-- A capacity, configured by an instance. -/
class Cap where
  cap : Nat

instance : Cap := ⟨5⟩
{extra}
/-- Every small number is below the capacity. -/
theorem cap_small (n : Nat) (h_small : n < 3) : n < Cap.cap :=
  Nat.lt_of_lt_of_le h_small (by decide)

/-- The hypothesis can hold. -/
theorem cap_small_nonvacuous : 1 < Cap.cap := cap_small 1 (by decide)

end Formal.Cap
end
end
"""
CLAIM = '''id = "cap"
title = "Small numbers are below the capacity"
source = "test"
statement = "Every number below 3 is below the capacity."
argument = "3 ≤ the capacity."

[lean]
module = "Formal.Cap"
declaration = "Formal.Cap.cap_small"
witness = "Formal.Cap.cap_small_nonvacuous"
open = ["Formal.Cap"]
statement = """
∀ (n : Nat) (h_small : n < 3), n < Cap.cap
"""

[[hypotheses]]
binder = "h_small"
meaning = "n is small."
assumed = true
justification = "test"
'''


def test_a_later_instance_changes_the_meaning_and_is_named(project: Path) -> None:
    (project / "Formal").mkdir()
    module = project / "Formal" / "Cap.lean"
    module.write_text(MODULE.format(extra=""), encoding="utf-8")
    (project / "claims").mkdir()
    (project / "claims" / "cap.toml").write_text(CLAIM, encoding="utf-8")
    settings = make_settings(project, pool_size=1)
    with Checker(settings, expected_leases=0) as checker:  # one-shot: no process nobody leases
        built = build_project(settings, checker)
        assert built.ok, [m.result.diagnostics() for m in built.failures() if m.result]
        env = checker.environment(["Formal.Cap"])
        pins = meaning_pins(env, "Formal.Cap.cap_small")
        assert STATEMENT_KEY in pins and "Formal.Cap.instCap" in pins
        pin_claim(settings, "cap", pins)
        assert dict(load_registry(settings).get("cap").lean.meaning) == pins

        before = evaluate(settings, checker, EVIDENCE_CHECKS)
        assert before.ok, [str(i) for i in before.issues]
        assert before.get("cap").proved and before.get("cap").environment is not None

        # the same statement text, the same registry, the same definition pins
        module.write_text(MODULE.format(extra="\ninstance : Cap := ⟨1000⟩\n"), encoding="utf-8")
        after = evaluate(settings, checker, EVIDENCE_CHECKS)
    status = after.get("cap")
    assert not status.proved
    messages = [i.message for i in status.issues if i.field == "lean.meaning"]
    assert messages, [str(i) for i in status.issues]
    assert "the statement itself" in messages[0] and "instCap_1" in messages[0]
