"""Shared fixtures: golden files, and a deterministic rich console; hypothesis's profiles."""

from __future__ import annotations

import gc
import io
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings
from rich.console import Console

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

GOLDEN = Path(__file__).parent / "golden"

# Hypothesis profiles: `dev` (the default) keeps the inner loop quick, `ci` tries ten times as many
# examples. A test that sets max_examples itself (the fuzzers and the PyTorch oracles, marked slow)
# keeps its count under both. Neither has a deadline: on a shared 2-core machine, and under
# coverage's tracer, an example's time is noise, and speed is the benchmarks' business; for the
# same reason `ci` lets data generation be slow (HealthCheck.too_slow).
# CI is not derandomized: each run tries new examples (what finds bugs over time), and prints the
# blob that replays a failure (@reproduce_failure); locally, .hypothesis/ replays it.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=500, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)


def _hypothesis_profile() -> str:
    """HYPOTHESIS_PROFILE if set; else `ci` where CI is set (GitHub Actions and .ci/run: CI=true), else `dev`."""
    if chosen := os.environ.get("HYPOTHESIS_PROFILE"):
        return chosen
    return "ci" if os.environ.get("CI", "").lower() not in {"", "0", "false"} else "dev"


HYPOTHESIS_PROFILE = _hypothesis_profile()
settings.load_profile(HYPOTHESIS_PROFILE)


def _share_the_cores() -> None:
    """Under pytest-xdist, each worker's PyTorch gets its share of the cores (OMP_NUM_THREADS, unless set).

    PyTorch's intra-op threads default to one per core, and every parallel op ends at a barrier
    that waits for its slowest thread: two workers with two threads each on CI's two cores wait on
    each other at every op. Measured on the 2-core machine, two processes side by side each running
    the step oracle's forward and backward of ResNet-50, VGG11 and DenseNet-121 at batch 8: 44 to
    60 s each with two threads, 16 to 20 s with one. Set before torch is imported (the tests import
    it), and inherited by the processes they start.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if "torch" in sys.modules:  # a plugin imported it first: too late for the variable
            sys.modules["torch"].set_num_threads(threads)


_share_the_cores()

# REPEATED: the tests marked `no_cover` (pytest-cov's marker) run with coverage stopped.
# They run the same lines thousands of times: the fuzzers, the symbolic sweeps (every size up to
# 4,096 through the numeric engine), the brute force over 1,024 checkpoint choices, the specs and
# imports of 100,000 layers. Coverage says which lines the suite reaches, and the other tests
# reach these; traced, the line and branch tracer made them two to three times slower, several
# minutes of CI's run. They still run, and fail, in CI as before: only the measuring stops.


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A `no_cover` test with every coverage stopped, not only pytest-cov's (REPEATED, above).

    pytest-cov's marker stops its own measurement. But `patch = ["subprocess"]` (pyproject.toml)
    starts coverage in every Python process the tests start, xdist's workers among them, and
    coverage's collectors nest: stopping pytest-cov's resumed the one beneath it, and the test
    ran traced all the same (sys.gettrace() in a worker showed it). Run inside pytest-cov's
    wrapper, this stops whatever measures still and starts it again, in order, after the test.
    """
    coverage = sys.modules.get("coverage")
    if item.get_closest_marker("no_cover") is None or coverage is None:
        return (yield)
    stopped: list[Any] = []
    while (current := coverage.Coverage.current()) is not None and current not in stopped:
        current.stop()
        stopped.append(current)
    try:
        return (yield)
    finally:
        for measuring in reversed(stopped):
            measuring.start()


class _ModelsBuilt:
    """How many bytes of PyTorch weights tests built: a global hook of torch's, set once torch is imported.

    A model's parameters and buffers are registered through `torch.nn.Module.__setattr__`, which
    calls these hooks (torch.nn.modules.module.register_module_*_registration_hook); a test that
    built none adds nothing and costs no collection, and neither do the small models most fast
    tests build: they wait until their weights together pass `LIMIT`.
    """

    LIMIT = 64 * 2**20  # bytes of weights built (off the meta device) before a collection

    def __init__(self) -> None:
        self.hooked = False
        self.built = 0

    def _seen(self, _module: object, _name: str, tensor: Any) -> None:
        lazy = sys.modules["torch"].nn.parameter.UninitializedTensorMixin  # a LazyModule's: no storage yet
        if tensor is not None and not isinstance(tensor, lazy) and tensor.device.type != "meta":
            self.built += tensor.numel() * tensor.element_size()

    def take(self) -> bool:
        """Whether the weights built since the last collection pass LIMIT (or torch arrived unhooked); hooks torch."""
        torch = sys.modules.get("torch")
        if torch is None:
            return False
        if not self.hooked:  # torch was imported during this test: nothing was watched
            modules = torch.nn.modules.module
            modules.register_module_parameter_registration_hook(self._seen)
            modules.register_module_buffer_registration_hook(self._seen)
            self.hooked = True
            return True
        if self.built < self.LIMIT:
            return False
        self.built = 0
        return True


_MODELS = _ModelsBuilt()


@pytest.fixture(autouse=True)
def _collect_cycles() -> Iterator[None]:
    """After tests that built PyTorch models of 64 MB in all, collect reference cycles at once.

    A module run with runpy, a traced fx graph or a model in a closure sits in a reference cycle
    (its functions' globals hold it); Python's collector frees cycles by how many objects were
    made, not by their size, so hundreds of megabytes of weights per test waited, and the whole
    suite's process passed 17 GB and was killed (VGG's 553 MB each time). Only once that much was
    built: a full collection after every test cost CI two minutes, and one after every test that
    built any model cost the fast tier 8 s.
    """
    yield
    if _MODELS.take():
        gc.collect()


# The test files that take longest (CI's --durations), longest first: under `-n 2 --dist
# loadfile` a file runs whole on one worker, and one handed out last keeps the other worker idle
# until it ends. Run first, the rest (in xdist's own order: most tests first) fill in around them.
LONGEST_FIRST = (
    "test_peak_oracle.py",
    "test_step_oracle.py",
    "test_step_oracle_unet.py",
    "test_export.py",
    "test_import_models.py",
    "test_torchvision.py",
    "test_checkpoint_oracle.py",
    "test_symbolic.py",
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # xdist's controller: take the files in collection order
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """LONGEST_FIRST's files first, then the others by how many tests they have (as xdist orders them), stably."""
    counts: dict[Path, int] = {}
    for item in items:
        counts[item.path] = counts.get(item.path, 0) + 1
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), -counts[item.path], str(item.path)))


# A file whose every test is slow says so in one line: `pytestmark = [..., pytest.mark.slow]`.
_WHOLLY_SLOW = re.compile(r"^pytestmark = .*\bpytest\.mark\.slow\b", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The inner loop (`-m "not slow"`) does not import the files whose every test is slow.

    They would be deselected after collection anyway; importing them cost the inner loop their
    assertion rewriting and their imports (torch, torchvision's model list) for nothing.
    """
    if config.option.markexpr.strip() != "not slow" or not collection_path.name.startswith("test_"):
        return None
    if collection_path.suffix == ".py" and _WHOLLY_SLOW.search(collection_path.read_text(encoding="utf-8")):
        return True
    return None


def pytest_report_header() -> str:
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} (CI=true chooses ci, HYPOTHESIS_PROFILE any)"


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
