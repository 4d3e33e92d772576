"""Shared fixtures: golden files, and a deterministic rich console."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rich.console import Console

if TYPE_CHECKING:
    from collections.abc import Callable

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME, or rewrite it with --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    return check


def _plain_console(width: int = 100) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, legacy_windows=False, _environ={})
    return console, out


@pytest.fixture
def plain_console() -> Callable[..., tuple[Console, io.StringIO]]:
    """Make a console that writes plain text of a fixed width (rich's own tests/render.py does this)."""
    return _plain_console
