"""A/B tests of the drafting automation: task suites, variants, runs and their statistics."""
