"""``sequent demo``: the main job end to end, on the embedded Lean, in five stages.

``stages.py`` holds one small function per stage; ``runner.py`` runs them in order, stops at
the first that fails and says which and why. Everything the demo needs (settings, the checker,
the reference experiments, the agents' config, the database) is given by the command.
"""
