"""Renderers: each turns a Report into text and does nothing else."""
