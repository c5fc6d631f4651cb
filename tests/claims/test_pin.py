"""``sequent claims pin``: rewriting only the [lean.definitions] table."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.claims.library import LeanLibrary, definition_pins
from pipeline.claims.pin import pin_claim, replace_table
from pipeline.claims.registry import load_registry
from pipeline.errors import ClaimError
from pipeline.settings import Settings
from tests.claims.fixtures import copy_sources, edit

DOC = """id = "x"  # keep me
[lean]
module = "M"

[lean.definitions]
"old" = "1"

[[hypotheses]]
binder = "h_a"
"""


def test_replace_table_keeps_everything_else() -> None:
    out = replace_table(DOC, {"b.c": "2", "a": "3"})
    assert out.startswith('id = "x"  # keep me\n[lean]\nmodule = "M"\n\n[lean.definitions]\n"a" = "3"\n"b.c" = "2"\n\n[[hypotheses]]')
    assert tomllib.loads(out)["lean"]["definitions"] == {"a": "3", "b.c": "2"}
    added = replace_table('[lean]\nmodule = "M"\n\n[[hypotheses]]\nbinder = "h"\n', {"a": "1"})
    assert tomllib.loads(added)["lean"] == {"module": "M", "definitions": {"a": "1"}}
    assert tomllib.loads(replace_table('[lean]\nmodule = "M"\n', {"a": "1"}))["lean"]["definitions"] == {"a": "1"}
    with pytest.raises(ClaimError, match="no \\[lean\\] table"):
        replace_table('id = "x"\n', {"a": "1"})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    root = copy_sources(tmp_path / "p")
    return Settings.load(root, state_dir=root / ".sequent")


def test_pin_after_an_intended_change(settings: Settings) -> None:
    toml = settings.claims_path / "prover_estimator_composition.toml"
    before = toml.read_text(encoding="utf-8")
    assert pin_claim(settings, "prover_estimator_composition").unchanged
    assert toml.read_text(encoding="utf-8") == before
    edit(settings.formal_path / "ProverEstimator.lean", "| leaf i => [i]", "| leaf i => [i, i]")
    change = pin_claim(settings, "prover_estimator_composition")
    assert list(change.changed) == ["Formal.ProverEstimator.Circuit.leaves"]
    assert not change.added and not change.removed
    after = toml.read_text(encoding="utf-8")
    assert after.split("[lean.definitions]")[0] == before.split("[lean.definitions]")[0]
    assert after.split("[[hypotheses]]", 1)[1] == before.split("[[hypotheses]]", 1)[1]
    claim = load_registry(settings).get("prover_estimator_composition")
    assert dict(claim.lean.definitions) == definition_pins(claim, LeanLibrary.load(settings))


def test_pin_unknown_claim_and_inline_tables(settings: Settings) -> None:
    from pipeline.errors import NotFoundError

    with pytest.raises(NotFoundError):
        pin_claim(settings, "nope")
    toml = settings.claims_path / "sgd_chung.toml"
    text = toml.read_text(encoding="utf-8")
    head, tail = text.split("[lean.definitions]\n")
    pins, rest = tail.split("\n\n", 1)
    inline = "definitions = { " + ", ".join(pins.splitlines()) + " }\n"
    toml.write_text(head.replace('open = ["Formal", "Formal.SGD"]\n', 'open = ["Formal", "Formal.SGD"]\n' + inline)
                    + rest, encoding="utf-8")
    edit(settings.formal_path / "Basic.lean", ":= (x.floor + 1).toNat", ":= (x.floor + 2).toNat")
    with pytest.raises(ClaimError, match="write the pins as a \\[lean.definitions\\] table"):
        pin_claim(settings, "sgd_chung")
