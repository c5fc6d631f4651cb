module

public import Formal.Basic
public import Formal.Debate
public import Formal.Equilibrium
public import Formal.Mentor
public import Formal.Certificate
public import Formal.SGD
public import Formal.Bayes
public import Formal.Conformal
public import Formal.ProverEstimator
public import Formal.LLC

/-! The Sequent formal library: one module per claim, plus shared definitions. -/
