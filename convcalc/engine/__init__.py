"""The engine: exact shape arithmetic, one rule per layer kind, and the walk over a spec."""
