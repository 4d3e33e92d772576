"""`@record`: a frozen value class, as `@dataclass(frozen=True)` makes one, but cheap to define.

The standard `dataclasses` module imports `inspect` (and with it `ast` and `dis`), and builds each
class's methods through a long path: together about a fifth of the start-up time of
`convcalc show --format json` (docs/performance.md). A `record` gets the same `__init__` (fields
in order, defaults last), `__eq__`, `__hash__` and `__repr__` from one small `exec` per class.
Type checkers treat it as a frozen dataclass (PEP 681's `dataclass_transform`); at run time the
fields are plain attributes, so that the engine's hot loop does not pay for `object.__setattr__`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        """PEP 681's marker, only for type checkers (typing has it from Python 3.11 on)."""
        return lambda decorator: decorator


T = TypeVar("T")


class _Factory:
    """A default made afresh for each value (`factory(dict)`), as dataclasses' default_factory."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def factory(make: Callable[[], T]) -> T:
    """A default made afresh for each new value, as dataclasses' default_factory makes it."""
    marker: Any = _Factory(make)
    return marker  # type: ignore[no-any-return]


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """Give `cls` an `__init__` over its annotated fields, and value equality, hash and repr.

    A record's base records' fields come first, as with dataclasses; a `ClassVar` is no field.
    """
    inherited = [n for base in reversed(cls.__mro__[1:]) for n in getattr(base, "__record_fields__", ())]
    own = [
        n
        for n, annotation in cls.__annotations__.items()  # Python 3.10 on: the class's own
        if not n.startswith("_") and "ClassVar" not in str(annotation) and n not in inherited
    ]
    names = list(dict.fromkeys([*inherited, *own]))
    defaults = {n: getattr(cls, n) for n in names if hasattr(cls, n)}
    factories = {n: d.make for n, d in defaults.items() if isinstance(d, _Factory)}
    params = ", ".join(f"{n}=__defaults[{n!r}]" if n in defaults else n for n in names)
    body = "".join(
        f"\n    self.{n} = __factories[{n!r}]() if {n} is __defaults[{n!r}] else {n}"
        if n in factories
        else f"\n    self.{n} = {n}"
        for n in names
    )
    fields = "".join(f"self.{n}, " for n in names)
    source = (
        f"def __init__(self, {params}):{body or chr(10) + '    pass'}\ndef __values__(self):\n    return ({fields})\n"
    )
    namespace: dict[str, Any] = {"__defaults": defaults, "__factories": factories}
    exec(source, namespace)  # noqa: S102 - our own source, built from the class's field names
    target: Any = cls  # methods are set on the class, which type checkers do not follow
    target.__init__ = namespace["__init__"]
    target.__values__ = namespace["__values__"]
    target.__eq__ = _eq
    target.__hash__ = _hash
    target.__repr__ = _repr
    target.__record_fields__ = tuple(names)
    setattr(cls, "__match_args__", tuple(names))  # noqa: B010 - type checkers refuse the attribute form
    return cls


def replace(value: T, **changes: Any) -> T:
    """A copy of a record with some fields changed (`dataclasses.replace`)."""
    record_: Any = value
    fields = {n: getattr(value, n) for n in record_.__record_fields__}
    fields.update(changes)
    return type(value)(**fields)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return self.__values__() == other.__values__()


def _hash(self: Any) -> int:
    return hash(self.__values__())


def _repr(self: Any) -> str:
    fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__)
    return f"{self.__class__.__qualname__}({fields})"
