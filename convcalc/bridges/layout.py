"""Lines of the exported file as ruff format writes them, so that it passes `ruff format --check`."""

from __future__ import annotations

import re
import textwrap

WIDTH = 88  # ruff format's default line length
INDENT = " " * 8  # inside a method


def docstring_text(text: str) -> str:
    """Text safe in triple quotes: backslashes doubled, a quote escaped before a quote or at the end.

    Outer spaces go, as ruff format takes them away; a quote first gets a space before it, as
    ruff format gives it (four quotes in a row would not read).
    """
    text = re.sub(r'"(?="|$)', r'\\"', text.strip().replace("\\", "\\\\"))
    return f" {text}" if text.startswith('"') else text


def wrap(text: str, width: int = WIDTH, first: str = "", rest: str = "") -> list[str]:
    """Text in lines; words are never broken (a cut inside an escape would change the text)."""
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    )


def call(head: str, func: str, args: list[str]) -> list[str]:
    """`head func(args)` in a method, on one line, or with the arguments hugged or one a line."""
    one = f"{INDENT}{head}{func}({', '.join(args)})"
    if len(one) <= WIDTH:
        return [one]
    hugged = f"{INDENT}    {', '.join(args)}"
    if len(hugged) <= WIDTH:
        return [f"{INDENT}{head}{func}(", hugged, f"{INDENT})"]
    return [f"{INDENT}{head}{func}(", *(f"{INDENT}    {a}," for a in args), f"{INDENT})"]


def statement(text: str) -> list[str]:
    """An assignment in forward, split as ruff format splits one too long for its line."""
    if len(text) + len(INDENT) <= WIDTH:
        return [INDENT + text]
    target, expression = text.split(" = ", 1)
    if expression.startswith("torch.cat([") and expression.endswith("], dim=1)"):
        items = expression[len("torch.cat([") : -len("], dim=1)")].split(", ")
        return [
            f"{INDENT}{target} = torch.cat(",
            f"{INDENT}    [",
            *(f"{INDENT}        {item}," for item in items),
            f"{INDENT}    ],",
            f"{INDENT}    dim=1,",
            f"{INDENT})",
        ]
    if expression.startswith("product(") and "(" not in expression[len("product(") :]:
        items = expression[len("product(") : -1].split(", ")  # one argument a line, as for the concat
        return [f"{INDENT}{target} = product(", *(f"{INDENT}    {i}," for i in items), f"{INDENT})"]
    sign = next((s for s in ("+", "*") if f" {s} " in expression), None)
    if sign and "(" not in expression:  # a sum (or product) of branches, as ruff format splits it
        inside = (
            [f"{INDENT}    {expression}"]
            if len(expression) + len(INDENT) + 4 <= WIDTH
            else [f"{INDENT}    {f'{sign} ' if i else ''}{t}" for i, t in enumerate(expression.split(f" {sign} "))]
        )
        return [f"{INDENT}{target} = (", *inside, f"{INDENT})"]
    # At the brackets of the call that ends the expression, as ruff format splits a call.
    head, inner = last_call(expression)
    return [f"{INDENT}{target} = {head}(", f"{INDENT}    {inner}", f"{INDENT})"]


def last_call(expression: str) -> tuple[str, str]:
    """f(g(x)) → ("f", "g(x)"): the callee and the argument of the call that ends the expression."""
    depth = 0
    for i in range(len(expression) - 1, -1, -1):
        char = expression[i]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return expression[:i], expression[i + 1 : -1]
    return "", expression  # pragma: no cover - every long statement the writer makes ends with a call
