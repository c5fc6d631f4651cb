"""Run groups: the same config over several seeds, checked as one input.

``DIR/<one run directory per seed>``. The group is a :class:`Run` whose ``members`` are the
seeds' runs; its metrics are the per-step means over the seeds (a pooled estimate of each
per-step expectation, on the steps every member logged), its samples the members' samples
concatenated (0/1 outcomes pool into one rate), its snapshots the first member's. Checks of
an expectation over training noise (``sgd:distance_rate``) read ``members`` directly and give
simultaneous intervals over the seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.models import Provenance, Run
from pipeline.evidence.runs import load_run

IGNORED_KEYS = frozenset({"seed", "seeds"})


def load_group(path: Path | str) -> Run:
    """The run group in ``path`` (every subdirectory holding a ``run.json``)."""
    root = Path(path)
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such run-group directory")
    dirs = sorted(d for d in root.iterdir() if (d / "run.json").is_file())
    if not dirs:
        raise InputError(f"{root}: no run directories (subfolders with run.json) inside")
    runs = [load_run(d) for d in dirs]
    return pool_runs(runs, group_id=f"group:{root.name}", path=root)


def pool_runs(runs: list[Run], *, group_id: str, path: Path | None = None) -> Run:
    """One :class:`Run` standing for ``runs`` (same config, different seeds)."""
    first = runs[0]
    base = {k: v for k, v in first.config.items() if k not in IGNORED_KEYS}
    for run in runs[1:]:
        other = {k: v for k, v in run.config.items() if k not in IGNORED_KEYS}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise InputError(f"run {run.id} differs from {first.id} in its config "
                             f"({', '.join(diff)}): a group is one config over several seeds")
    seeds = [s for run in runs for s in run.seeds()]
    if len(set(seeds)) != len(seeds):
        raise InputError(f"the group's runs repeat a seed ({seeds}): pooling them would count "
                         "one draw twice")
    shared = set(first.metrics)
    for run in runs[1:]:
        shared &= set(run.metrics)
    rows = min(run.n_steps for run in runs)
    metrics = {name: np.mean(np.stack([run.metrics[name][:rows] for run in runs]), axis=0)
               for name in sorted(shared)}
    if "step" in metrics:
        metrics["step"] = np.asarray(first.metrics["step"][:rows])
    names = set(first.samples)
    for run in runs[1:]:
        names &= set(run.samples)
    samples = {name: np.concatenate([run.samples[name] for run in runs]) for name in sorted(names)}
    if "w_star" in samples:  # a fact about the problem, the same for every seed
        samples["w_star"] = np.asarray(first.samples["w_star"])
    return Run(id=group_id, kind=first.kind, config={**base, "seeds": seeds},
               metrics=metrics, samples=samples, snapshots=first.snapshots, seed=None,
               provenance=Provenance(source=f"group of {len(runs)} runs",
                                     source_path=str(path) if path else None,
                                     notes=(f"members: {', '.join(r.id for r in runs)}",)),
               path=path, members=tuple(runs))


__all__ = ["load_group", "pool_runs"]
