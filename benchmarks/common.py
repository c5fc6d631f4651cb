"""What several benchmarks share: a percentile, and a copy of this repository's Lean library.

The benchmarks run as scripts (``python benchmarks/bench_x.py``), so this folder is on
``sys.path`` and they import ``from common import …``; the repository root is put there too
(the service harness lives in ``tests/service/process.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import LIBRARY_FILES, copy_from_repo


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    data = sorted(values)
    if not data:
        raise ValueError("no values")
    pos = (len(data) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def copy_project(dest: Path) -> Path:
    """This repository's Lean library and claims (``Formal/``, ``claims/``, the lakefile …) in ``dest``."""
    return copy_from_repo(dest, LIBRARY_FILES)


__all__ = ["REPO", "copy_project", "percentile"]
