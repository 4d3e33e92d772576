"""Which row of A is which row of B: a sequence alignment on kinds and names, bounded in time.

A row's key is its kind and name after the names of the composites that hold it (ResNet's
`layer2.0` → conv1), so that the rows of one block stay together.

1. The rows the two networks share at the start and at the end are paired by their key in one
   linear pass: a small change to a 100,000-row spec costs no more than reading it.
2. The rows between are aligned by difflib.SequenceMatcher on the key, without autojunk
   (which would treat a spec's most common rows, its relus, as noise). Where keys differ, a
   second SequenceMatcher on the kind alone pairs layers whose generated name changed with
   their hyperparameters (CONV3-384 → CONV3-512 is one conv changed, not one removed and one
   added); what still differs is removed (from A) then added (to B).
3. SequenceMatcher takes time in the product of the lengths, so when the differing middle is
   larger than MAX_PRODUCT (1,000 x 1,000 rows) its rows are paired by position instead.
4. A run of added (or removed) rows slides down past rows identical to its first: VGG19's
   extra conv in a stage of identical convs is the stage's last, as the paper's table draws it,
   wherever the matcher happened to put it.

Paths are not part of the key: inserting one layer renumbers every path after it.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

    from convcalc.report import LayerRow, Report

# A pair of row indices: (i, j) matched, (i, None) removed from A, (None, j) added in B.
Pair = tuple[int | None, int | None]

MAX_PRODUCT = 1_000_000


class Alignment(str, Enum):
    """How the rows that differ were aligned."""

    SEQUENCE = "sequence"
    POSITION = "position"


def _keys(report: Report) -> list[tuple[str, ...]]:
    """Each row's kind and name, after the names of the composites that hold it."""
    groups = {g.path: g.name for g in report.groups}
    keys: list[tuple[str, ...]] = []
    for row in report.rows:
        parts = row.path.split(".")
        owners = (groups.get(".".join(parts[:end])) for end in range(1, len(parts) + 1))
        keys.append((*(o for o in owners if o is not None), row.kind, row.name))
    return keys


def signature(row: LayerRow) -> tuple[Any, ...]:
    """Everything a diff shows of a row but its place: rows with equal signatures look the same."""
    return (
        row.kind, row.name, row.label, row.depth, row.output, row.weights, row.biases, row.buffers,
        row.activations, row.memory, row.macs, row.flops, dict(row.config),
    )  # fmt: skip


def _match(ia: range, ib: range, levels: Sequence[tuple[Sequence[Hashable], Sequence[Hashable]]]) -> list[Pair]:
    """Align rows ia of A with rows ib of B by the first level's keys, what it leaves by the next."""
    if not levels:
        return [(i, None) for i in ia] + [(None, j) for j in ib]
    (keys_a, keys_b), finer = levels[0], levels[1:]
    matcher = SequenceMatcher(None, [keys_a[i] for i in ia], [keys_b[j] for j in ib], autojunk=False)
    pairs: list[Pair] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += zip(ia[i1:i2], ib[j1:j2], strict=True)
        else:
            pairs += _match(ia[i1:i2], ib[j1:j2], finer)
    return pairs


def _positional(ia: range, ib: range) -> list[Pair]:
    common = min(len(ia), len(ib))
    pairs: list[Pair] = list(zip(ia[:common], ib[:common], strict=True))
    return pairs + [(i, None) for i in ia[common:]] + [(None, j) for j in ib[common:]]


def _slide(pairs: list[Pair], side: int, signatures: Sequence[tuple[Any, ...]]) -> None:
    """Move each run of rows only on one side down past matched rows identical to its first."""
    k = 0
    while k < len(pairs):
        if pairs[k][1 - side] is not None or pairs[k][side] is None:
            k += 1
            continue
        end = k
        while end < len(pairs) and pairs[end][1 - side] is None and pairs[end][side] is not None:
            end += 1
        # pairs[k:end] is a run on `side` alone; while the matched pair after it shows a row
        # identical to the run's first, that row takes the match and the run moves down by one.
        while end < len(pairs) and None not in pairs[end]:
            first, after = pairs[k][side], pairs[end][side]
            if first is None or after is None or signatures[first] != signatures[after]:
                break
            other = pairs[end][1 - side]
            pairs[k] = (other, first) if side else (first, other)
            pairs[end] = (None, after) if side else (after, None)
            k, end = k + 1, end + 1
        k = end


def align(a: Report, b: Report) -> tuple[list[Pair], Alignment]:
    """Pairs of row indices in order, covering every row of A and of B once."""
    keys_a, keys_b = _keys(a), _keys(b)
    shortest = min(len(keys_a), len(keys_b))
    head = 0
    while head < shortest and keys_a[head] == keys_b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and keys_a[-1 - tail] == keys_b[-1 - tail]:
        tail += 1
    ia, ib = range(head, len(keys_a) - tail), range(head, len(keys_b) - tail)
    how = Alignment.SEQUENCE
    if len(ia) * len(ib) > MAX_PRODUCT:
        how, middle = Alignment.POSITION, _positional(ia, ib)
    else:
        kinds = ([r.kind for r in a.rows], [r.kind for r in b.rows])
        middle = _match(ia, ib, [(keys_a, keys_b), kinds])
    pairs: list[Pair] = [(i, i) for i in range(head)]
    pairs += middle
    pairs += [(len(keys_a) - tail + t, len(keys_b) - tail + t) for t in range(tail)]
    if len(pairs) > shortest:  # some rows are on one side only
        for side, report in ((1, b), (0, a)):
            _slide(pairs, side, [signature(r) for r in report.rows])
    return pairs, how
