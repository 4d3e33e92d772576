"""Safe YAML reading that keeps where every key and item stands, and refuses duplicate keys.

Mappings come back as `PosMap` and sequences as `PosList`: ordinary dicts and lists that also
know the line and column of themselves and of each key/item, so that every later error can name
its place. Only the safe loader is used: a `!!python/...` tag is an error, never code.
"""

from __future__ import annotations

from typing import Any

import yaml

from convcalc.errors import Location, SpecError

# libyaml's parser where it is installed (several times faster); nodes keep their marks either way.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PosMap(dict[Any, Any]):
    """A mapping that remembers where it and each of its keys and values stand."""

    def __init__(self, here: Location) -> None:
        super().__init__()
        self.here = here
        self.key_at: dict[Any, Location] = {}
        self.value_at: dict[Any, Location] = {}

    def at(self, key: Any) -> Location:
        """Where the value of `key` stands (the mapping itself when the key is absent)."""
        return self.value_at.get(key, self.here)


class PosList(list[Any]):
    """A sequence that remembers where it and each of its items stand."""

    def __init__(self, here: Location) -> None:
        super().__init__()
        self.here = here
        self.item_at: list[Location] = []


def _where(loader: Any, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(loader.source_name, mark.line + 1, mark.column + 1)


class _Loader(_Base):  # type: ignore[misc]
    source_name = "<spec>"

    def construct_pos_map(self, node: yaml.MappingNode) -> PosMap:
        # Merge keys (`<<: *base`) as YAML defines them: the mapping's own keys override merged
        # ones, and of merged mappings (`<<: [*a, *b]`) the earlier one wins. flatten_mapping puts
        # the merged pairs first, in the order given; PyYAML 6.0.3 keeps a key of a later mapping
        # too (it compares the keys' object ids), so the first one is kept here.
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.flatten_mapping(node)
        merged = len(node.value) - own
        result = PosMap(_where(self, node))
        from_merge: set[Any] = set()
        for i, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise SpecError(
                    "a key must be a plain value, not a mapping, list or set", _where(self, key_node)
                ) from None
            if i < merged:
                if key in from_merge:
                    continue
                from_merge.add(key)
            elif key in from_merge:
                from_merge.discard(key)  # the mapping's own value overrides the merged one
            elif key in result:
                first = result.key_at[key]
                msg = f"duplicate key '{key}' (first given at line {first.line})"
                raise SpecError(msg, _where(self, key_node))
            result[key] = self.construct_object(value_node, deep=True)
            result.key_at[key] = _where(self, key_node)
            result.value_at[key] = _where(self, value_node)
        return result

    def construct_pos_list(self, node: yaml.SequenceNode) -> PosList:
        result = PosList(_where(self, node))
        for item in node.value:
            result.append(self.construct_object(item, deep=True))
            result.item_at.append(_where(self, item))
        return result

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        """Whole numbers as YAML 1.2 reads them, not as YAML 1.1 (PyYAML's) does.

        YAML 1.1 reads `064` as octal 52 and `1:30` as 90 (base 60): silently wrong numbers.
        YAML 1.2 reads `1:30` as text (the parameter's converter then says it is not a number)
        and `064` as 64; a leading zero is refused instead, since the writer may have meant either.
        """
        text = str(node.value)
        if ":" in text:
            return text
        digits = text.lstrip("+-").replace("_", "")
        if len(digits) > 1 and digits[0] == "0" and digits.isdigit():
            msg = (
                f"'{text}' has a leading zero, which YAML 1.1 reads as an octal number "
                f"({int(digits, 8) if set(digits) <= set('01234567') else 'not valid'}) and YAML 1.2 as "
                f"{int(digits)}: write {text[0] if text[0] in '+-' else ''}{int(digits)}"
            )
            raise SpecError(msg, _where(self, node))
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        """`1:30.5` is text in YAML 1.2, not the base-60 number 90.5 of YAML 1.1."""
        return str(node.value) if ":" in str(node.value) else super().construct_yaml_float(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_pos_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_pos_list)


# A YAML alias (*name) repeats a node without copying it: ten aliases of ten aliases of ... make
# a "billion laughs" document of a few lines. Before anything walks the document, its size with
# every alias expanded is counted (once per distinct node), and so is its depth.
MAX_EXPANDED_NODES = 2_000_000
MAX_DEPTH = 200


def _check_size(root: yaml.Node, source: str, *, aliases: bool) -> None:
    if not aliases:  # no anchor, no alias: only the depth can be too much
        _check_depth(root, source)
        return
    sizes: dict[int, int] = {}
    # Iterative post-order walk: deep documents must not exhaust Python's stack.
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_: set[int] = set()  # nodes whose children are still being counted
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_:
            msg = "YAML: an alias (*name) refers to a node that contains it, a loop"
            raise SpecError(msg, Location(source, node.start_mark.line + 1, node.start_mark.column + 1))
        if depth > MAX_DEPTH:
            msg = f"the document nests more than {MAX_DEPTH} levels deep, convcalc's limit"
            raise SpecError(msg, Location(source, node.start_mark.line + 1, node.start_mark.column + 1))
        children = _children(node)
        if done:
            open_.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                msg = (
                    f"with its aliases (*name) expanded, the document has more than {MAX_EXPANDED_NODES:,} "
                    "values, convcalc's limit (a 'billion laughs' document?)"
                )
                raise SpecError(msg, Location(source, node.start_mark.line + 1, node.start_mark.column + 1))
            continue
        open_.add(id(node))
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


def _check_depth(root: yaml.Node, source: str) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            msg = f"the document nests more than {MAX_DEPTH} levels deep, convcalc's limit"
            raise SpecError(msg, Location(source, node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, depth + 1) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((c, depth + 1) for pair in node.value for c in pair)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _hint(problem: str, text: str) -> str:
    """What to do about the YAML mistakes people make most."""
    if "mapping values are not allowed" in problem:
        return (
            " (a shorthand layer cannot have keys under it: write `- layer: conv3-16 p1` and put"
            " `expect:` or `name:` beside `layer:`; or check the indentation)"
        )
    if "cannot start any token" in problem and "\t" in text:
        return " (YAML does not allow tabs for indentation: use spaces)"
    if "expected <block end>" in problem or "did not find expected '-' indicator" in problem:
        return " (check the indentation: items of a list line up under each other)"
    return ""


def parse_yaml(text: str, source: str) -> Any:
    """Parse one YAML document; every failure is a SpecError at the offending place."""
    loader = _Loader(text)
    loader.source_name = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, source, aliases="&" in text)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        problem = exc.problem or exc.context or "not valid YAML"
        if "could not determine a constructor" in problem:
            tag = problem.split("for the tag")[-1].strip().strip("'").replace("tag:yaml.org,2002:", "!!")
            problem = f"the tag '{tag}' is not allowed: specs are read as plain data, never as code"
        msg = f"YAML: {problem}{_hint(problem, text)}"
        raise SpecError(msg, where) from None
    except yaml.YAMLError as exc:
        msg = f"YAML: {exc}"
        raise SpecError(msg, Location(source)) from None
    except RecursionError:
        raise SpecError("YAML: the document nests too deeply", Location(source)) from None
    finally:
        loader.dispose()
