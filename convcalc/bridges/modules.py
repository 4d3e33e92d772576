"""convcalc's own torch.nn modules, for the token kinds' plans (issue 27): only convcalc.pytorch imports this.

A token volume is N x D x L in convcalc's program (channels first, as every volume), stored as
torchvision's batch-first N x L x D (a transposed view): these modules transpose to it and back, so
that a Linear reads its input without a copy, as in torchvision's ViT. `convcalc export`
copies the classes it uses from this file's text into the exported file (convcalc.bridges.source),
so that the two run the same code: the classes keep within 88 columns, the exported file's width.
"""

from __future__ import annotations

import torch
from torch import nn


class ClassToken(nn.Module):
    """A learned token before the others: N x D x L to N x D x (L + 1) (class_token)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.transpose(1, 2)  # N x L x D, as torchvision concatenates
        token = self.weight.expand(t.shape[0], -1, -1)
        return torch.cat([token, t], dim=1).transpose(1, 2)


class PositionEmbedding(nn.Module):
    """A learned value per token and channel, added (encoder.pos_embedding)."""

    def __init__(self, length: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, length, width).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.transpose(1, 2) + self.weight).transpose(1, 2)


class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention, batch first, x as query, key and value."""

    def __init__(
        self,
        width: int,
        heads: int,
        *,
        bias: bool = True,
        dropout: float = 0.0,
        need_weights: bool = True,
    ) -> None:
        super().__init__(width, heads, dropout=dropout, bias=bias, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        t = x.transpose(1, 2)
        out, _ = super().forward(t, t, t, need_weights=self.need_weights)
        return out.transpose(1, 2)


class TokenMLP(nn.Sequential):
    """Linear, activation, Dropout, Linear, Dropout per token (as MLPBlock)."""

    def __init__(
        self,
        width: int,
        hidden: int,
        *,
        activation: str = "GELU",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(
            nn.Linear(width, hidden),
            getattr(nn, activation)(),
            nn.Dropout(dropout),
            nn.Linear(hidden, width),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.transpose(1, 2)
        for layer in self:
            t = layer(t)
        return t.transpose(1, 2)
