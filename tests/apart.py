"""A process of its own for the oracles' biggest measurements, started once per test process.

A measurement of gigabytes (U-Net or a VGG at batch 8) run in the tests' own process would leave
its heap that large for every test after it. Run in a spawned process, its memory leaves with the
measurement. One process is started the first time it is needed and reused until the tests'
process exits: starting one for each measurement cost its PyTorch import each time (about 3 s,
more under coverage), for 16 measurements in tests/test_peak_oracle.py alone. The process collects
reference cycles after each measurement (a built module sits in one), so what one measurement
made is gone before the next starts.
"""

from __future__ import annotations

import atexit
import functools
import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def _collected(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    finally:
        gc.collect()


@functools.cache
def _process() -> ProcessPoolExecutor:
    """The one spawned process, started at the first call, shut down when the tests' process exits."""
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    atexit.register(pool.shutdown)
    return pool


def apart(function: Callable[..., Any], *args: Any) -> Any:
    """function(*args) in the spawned process (a module-level function, picklable arguments)."""
    return _process().submit(_collected, function, *args).result()
