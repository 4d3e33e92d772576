"""The closed forms' algebra: expressions of symbolic sizes, their conditions, and how they are written."""
