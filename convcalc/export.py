"""`convcalc export --to pytorch`: the spec's program written as a standalone PyTorch module.

The writing is in convcalc/bridges (program.py: what to compute; names.py: PyTorch names;
source.py and layout.py: the text); this module keeps the API the CLI and the tests use.
"""

from __future__ import annotations

from convcalc.bridges.layout import WIDTH
from convcalc.bridges.names import MAX_NAME, class_name
from convcalc.bridges.source import Exported, export_pytorch, to_pytorch_source

__all__ = ["MAX_NAME", "WIDTH", "Exported", "class_name", "export_pytorch", "to_pytorch_source"]
