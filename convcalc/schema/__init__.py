"""The spec format as a JSON Schema (draft 2020-12), made from the code's own vocabularies.

Editors with a YAML language server use it to complete and check specs as they are typed
(docs/editors.md). It describes the form of a spec: its keys, the layer kinds and their
parameters, the types of values and the closed vocabularies. It never does the arithmetic: a
stride that does not fit is for convcalc to find.

One rule holds above all (tests/test_schema.py): every spec convcalc reads validates. Where the
form depends on what a schema cannot see, the schema is loose:

- calls of blocks: once `blocks:` exists, any other word may be a call;
- inside a block, any value may be a `${arg}` string (it is replaced at each call);
- once `defaults:` exists, a layer may leave out required parameters (a default may give them).

Without `blocks:` or `defaults:`, the top-level layers are checked for both (the `known.` and
`complete.` definitions below, applied beside the main ones), so that a misspelt kind or a conv
without `filters` is flagged where most specs need it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from convcalc.schema.parts import DRAFT, FILE, any_case
from convcalc.schema.spec import SpecBuilder

if TYPE_CHECKING:
    from convcalc.schema.parts import Schema

__all__ = ["DRAFT", "FILE", "any_case", "schema_json", "spec_schema"]


def spec_schema() -> Schema:
    """The JSON Schema of the spec format, as a dict."""
    return SpecBuilder().spec()


def schema_json() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indents, a final newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
