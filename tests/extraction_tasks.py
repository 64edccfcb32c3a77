"""Module-level functions for the extraction-pool tests (worker processes import them)."""

from __future__ import annotations

import os
import time


def double(x: int) -> int:
    return 2 * x


def die() -> None:
    os._exit(3)  # the worker process dies, as a crashing parser would take it down


def hang(seconds: float) -> None:
    time.sleep(seconds)


def slow_double(x: int, seconds: float) -> int:
    time.sleep(seconds)
    return 2 * x


def pid() -> int:
    return os.getpid()


def slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def parent() -> int:
    return os.getppid()


def loaded(module: str) -> bool:
    """Whether ``module`` was imported in this process before the call."""
    import sys

    return module in sys.modules


def language_model_loaded() -> bool:
    """Whether this process had the language model loaded before the call."""
    from pipeline.language import _identifier

    return _identifier.cache_info().currsize == 1
