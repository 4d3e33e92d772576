"""The docs' table of kinds and shorthand grammar, made from the kinds (docs/spec.md holds the output).

    python -m convcalc.kinds.docs docs/spec.md      # rewrite the generated parts of that file

tests/test_kinds.py fails when the file is stale.
"""

from __future__ import annotations

import re
import sys
from enum import Enum
from typing import TYPE_CHECKING

from convcalc.kinds.registry import REGISTERED

if TYPE_CHECKING:
    from convcalc.kinds.base import Kind
    from convcalc.kinds.params import Param


def _default(p: Param) -> str:
    if p.required:
        return " (required)"
    value = p.default.value if isinstance(p.default, Enum) else p.default
    if value is None:
        return ""
    return f" ({str(value).lower() if isinstance(value, bool) else value})"


def _names(kind: Kind) -> str:
    aliases = list(kind.aliases)
    return f"`{kind.name}`" + (f" ({', '.join(f'`{a}`' for a in aliases)})" if aliases else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def kinds_table() -> str:
    """One row per registered kind: its names, parameters with defaults, shorthand, output and params."""
    rows = [
        "| kind (aliases) | parameters (default) | shorthand | output | params |",
        "|---|---|---|---|---|",
    ]
    for kind in REGISTERED:
        params = ", ".join(f"`{p.name}`{_default(p)}" for p in kind.params) or "—"
        short = f"`{_cell(kind.summary)}`" if kind.summary else "long form only"
        rows.append(f"| {_names(kind)} | {params} | {short} | {_cell(kind.output_rule)} | {_cell(kind.params_rule)} |")
    return "\n".join(rows)


def shorthand_block() -> str:
    """The shorthand of every kind that has one, with its example."""
    lines = [(k.summary, k.example[1]) for k in REGISTERED if k.summary]
    width = max(len(s) for s, _ in lines) + 3
    return "\n".join(["```", *(f"{s:<{width}}{example}" for s, example in lines), "```"])


def parameters_list() -> str:
    """Every parameter's help, once per distinct meaning (`size` of a conv is not `size` of an lrn)."""
    seen: dict[tuple[str, str], list[str]] = {}
    for kind in REGISTERED:
        for p in kind.params:
            seen.setdefault((p.name, p.help), []).append(kind.name)
    names = [name for name, _ in seen]
    lines = []
    for (name, help_), kinds in seen.items():
        where = f" ({', '.join(kinds)})" if names.count(name) > 1 else ""
        lines.append(f"- `{name}`{where}: {help_}")
    return "\n".join(lines)


PARTS = {"kinds": kinds_table, "parameters": parameters_list, "shorthand": shorthand_block}


def update(text: str) -> str:
    """The text with each generated part (between its two markers) made anew."""
    for name, make in PARTS.items():
        begin = f"<!-- generated: {name} (python -m convcalc.kinds.docs docs/spec.md) -->"
        end = f"<!-- end generated: {name} -->"
        pattern = re.compile(rf"{re.escape(begin)}\n.*?\n{re.escape(end)}", re.DOTALL)
        if not pattern.search(text):
            msg = f"no generated part '{name}' in the file: it needs the lines {begin} and {end}"
            raise ValueError(msg)
        text = pattern.sub(lambda _: f"{begin}\n{make()}\n{end}", text)  # noqa: B023 - used at once
    return text


def main(argv: list[str]) -> int:
    """Rewrite the generated parts of each file named."""
    for path in argv:
        with open(path, encoding="utf-8") as f:  # noqa: PTH123 - the library avoids pathlib (start-up)
            old = f.read()
        new = update(old)
        if new != old:
            with open(path, "w", encoding="utf-8") as f:  # noqa: PTH123
                f.write(new)
            print(f"rewrote {path}")  # noqa: T201 - a maintainer's script
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
