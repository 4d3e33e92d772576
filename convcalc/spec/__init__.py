"""Reading specs: YAML with positions, the shorthand grammar, the typed Spec."""
