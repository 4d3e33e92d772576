"""Writing closed forms: the Python expression and the readable text (convcalc.algebra.expr)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.algebra.atoms import ONE, Sym

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from convcalc.algebra.atoms import Atom, Floor, Monomial


def python_atom(atom: Atom) -> str:
    """A symbol, or a floor as `((num)//den)`."""
    if isinstance(atom, Sym):
        return atom.name
    num = atom.num.python()
    return f"({num}//{atom.den})" if num.isidentifier() else f"(({num})//{atom.den})"


def text_atom(atom: Atom, exact: Collection[Floor] = ()) -> str:
    """A symbol, or a floor as ⌊num/den⌋ (⌈H/S⌉ where it is one; (num/den) where it divides exactly)."""
    if isinstance(atom, Sym):
        return atom.name
    num = atom.num
    if atom not in exact and num.terms.get(ONE) == atom.den - 1 and len(num.terms) == 2:  # noqa: PLR2004
        rest = num - (atom.den - 1)
        if rest.single_symbol():
            return f"⌈{rest.text()}/{atom.den}⌉"  # ⌊(H + S − 1)/S⌋ = ⌈H/S⌉, ResNet's stride-2 layers
    inner = num.text(exact)
    inner = inner if len(num.terms) == 1 and not num.constant else f"({inner})"
    if atom in exact:
        return f"({inner}/{atom.den})"
    return f"⌊{inner}/{atom.den}⌋"


def join(
    terms: Mapping[Monomial, int],
    atom_text: Callable[[Atom], str],
    times: str,
    minus: str,
    *,
    grouped: bool = False,
) -> str:
    """Terms of highest degree first, the constant last: 64·H·W − 3·H + 2."""
    number = "{:,}" if grouped else "{}"
    ordered = sorted(terms.items(), key=lambda t: (-sum(n for _, n in t[0]), [a.key for a, _ in t[0]]))
    out = ""
    for m, c in ordered:
        factors = [atom_text(a) if n == 1 else times.join([atom_text(a)] * n) for a, n in m]
        size = abs(c)
        body = times.join(([number.format(size)] if size != 1 or not m else []) + factors)
        if not out:
            out = ("-" if c < 0 else "") + body
        else:
            out += f" {minus if c < 0 else '+'} {body}"
    return out
