"""Claims registry: pinned statements, hypotheses, consistency, derived status."""
