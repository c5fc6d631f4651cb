import Lake
open Lake DSL

package «sequent» where
  leanOptions := #[⟨`autoImplicit, false⟩]

@[default_target]
lean_lib «Formal» where
  roots := #[`Formal]
