"""`convcalc import` of torchvision's models where torchvision's C extension does not load (issue 23, point 1).

The real thing, as a user runs it: `python -m convcalc import torchvision.models:resnet18` in a
child process, with no test helper on its path, beside the CPU build of torch and PyPI's
torchvision (slow). Then each way it can go, on small torchvision packages the tests write: a
package whose `__init__` fails as PyPI's does beside the CPU torch, one that is missing, one
that fails even bare (convcalc/bridges/importer/torchvision_models.py).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.torchvision_models.
from torchvision_models import models  # type: ignore[import-not-found]

import convcalc
from convcalc.bridges.importer import fx, torchvision_models
from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

ROOT = Path(convcalc.__file__).resolve().parents[1]  # the folder that holds the package convcalc


@pytest.mark.slow  # a child process that imports torch and torchvision, and builds and traces resnet18
def test_the_command_line_imports_resnet18_with_no_test_helper_on_the_path(tmp_path: Path) -> None:
    tv = models()  # skips, saying why, where torch or torchvision is missing
    # A clean environment: the path to convcalc (the checkout the tests run, which the installed
    # package is in CI), coverage's variables so that the child is measured, nothing else.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env |= {k: v for k, v in os.environ.items() if k.startswith(("COVERAGE", "COV_CORE"))}
    out = tmp_path / "resnet18.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "import", "torchvision.models:resnet18", "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Imported by `convcalc import` from torchvision.models:resnet18, input 224x224x3.\n")
    model = tv.resnet18(weights=None)
    assert analyze(load_spec(str(out), text)).totals.params == sum(p.numel() for p in model.parameters())


# Small torchvision packages, written by the tests ---------------------------------------------------

# PyPI's torchvision beside the CPU torch: its __init__ registers meta kernels for operators its C
# extension would have defined, and fails; torchvision.models is plain Python.
BROKEN_INIT = """
from torchvision import extension  # a submodule that loads, and stays in sys.modules
raise RuntimeError("operator torchvision::nms does not exist")
"""
EXTENSION = "LOADED = True\n"
MODELS = """
import torch
import torchvision.extension  # the bare package imports its submodules too


def tiny():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())


def broken():
    raise ValueError("a builder's own mistake")
"""


@pytest.fixture
def fake_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A torchvision package in tmp_path, first on the path; the real one's modules put back afterwards."""
    real = {n: m for n, m in sys.modules.items() if n == "torchvision" or n.startswith("torchvision.")}
    for name in real:
        monkeypatch.delitem(sys.modules, name)
    package = tmp_path / "site" / "torchvision"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text(BROKEN_INIT, encoding="utf-8")
    (package / "extension.py").write_text(EXTENSION, encoding="utf-8")
    (package / "models" / "__init__.py").write_text(MODELS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(package.parent))
    importlib.invalidate_caches()
    yield package
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    sys.modules.update(real)


def test_a_torchvision_that_does_not_load_is_imported_bare(fake_torchvision: Path) -> None:
    model = fx.load("torchvision.models:tiny")  # built, not traced: the meta device's first run costs a second
    assert [type(m).__name__ for m in model] == ["Conv2d", "ReLU"]
    assert torchvision_models.is_bare()
    package = sys.modules["torchvision"]
    assert package.__path__ == [str(fake_torchvision)]
    assert sys.modules["torchvision.extension"].LOADED
    # Imported again, from the bare package already there: the same module.
    assert torchvision_models.models() is sys.modules["torchvision.models"]


def test_a_model_file_that_imports_a_torchvision_that_does_not_load(fake_torchvision: Path, tmp_path: Path) -> None:
    del fake_torchvision
    path = tmp_path / "uses_torchvision.py"
    path.write_text("import torchvision.models\n\n\ndef build():\n    return torchvision.models.tiny()\n")
    model = fx.load(f"{path}:build")
    assert [type(m).__name__ for m in model] == ["Conv2d", "ReLU"]
    assert torchvision_models.is_bare()


def test_a_builders_own_mistake_is_its_own_message(fake_torchvision: Path, tmp_path: Path) -> None:
    del fake_torchvision
    path = tmp_path / "mistaken.py"
    path.write_text("import torchvision.models\n\nraise NameError('a mistake of the file, not of torchvision')\n")
    for _ in range(2):  # torchvision broken (imported bare, the file run again), then bare already
        result = CliRunner().invoke(main, ["import", f"{path}:Net"])
        assert result.exit_code == 2
        assert result.output.endswith("NameError: a mistake of the file, not of torchvision\n")
        assert "mistaken" not in sys.modules  # a module that failed is not kept
        assert torchvision_models.is_bare()
    result = CliRunner().invoke(main, ["import", "torchvision.models:broken"])
    assert result.exit_code == 2
    assert result.output == "error: cannot build torchvision.models:broken: ValueError: a builder's own mistake\n"


def test_a_torchvision_that_loads_is_left_as_it_is(fake_torchvision: Path, tmp_path: Path) -> None:
    (fake_torchvision / "__init__.py").write_text("from torchvision import extension\n")
    assert [type(m).__name__ for m in fx.load("torchvision.models:tiny")] == ["Conv2d", "ReLU"]
    assert not torchvision_models.is_bare()
    path = tmp_path / "typo.py"
    path.write_text("import torchvision.models\n\ntorchvision.models.tiny(3)\n")
    result = CliRunner().invoke(main, ["import", f"{path}:Net"])
    assert result.exit_code == 2
    assert "TypeError: tiny() takes 0 positional arguments but 1 was given" in result.output
    assert not torchvision_models.is_bare()


def test_a_failed_file_named_as_a_module_leaves_that_module_be(tmp_path: Path) -> None:
    path = tmp_path / "textwrap.py"  # the standard library's name
    path.write_text("raise OSError('not this textwrap')\n")
    result = CliRunner().invoke(main, ["import", f"{path}:Net"])
    assert result.exit_code == 2
    assert result.output == f"error: cannot build {path}:Net: OSError: not this textwrap\n"
    assert sys.modules["textwrap"].dedent("  a") == "a"


def test_a_torchvision_that_does_not_load_even_bare_says_what_to_install(fake_torchvision: Path) -> None:
    (fake_torchvision / "models" / "__init__.py").write_text(
        "from torch import no_such_name  # a torchvision made for another torch\n"
    )
    result = CliRunner().invoke(main, ["import", "torchvision.models:tiny"])
    assert result.exit_code == 2
    minor = int(torch.__version__.split(".")[1])
    assert result.output.startswith(
        "error: cannot import torchvision.models:tiny: torchvision does not load beside this torch, even without "
        "its C extension (RuntimeError: operator torchvision::nms does not exist; then ImportError: cannot import name "
    )
    assert result.output.endswith(
        f"`pip install --no-deps torchvision==0.{minor + 15}.0` installs the one made for torch "
        f"{torch.__version__.split('+')[0]} (README, Set up)\n"
    )
    assert "\n" not in result.output.rstrip("\n")


def test_without_torchvision_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n.startswith("torchvision.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torchvision", None)  # as if not installed
    result = CliRunner().invoke(main, ["import", "torchvision.models:resnet18"])
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: cannot import torchvision.models:resnet18: torchvision is not installed; `pip install --no-deps "
    )
    with pytest.raises(ConvcalcError, match="torchvision is not installed"):
        torchvision_models.models()


@pytest.mark.parametrize(
    ("version", "advice"),
    [
        ("2.13.0+cpu", "`pip install --no-deps torchvision==0.28.0` installs the one made for torch 2.13.0"),
        ("2.0.1", "`pip install --no-deps torchvision==0.15.0` installs the one made for torch 2.0.1"),
        ("1.13.1", "install the torchvision release made for torch 1.13.1"),
        ("nightly", "install the torchvision release made for torch nightly"),
    ],
)
def test_the_torchvision_to_install_is_the_one_made_for_the_torch_installed(
    monkeypatch: pytest.MonkeyPatch, version: str, advice: str
) -> None:
    monkeypatch.setattr(torch, "__version__", version)
    assert torchvision_models._install().startswith(advice)  # noqa: SLF001 - the rule, at the versions it covers


def test_the_bare_package_has_no_file_and_a_spec(fake_torchvision: Path) -> None:
    """No __file__: inspect.getmodule (torch.library calls it) compares it with the failed torchvision's file."""
    torchvision_models.models()
    package = sys.modules["torchvision"]
    assert not hasattr(package, "__file__")
    spec = importlib.util.find_spec("torchvision")
    assert spec is not None
    assert list(spec.submodule_search_locations or []) == [str(fake_torchvision)]
