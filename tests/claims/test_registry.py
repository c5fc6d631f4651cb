"""Loading ``claims/``: the repository's registry, and each kind of broken file (no Lean)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.registry import load_registry, read_registry
from pipeline.errors import ClaimError, NotFoundError
from pipeline.settings import Settings
from tests.claims.fixtures import copy_sources, edit

CONTRACT_IDS = {"debate_tree", "debate_equilibrium", "mentor_queries", "zero_failure_certificate",
                "sgd_chung", "bayes_surprise", "conformal_coverage", "prover_estimator_composition",
                "bic_regular"}
CONTRACT_CHECKS = {
    "pipeline.evidence.checks.sgd:strong_convexity", "pipeline.evidence.checks.sgd:bounded_second_moment",
    "pipeline.evidence.checks.sgd:step_size_exact", "pipeline.evidence.checks.sgd:plain_update",
    "pipeline.evidence.checks.debate:judge_leaf_accuracy",
    "pipeline.evidence.checks.debate:honest_win_rate", "pipeline.evidence.checks.debate:exploitability",
    "pipeline.evidence.checks.ensemble:agreement_implies_correct",
    "pipeline.evidence.checks.ensemble:query_rate_sublinear",
    "pipeline.evidence.checks.certificate:failure_independence",
    "pipeline.evidence.checks.certificate:same_distribution",
    "pipeline.evidence.checks.conformal:exchangeability",
    "pipeline.evidence.checks.sgd:initial_radius", "pipeline.evidence.checks.composition:leaf_error",
    "pipeline.evidence.checks.llc:regularity",
    "pipeline.evidence.checks.debate:alternating_moves", "pipeline.evidence.checks.debate:depth_bound",
    "pipeline.evidence.checks.certificate:trial_count",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    root = copy_sources(tmp_path / "p")
    return Settings.load(root, state_dir=root / ".sequent")


def test_the_repository_registry_loads(settings: Settings) -> None:
    registry = load_registry(settings)
    assert set(registry.ids) == CONTRACT_IDS
    assert registry.ids == sorted(registry.ids)  # file order
    for claim in registry.claims:
        assert claim.path == settings.claims_path / f"{claim.id}.toml"
        assert claim.lean.witness.endswith("_nonvacuous")
        assert claim.lean.declaration.startswith(claim.lean.module + ".")
        for hyp in claim.hypotheses:
            assert hyp.check is None or hyp.check in CONTRACT_CHECKS
    assert registry.get("debate_equilibrium").depends_on == ("debate_tree",)
    with pytest.raises(NotFoundError, match="unknown claim 'nope'"):
        registry.get("nope")


def _one_error(settings: Settings) -> str:
    with pytest.raises(ClaimError) as info:
        load_registry(settings)
    return str(info.value)


def test_a_field_of_the_wrong_type_names_file_and_field(settings: Settings) -> None:
    edit(settings.claims_path / "debate_tree.toml",
         'binder = "h_alternating"\nmeaning = "The debaters alternate: the claimant moves at existential '
         'nodes, the opponent at universal ones, starting with the claimant."\n'
         'check = "pipeline.evidence.checks.debate:alternating_moves"',
         'binder = "h_alternating"\nmeaning = "x"\nassumed = "yes"')
    message = _one_error(settings)
    assert "claims/debate_tree.toml: hypotheses[1].assumed: Input should be a valid boolean" in message
    edit(settings.claims_path / "sgd_chung.toml", 'depends_on = []', 'depends_on = "debate_tree"')
    message = _one_error(settings)
    assert "claims/sgd_chung.toml: depends_on: Input should be a valid" in message


def test_a_duplicate_id(settings: Settings) -> None:
    src = settings.claims_path / "debate_tree.toml"
    (settings.claims_path / "debate_tree_copy.toml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    message = _one_error(settings)
    assert ("claims/debate_tree_copy.toml: id: duplicate id 'debate_tree': also used by "
            "claims/debate_tree.toml") in message
    assert "claims/debate_tree_copy.toml: id: id 'debate_tree' does not match the file name" in message


def test_a_dependency_cycle(settings: Settings) -> None:
    edit(settings.claims_path / "debate_tree.toml", 'depends_on = []', 'depends_on = ["prover_estimator_composition"]')
    message = _one_error(settings)
    assert ("claims/debate_tree.toml: depends_on: dependency cycle: debate_tree -> "
            "prover_estimator_composition -> debate_tree") in message


def test_an_unknown_dependency_and_a_self_loop(settings: Settings) -> None:
    edit(settings.claims_path / "sgd_chung.toml", 'depends_on = []', 'depends_on = ["sgd_chung", "nope"]')
    registry, issues = read_registry(settings)
    text = "\n".join(map(str, issues))
    assert "claims/sgd_chung.toml: depends_on[1]: unknown claim 'nope'" in text
    assert "dependency cycle: sgd_chung -> sgd_chung" in text
    assert len(registry.claims) == 9  # the claim itself still loads; its problems are issues


@pytest.mark.parametrize(("payload", "expected"), [
    (b"id = \"x\"\ntitle = \n", "claims/bad.toml: (file): malformed TOML"),
    (b"id = \"caf\xe9\"\n", "claims/bad.toml: (file): not valid UTF-8 (byte 9)"),
    (b"path = \"/etc/passwd\"\n", "claims/bad.toml: path: unknown field"),
    (b"id = \"bad\"\n", "claims/bad.toml: title: Field required"),
    (b"id = \"bad\"\nstatus = \"proved\"\n", "claims/bad.toml: status: Extra inputs are not permitted"),
])
def test_broken_files_are_named(settings: Settings, payload: bytes, expected: str) -> None:
    (settings.claims_path / "bad.toml").write_bytes(payload)
    registry, issues = read_registry(settings)
    assert any(str(i).startswith(expected) for i in issues), issues
    assert len(registry.claims) == 9  # the good files still load
    assert expected in _one_error(settings)


def test_an_oversized_file(tmp_path: Path) -> None:
    root = copy_sources(tmp_path / "p")
    settings = Settings.load(root, state_dir=root / ".sequent", max_file_bytes=1000)
    message = _one_error(settings)
    assert "claims/debate_tree.toml: (file):" in message and "over the limit of 1000" in message


def test_no_claims_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="claims: the claims folder does not exist"):
        load_registry(Settings.load(tmp_path, state_dir=tmp_path / ".sequent"))
