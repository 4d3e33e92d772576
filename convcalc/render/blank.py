"""The worksheet to hand out: a key's answer template (`convcalc check --key KEY --blank`).

Every layer of the key's network in order, named as a student's file addresses it (its name, or
its row index where several layers share the name), each with the key's questions and a blank
answer; layers without a question are listed as comments, so that the names are all there. The
file, filled in, is a student's file of answers (docs/grading.md); left blank, every question is
unanswered.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from convcalc.render.inert import inert
from convcalc.spec.answers import WHOLE

if TYPE_CHECKING:
    from convcalc.report import Report

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.\- ]*[A-Za-z0-9_.]|[A-Za-z]")
# YAML 1.1 reads these as booleans or null: a layer named ON must be quoted to stay a name.
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
# The forms of answers, written as forms: an example number could be a question's own answer.
_HOW = {"output": "a volume, HxWxD", "fits": "true or false (false: the stride does not fit)"}


def _address(name: str) -> str:
    """A name as a YAML key that reads back as that name."""
    if _PLAIN.fullmatch(name) and name.casefold() not in _WORDS | {WHOLE}:
        return name
    return json.dumps(name)  # a JSON string is a YAML scalar; control characters are escaped


def _entry(address: str, comment: str) -> str:
    return f"  {address}:{' ' * max(1, 16 - len(address))}# {comment}"


def _questions(keys: list[str]) -> list[str]:
    return [f"    {k}:{' ' * max(1, 14 - len(k))}# {_HOW.get(k, 'a number')}" for k in keys]


def blank(key: Report) -> str:
    """The answer template of a key: its layers, its questions, the answers left blank."""
    asked: dict[str, list[str]] = {}
    for q in key.checks:  # one question per key of a place: an `expect:` is a mapping
        asked.setdefault(q.path, []).append(q.key)
    groups = {g.path: g for g in key.groups}
    # As the resolver reads them: a composite by its name, a merge row through its composite's.
    names = [g.name.casefold() for g in key.groups] + [r.name.casefold() for r in key.rows if r.path not in groups]
    lines = [
        f"# {inert(key.name)}: the answer sheet of {inert(key.source)}",
        "# Write each answer after its colon: a volume as HxWxD, a number in full or rounded with k, M or G",
        "# (it holds when the true value rounds to it at its last digit), true or false for fits. Leave",
        "# blank what you do not answer.",
        "student:          # your name",
        "answers:",
    ]
    for r in key.rows:
        if r.index == 0:
            lines.append(f"  # #0 the input: {r.output}")
            continue
        name = groups[r.path].name if r.path in groups else r.name
        what = f"#{r.index} {inert(r.label)}"
        if r.path not in asked:
            lines.append(f"  # {inert(name)} ({what}): no question")
            continue
        address = _address(name) if names.count(name.casefold()) == 1 else str(r.index)
        lines += [_entry(address, what), *_questions(asked[r.path])]
    rows = {r.path for r in key.rows}
    for path in (p for p in asked if p and p not in rows):  # a block or a repeat: no row of its own
        lines += [_entry(_address(groups[path].name), f"a {groups[path].kind}"), *_questions(asked[path])]
    if "" in asked:
        lines += [_entry(WHOLE, "the whole network"), *_questions(asked[""])]
    return "\n".join(lines) + "\n"
