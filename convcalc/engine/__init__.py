"""The engine: the walk over a spec (each layer kind's rule is in convcalc.kinds), merges and checks."""
