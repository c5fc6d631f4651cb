"""A reader of Lean 4.28 ``.olean`` files and the decisions taken on what they hold.

``region`` (the compacted object region, all parts of a module) -> ``decode`` (Name, Level,
Expr, ConstantInfo, ModuleData) -> ``environment`` (the core library's index, the project's
modules) -> ``audit`` (axioms, added constants, statement meaning, witnesses).
"""
