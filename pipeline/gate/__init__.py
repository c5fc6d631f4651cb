"""The proof gate: block merges that lack proofs (``sequent gate``, ``sequent hooks install``).

* :mod:`pipeline.gate.runner` — one gate run: refs, head tree, build, claims, changes;
* :mod:`pipeline.vcs` — the only door to git (gitpython), never touching the working tree;
* :mod:`pipeline.gate.changes` / :mod:`pipeline.gate.rules` — pure diffs and change rules;
* :mod:`pipeline.gate.claim_cases` — the claims registry's checks as gate cases;
* :mod:`pipeline.gate.formats` — human, Markdown, GitHub annotations, JUnit XML;
* :mod:`pipeline.gate.hooks` — the git pre-push hook.
"""
