"""The HTTP API against a real ``sequent serve`` on loopback, with real Lean."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from pipeline.claims.registry import load_registry
from pipeline.service.config import ServiceConfig
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import Live, new_token, start_live, with_db
from tests.service.helpers import BAYES, BAYES_BINDERS, bayes_proof

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]


@pytest.fixture(scope="module")
def live(service_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("api")
    server = start_live(with_db(service_settings, folder), folder, workers=1,
                        max_body_bytes=64 * 1024, max_proof_bytes=8 * 1024)
    server.server.wait_ready(timeout=1800)
    yield server
    server.server.stop()


def _claim(settings: Settings):  # type: ignore[no-untyped-def]
    return load_registry(settings).claims[0]


def _submit(live: Live, claim_id: str, proof: str, *, agent: str = "tester") -> dict[str, object]:
    with live.client() as http:
        r = http.post("/v1/submissions", json={"claim_id": claim_id, "proof": proof, "agent": agent},
                      headers=live.auth)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/submissions/{r.json()['id']}"
    return dict(r.json())


def _source(live: Live, submission_id: str) -> str:
    url = str(live.settings.database_url).removeprefix("sqlite:///")
    with sqlite3.connect(url) as conn:
        row = conn.execute("select source from service_submissions where id = ?", (submission_id,))
        return str(row.fetchone()[0])


def _count(live: Live, table: str) -> int:
    url = str(live.settings.database_url).removeprefix("sqlite:///")
    with sqlite3.connect(url) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])


def test_a_correct_proof_is_accepted_and_can_be_exported(live: Live) -> None:
    claim = load_registry(live.settings).get(BAYES)
    sub = _submit(live, claim.id, bayes_proof(live.settings.project_root))  # not citing its declaration
    view = live.wait_verdict(str(sub["id"]))
    assert view["status"] == "accepted" and view["verdict"] == "accepted", view
    assert view["statement"] == claim.lean.statement
    assert view["lean_version"] and view["backend"] == "embedded"

    repo = git.Repo(live.settings.project_root)
    head, status = repo.head.commit.hexsha, repo.git.status("--porcelain")
    with live.client() as http:
        r = http.post(f"/v1/submissions/{sub['id']}/export", headers=live.auth)
        assert r.status_code == 201, r.text
        again = http.post(f"/v1/submissions/{sub['id']}/export", headers=live.auth)
        assert again.json() == r.json()
        claims = {c["id"]: c for c in http.get("/v1/claims").json()}
    out = r.json()
    # the export lands (issue 27, item 5): the proof replaces the declaration's own in its
    # module (no new theorem, no new file), and the module still compiles with it
    assert out["mode"] == "module" and out["path"] == "Formal/Bayes.lean", out
    committed = repo.git.show(f"{out['branch']}:{out['path']}", strip_newline_in_stdout=False)
    assert "sequent_submission" not in committed
    assert f"  revert {BAYES_BINDERS}\n  intro {BAYES_BINDERS}\n" in committed
    assert set(repo.commit(out["branch"]).stats.files) == {"Formal/Bayes.lean"}
    assert repo.head.commit.hexsha == head and repo.git.status("--porcelain") == status
    assert claims[claim.id]["proof"]["latest_accepted"] == sub["id"]
    with live.client() as http:
        compiled = http.post("/v1/check", headers=live.auth,
                             json={"source": committed, "file_name": "Bayes.lean"}).json()
    assert compiled["result"]["verdict"] == "accepted", compiled["diagnostics"]


def test_sorry_is_rejected(live: Live) -> None:
    claim = _claim(live.settings)
    view = live.wait_verdict(str(_submit(live, claim.id, "by\n  sorry")["id"]))
    assert view["status"] == "rejected" and "sorry" in view["reasons"]  # type: ignore[operator]
    with live.client() as http:
        r = http.post(f"/v1/submissions/{view['id']}/export", headers=live.auth)
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_a_proof_cannot_bring_its_own_statement(live: Live) -> None:
    claim = _claim(live.settings)
    before = _count(live, "service_submissions")
    smuggles = [
        "by\n  trivial\n\ntheorem sequent_submission' : True := trivial",
        f"by exact {claim.lean.declaration}\naxiom cheat : False",
        "trivial\nend\nimport Init",
    ]
    with live.client() as http:
        for proof in smuggles:
            r = http.post("/v1/submissions", headers=live.auth,
                          json={"claim_id": claim.id, "proof": proof, "agent": "smuggler"})
            assert r.status_code == 422, (proof, r.text)
            assert r.json()["error"] == "invalid_input"
    assert _count(live, "service_submissions") == before  # nothing stored


def test_an_axiom_hidden_behind_a_raw_string_is_never_accepted(live: Live) -> None:
    """``r"\\"`` once made the token scanner blank everything up to the next quote, hiding a
    command from it. The proof is refused up front, or its compiled file is rejected by the
    environment audit; it is never accepted, and never exported."""
    claim = _claim(live.settings)
    proof = (f'by\n  exact (fun (_ : String) => {claim.lean.declaration}) r"\\"\n'
             'axiom smuggled : False\n-- "\n')
    with live.client() as http:
        r = http.post("/v1/submissions", headers=live.auth,
                      json={"claim_id": claim.id, "proof": proof, "agent": "smuggler"})
        if r.status_code == 422:
            assert "axiom" in r.text
            return
        assert r.status_code == 202, r.text
        view = live.wait_verdict(str(r.json()["id"]))
        assert view["status"] == "rejected" and "axiom" in view["reasons"], view  # type: ignore[operator]
        export = http.post(f"/v1/submissions/{view['id']}/export", headers=live.auth)
        assert export.status_code == 409


def test_a_weaker_statement_is_rejected_by_lean(live: Live) -> None:
    claim = _claim(live.settings)
    view = live.wait_verdict(str(_submit(live, claim.id, "by\n  show True\n  trivial")["id"]))
    assert view["status"] == "rejected" and "error" in view["reasons"], view  # type: ignore[operator]
    assert view["statement"] == claim.lean.statement


def test_writes_need_a_valid_token(live: Live) -> None:
    claim = _claim(live.settings)
    body = {"claim_id": claim.id, "proof": "by trivial", "agent": "x"}
    revoked = new_token(live.settings, "soon-revoked")
    from pipeline.service.services import open_services

    with open_services(live.settings, ServiceConfig(), worker_threads=0) as core:
        core.tokens.revoke("soon-revoked")
    with live.client() as http:
        for headers in ({}, {"Authorization": "Bearer sqt_nope"}, {"Authorization": "Basic abc"},
                        {"Authorization": f"Bearer {revoked}"}):
            for method, path, payload in (("POST", "/v1/submissions", body),
                                          ("POST", "/v1/check", {"source": "theorem t : True := trivial"}),
                                          ("POST", "/v1/submissions/0123abcd/export", None)):
                r = http.request(method, path, json=payload, headers=headers)
                assert r.status_code == 401, (headers, path, r.text)
                assert r.json()["error"] == "unauthorized"
                assert r.headers["www-authenticate"] == "Bearer"


def test_bad_input_gets_a_json_4xx(live: Live) -> None:
    claim = _claim(live.settings)
    json_h = {**live.auth, "content-type": "application/json"}
    cases = [
        ("POST", "/v1/submissions", b'{"claim_id": ', json_h, 400, "malformed_json"),
        ("POST", "/v1/submissions", b'{"claim_id": "\xff\xfe"}', json_h, 400, "bad_encoding"),
        ("POST", "/v1/submissions", b'{"a": "' + b"x" * 70_000 + b'"}', json_h, 413, "too_large"),
        ("POST", "/v1/submissions", b"[]", json_h, 422, "invalid_input"),
        ("POST", "/v1/submissions", b'{"claim_id": "x"}', json_h, 422, "invalid_input"),
        ("POST", "/v1/submissions",
         b'{"claim_id": "%s", "proof": "by\\u0000 trivial", "agent": "a"}' % claim.id.encode(),
         json_h, 422, "invalid_input"),
        ("POST", "/v1/submissions",
         b'{"claim_id": "%s", "proof": "\\ud800", "agent": "a"}' % claim.id.encode(),
         json_h, 422, "invalid_input"),
        ("POST", "/v1/submissions",
         b'{"claim_id": "no_such_claim", "proof": "by trivial", "agent": "a"}', json_h, 404,
         "not_found"),
        ("POST", "/v1/submissions",
         b'{"claim_id": "%s", "proof": "by trivial -- %s", "agent": "a"}'
         % (claim.id.encode(), b"y" * 9000), json_h, 413, "too_large"),
        ("GET", "/v1/submissions/" + "0" * 28, None, {}, 404, "not_found"),
        ("GET", "/v1/submissions/0123456789abcdef", None, {}, 422, "invalid_input"),  # malformed id
        ("GET", "/v1/submissions?verdict=maybe", None, {}, 422, "invalid_input"),
        ("GET", "/v1/submissions?cursor=zz", None, {}, 422, "invalid_input"),
        ("GET", "/v1/submissions?claim=no_such_claim", None, {}, 404, "not_found"),
        ("POST", "/v1/goal_state", b'{"claim_id": "%s", "proof": "by simp", "line": 0}' % claim.id.encode(),
         json_h, 422, "invalid_input"),
        ("POST", "/v1/check_proof", b'{"claim_id": "%s", "proof": "by simp\\n#eval 1"}' % claim.id.encode(),
         json_h, 422, "invalid_input"),
        ("GET", "/v1/submissions/not-hex!", None, {}, 422, "invalid_input"),
        ("GET", "/v1/submissions/0123?wait=-1", None, {}, 422, "invalid_input"),
        ("GET", "/v1/claims/no_such_claim", None, {}, 404, "not_found"),
        ("GET", "/v1/nowhere", None, {}, 404, "not_found"),
        ("DELETE", "/v1/claims", None, {}, 405, "method_not_allowed"),
        ("POST", "/v1/check", b'{"source": "x", "file_name": "../../etc/passwd"}', json_h, 422,
         "invalid_input"),
    ]
    with live.client() as http:
        for method, path, content, headers, status, code in cases:
            r = http.request(method, path, content=content, headers=headers)
            assert (r.status_code, r.json()["error"]) == (status, code), (path, content, r.text)
            assert r.json()["detail"]


def test_rate_limit_answers_429_with_a_retry_hint(live: Live) -> None:
    claim = _claim(live.settings)
    body = {"claim_id": claim.id, "proof": "by\n  sorry", "agent": "greedy"}
    slow = new_token(live.settings, "rate-3", rate_per_minute=3, max_concurrent=100)
    with live.client(headers={"Authorization": f"Bearer {slow}"}) as http:
        codes = [http.post("/v1/submissions", json=body).status_code for _ in range(3)]
        over = http.post("/v1/submissions", json=body)
    assert codes == [202, 202, 202]
    assert over.status_code == 429 and over.json()["error"] == "rate_limited"
    assert 0 < over.json()["retry_after_s"] <= 60 and int(over.headers["retry-after"]) >= 1
    # the cap on open submissions is exercised where no worker drains the queue:
    # tests/service/test_concurrency.py


def test_claims_show_pinned_statements_and_hypotheses(live: Live) -> None:
    registry = load_registry(live.settings)
    with live.client() as http:
        listed = http.get("/v1/claims").json()
        assert [c["id"] for c in listed] == [c.id for c in registry.claims]
        for claim in registry.claims:
            view = http.get(f"/v1/claims/{claim.id}").json()
            assert view["lean_statement"] == claim.lean.statement
            assert [h["binder"] for h in view["hypotheses"]] == [h.binder for h in claim.hypotheses]


def test_an_adhoc_check_is_never_a_proof(live: Live) -> None:
    claim = _claim(live.settings)
    opens = f"open {' '.join(claim.lean.opens)}\n" if claim.lean.opens else ""
    source = f"{opens}theorem draft : {claim.lean.statement} := {claim.lean.declaration}\n"
    with live.client() as http:
        before = http.get(f"/v1/claims/{claim.id}").json()["proof"]
        r = http.post("/v1/check", headers=live.auth,
                      json={"source": source, "imports": [claim.lean.module]})
        assert r.status_code == 200, r.text
        assert r.json()["result"]["verdict"] == "accepted", r.json()["diagnostics"]
        bad = http.post("/v1/check", headers=live.auth, json={"source": "theorem d : 1 = 2 := rfl"})
        assert bad.json()["result"]["verdict"] == "rejected" and bad.json()["diagnostics"]
        after = http.get(f"/v1/claims/{claim.id}").json()["proof"]
    assert after["accepted_submissions"] == before["accepted_submissions"]
    assert _count(live, "service_checks") >= 2


def test_openapi_and_health(live: Live) -> None:
    with live.client() as http:
        schema = http.get("/openapi.json").json()
        health = http.get("/v1/health").json()
    assert {"/v1/submissions", "/v1/submissions/{submission_id}", "/v1/claims",
            "/v1/claims/{claim_id}", "/v1/check", "/v1/health",
            "/v1/submissions/{submission_id}/export"} <= set(schema["paths"])
    assert health["status"] == "ok" and health["lean_ready"] and health["workers"] == 1
    assert Path(live.settings.project_root).is_dir()


def test_claims_show_their_status_in_the_library(live: Live) -> None:
    """Evaluated once at start by ``pipeline.claims.proof_status``; last here so it overlaps."""
    from tests.waiting import wait_until

    registry = load_registry(live.settings)
    first = registry.claims[0]
    with live.client() as http:

        def evaluated() -> list[dict[str, object]] | None:
            claims: list[dict[str, object]] = http.get("/v1/claims").json()
            return claims if all(c["library"] is not None for c in claims) else None

        listed = wait_until(evaluated, timeout_s=1800, what="every claim's library status",
                            every_s=2, detail=live.server.log)
        view = http.get(f"/v1/claims/{first.id}").json()
    labels = {"fully proved", "proved", "stated", "not stated"}
    assert all(c["library"]["label"] in labels for c in listed)
    # a submission `exact <declaration>` was accepted above: the declaration proves the
    # pinned statement, so the library must agree that the statement is stated
    assert view["library"]["stated"] is True


def test_the_iteration_routes_answer_as_the_mcp_tools_do(live: Live) -> None:
    """check_proof, multi_attempt, check_lean, goal_state and minimal_hypotheses over HTTP, with
    the MCP tools' models; positions count in the text sent (``proof:line:col``, lines from 1,
    columns from 0), never in the file the server assembled."""
    claim = load_registry(live.settings).get(BAYES)
    good = bayes_proof(live.settings.project_root)  # not citing the claim's own declaration
    wrong = "by\n  exact nope"
    with live.client() as http:
        checked = http.post("/v1/check_proof", headers=live.auth,
                            json={"claim_id": claim.id, "proof": wrong, "include_file": True})
        assert checked.status_code == 200, checked.text
        out = checked.json()
        assert out["verdict"] == "rejected" and "proof:2:8: error:" in out["diagnostics"], out
        assert "Submission.lean" not in out["diagnostics"] and "unused variable" not in out["diagnostics"]
        assert out["messages"][0]["where"] == "proof" and out["messages"][0]["line"] == 2
        assert out["file"].rstrip().endswith(wrong) and out["file"].startswith("import ")
        assert http.post("/v1/check_proof", json={"claim_id": claim.id, "proof": good}).status_code == 401

        attempts = http.post("/v1/multi_attempt", headers=live.auth,
                             json={"claim_id": claim.id, "proofs": [good, "by\n  sorry"]}).json()
        assert [a["verdict"] for a in attempts] == ["accepted", "rejected"], attempts

        info = http.post("/v1/check_lean", headers=live.auth,
                         json={"claim_id": claim.id, "source": f"#check @{claim.lean.declaration}"}).json()
        short = claim.lean.declaration.rsplit(".", 1)[-1]
        assert f"proof:1:0: information: {short} : ∀" in info["diagnostics"], info  # #check's output

        goals = http.post("/v1/goal_state", headers=live.auth,
                          json={"claim_id": claim.id, "proof": good, "line": 2}).json()
        assert goals["goals_before"][0].startswith("⊢ ∀") and goals["text"] == f"  intro {BAYES_BINDERS}"
        assert "h_prior_weight : 1 / 2 ^ k ≤ w" in goals["goals_after"][0], goals

        minimal = http.post("/v1/minimal_hypotheses", headers=live.auth,
                            json={"claim_id": claim.id, "proof": good}).json()
        assert minimal["proof_verdict"] == "accepted" and "True" in minimal["method"]
        assert [h["binder"] for h in minimal["hypotheses"]] == [h.binder for h in claim.hypotheses]
        # the proof opens with `intro` of every binder: each answer is decided, none by default
        assert all(h["decided_by"] != "undecided" for h in minimal["hypotheses"]), minimal
        assert all(h["needed"] is (h["decided_by"] == "weakened_rejected_in_proof")
                   for h in minimal["hypotheses"]), minimal


def test_submissions_can_be_listed_with_filters_and_pages(live: Live) -> None:
    claim = _claim(live.settings)
    ids = [str(_submit(live, claim.id, "by\n  sorry", agent="lister")["id"]) for _ in range(3)]
    with live.client() as http:
        first = http.get("/v1/submissions", params={"agent": "lister", "limit": 2}).json()
        assert [v["id"] for v in first["items"]] == ids[::-1][:2] and first["next_cursor"] == ids[1]
        rest = http.get("/v1/submissions", params={"agent": "lister", "cursor": first["next_cursor"]}).json()
        assert [v["id"] for v in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
        assert all(v["channel"] == "http" for v in first["items"])
        mine = http.get("/v1/submissions", params={"claim": claim.id, "agent": "lister",
                                                   "since": "2000-01-01T00:00:00"}).json()
        assert len(mine["items"]) == 3
        later = http.get("/v1/submissions", params={"since": "2999-01-01T00:00:00Z"}).json()
        assert later["items"] == []
        live.wait_verdict(ids[-1])
        rejected = http.get("/v1/submissions", params={"agent": "lister", "verdict": "rejected"}).json()
        assert ids[-1] in [v["id"] for v in rejected["items"]]
        assert all(v["status"] == "rejected" for v in rejected["items"])


def test_search_and_declaration_read_the_compiled_environment(live: Live) -> None:
    claim = _claim(live.settings)
    with live.client() as http:
        by_name = http.get("/v1/search", params={"q": "add_comm"}).json()
        assert "Nat.add_comm" in [h["name"] for h in by_name["hits"]], by_name
        shaped = http.get("/v1/search", params={"q": "succ_le", "mentions": ["Nat.succ", "le"]}).json()
        assert "Nat.succ_le_succ" in [h["name"] for h in shaped["hits"]], shaped
        assert all(h["origin"] == "core" for h in shaped["hits"])
        own = http.get("/v1/search", params={"q": claim.lean.declaration.rsplit(".", 1)[-1]}).json()
        assert own["hits"][0]["origin"] == "project", own

        mine = http.get(f"/v1/declarations/{claim.lean.declaration}").json()
        assert mine["origin"] == "project" and mine["module"] == claim.lean.module, mine
        where = mine["location"]
        assert where["file"] == claim.lean.module.replace(".", "/") + ".lean" and where["line"] >= 1
        source = (live.settings.project_root / where["file"]).read_text().split("\n")
        assert claim.lean.declaration.rsplit(".", 1)[-1] in "\n".join(source[where["line"] - 1:where["end_line"]])
        assert 0 <= where["column"] and 0 < where["end_column"] <= len(source[where["end_line"] - 1])
        core = http.get("/v1/declarations/Nat.add_comm").json()
        assert core["origin"] == "core" and core["kind"] == "theorem" and "HAdd.hAdd" in core["type"], core
        assert core["location"] is None  # the shipped core keeps no declaration ranges
        assert core["module"].startswith("Init.") and core["docstring"] is None

        assert http.get("/v1/declarations/No.Such.constant").status_code == 404
        assert http.get("/v1/search").status_code == 422
