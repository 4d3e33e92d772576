"""The layer kinds: one class per kind, holding all convcalc knows of it, and the registry.

The bottom of the import graph: kinds import only the value modules (errors, options, volume,
report) and each other; the spec loader, the engine, the renderers and the bridges import kinds.
"""
