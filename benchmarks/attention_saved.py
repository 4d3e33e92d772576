"""What autograd keeps for self-attention on CPU: nn.MultiheadAttention's paths and SDPA's.

Run: PYTHONPATH=. python benchmarks/attention_saved.py  (torch on CPU, float32)

Each saved tensor is listed once per storage (a view of the input or of a weight is the same
storage); "input" and "param" mark storages the caller already holds, the rest is what the
backward pass keeps alive beyond them. The aten ops seen name the path taken.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own spelling
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

_TELLING = ("attention", "softmax", "bmm", "baddbmm", "dropout", "_native_multi_head")


class _Ops(TorchDispatchMode):  # type: ignore[no-untyped-call]  # torch's __init_subclass__
    """The aten ops that name the path (attention kernels, softmax, bmm), in call order."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.seen: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        name = str(func.overloadpacket.__name__)
        if any(t in name for t in _TELLING) and name not in self.seen:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


def _saved(
    run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], held: list[torch.Tensor]
) -> tuple[list[tuple[str, str, int, str]], list[str]]:
    """Each saved storage once: (shape, dtype, bytes, origin), and the telling aten ops."""
    held_ptrs = {t.untyped_storage().data_ptr(): "input" for t in held[:1]}
    held_ptrs.update({t.untyped_storage().data_ptr(): "param" for t in held[1:]})
    rows: dict[int, tuple[str, str, int, str]] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in rows:
            shape = "x".join(str(s) for s in t.shape) or "scalar"
            rows[ptr] = (
                shape,
                str(t.dtype).removeprefix("torch."),
                t.untyped_storage().nbytes(),
                held_ptrs.get(ptr, "new"),
            )
        return t

    ops = _Ops()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), ops:
        out = run(*args, **kwargs)
    del out
    return list(rows.values()), ops.seen


def _report(title: str, rows: list[tuple[str, str, int, str]], ops: list[str]) -> None:
    new = sum(b for _, _, b, o in rows if o == "new")
    print(f"\n### {title}\nops: {', '.join(ops)}\nsaved beyond input and params: {new:,} bytes")
    for shape, dtype, nbytes, origin in rows:
        print(f"  {origin:5} {dtype:8} {shape:22} {nbytes:>12,}")


def main(cases: list[tuple[int, int, int, int]]) -> None:
    """For each (batch, tokens, width, heads): MHA's paths, then SDPA's math and fused kernels."""
    torch.manual_seed(0)
    for b, n, d, h in cases:
        mha = nn.MultiheadAttention(d, h, dropout=0.0, batch_first=True)
        x = torch.randn(b, n, d, requires_grad=True)
        held = [x, *mha.parameters()]
        tag = f"B={b} N={n} D={d} heads={h}"
        for train in (True, False):
            mha.train(train)
            for need in (True, False):
                mode = "train" if train else "eval"
                rows, ops = _saved(mha, (x, x, x), {"need_weights": need}, held)
                _report(f"MHA {mode} need_weights={need} {tag}", rows, ops)
        mha_drop = nn.MultiheadAttention(d, h, dropout=0.1, batch_first=True).train()
        held_drop = [x, *mha_drop.parameters()]
        for need in (True, False):
            rows, ops = _saved(mha_drop, (x, x, x), {"need_weights": need}, held_drop)
            _report(f"MHA train dropout=0.1 need_weights={need} {tag}", rows, ops)
        with torch.no_grad():
            mha.eval()
            ops_seen = _Ops()
            with ops_seen:
                mha(x, x, x, need_weights=False)
            print(f"\n### MHA eval no_grad need_weights=False {tag}\nops: {', '.join(ops_seen.seen)}")
        q = torch.randn(b, h, n, d // h, requires_grad=True)
        k = torch.randn(b, h, n, d // h, requires_grad=True)
        v = torch.randn(b, h, n, d // h, requires_grad=True)
        for backend in (torch.nn.attention.SDPBackend.MATH, torch.nn.attention.SDPBackend.FLASH_ATTENTION):
            with torch.nn.attention.sdpa_kernel(backend):
                rows, ops = _saved(F.scaled_dot_product_attention, (q, k, v), {}, [q, k, v])
            _report(f"SDPA {backend.name} {tag} (q, k, v held: 'param')", rows, ops)


if __name__ == "__main__":
    small = [(1, 5, 8, 2), (2, 5, 8, 2)]
    vit = [(1, 197, 768, 12), (2, 197, 768, 12)]
    main(small if "--small" in sys.argv else small + vit)
