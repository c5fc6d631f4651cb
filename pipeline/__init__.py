"""Sequent: a pipeline that links Lean proofs of alignment guarantees with empirical checks.

Data flows claims -> Lean engine -> store, and runs -> hypothesis checks -> store; the gate
and the report read the store. See docs/architecture.md.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
