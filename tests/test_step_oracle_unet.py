"""The step oracle of tests/test_step_oracle.py on U-Net at batch 8, in a file of its own.

Most of a minute and 6.6 GB live at its peak (3.6 T multiply-accumulates in the forward): alone
in its file, --dist loadfile runs it in one worker while the other goes on with the rest, and
never beside another net of its size. The same check: the four optimizers' peaks, the live bytes
after every call and every node, and the saved tensors, to the byte.
"""

from __future__ import annotations

import pytest
from test_step_oracle import check_builtin  # type: ignore[import-not-found]

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def test_unets_step_at_batch_8_is_pytorchs() -> None:
    pytest.importorskip("torch")
    check_builtin("unet", 8)
