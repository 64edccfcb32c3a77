"""Extraction off the reactor and off the GIL: ``pipeline.extract.extract_page`` (pure) runs in a
pool of worker processes, one per core by default (``[crawl] workers``; 0 runs it in the
calling thread).

A page that crashes its worker (the process dies) or hangs it (past ``[crawl]
extract_timeout_seconds``) fails alone: it is reported as :class:`ExtractionFailed`, the pool is
replaced and the next pages go on. The workers are replaced after ``MAX_TASKS_PER_WORKER`` pages
each on average, so a slow leak in a parser never grows a worker without bound. A worker ends
itself when the process that owns the pool is gone: a crawl killed with SIGKILL leaves no
extraction process behind.

:meth:`ExtractionPool.start` starts the workers ahead of the first page (the crawl fetches
robots.txt, feeds and sitemaps meanwhile), forked from a forkserver that has loaded the
extraction code once for all of them (see ``_context``); a crawl process starts that forkserver
before it imports Scrapy (:func:`start_forkserver`).
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_TASKS_PER_WORKER = 500
PRELOAD = ["crawler.extraction_preload"]


class ExtractionFailed(Exception):
    """The worker extracting this page died or ran out of time."""


def _gone(pid: int) -> bool:
    """The process ``pid`` has ended (or is a zombie waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _follow(owner: int) -> None:
    """Worker initializer: end this worker when the process that owns the pool is gone. A
    crawl killed with SIGKILL cannot shut its pool down, and a worker blocked on the task queue
    never sees it close (the queue's other end lives on in its siblings)."""

    def watch() -> None:
        while not _gone(owner):
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="follow-owner", daemon=True).start()


def _context() -> multiprocessing.context.ForkServerContext:
    """forkserver: workers do not inherit the reactor, the database connections or the threads
    of the crawl process. The forkserver imports the extraction code and loads the language
    model once (``PRELOAD``), before it forks any worker: a worker, the first ones or one that
    replaces the others after ``MAX_TASKS_PER_WORKER`` pages each, is ready at once and shares that
    memory. The preload applies when this process starts its forkserver, on its first pool."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_forkserver() -> None:
    """Start the forkserver now, without waiting for it: it loads the extraction code
    (``PRELOAD``) while this process goes on with other work, and the first pool finds it
    ready. A crawl process calls it first thing (crawler.__main__)."""
    from multiprocessing import forkserver

    _context()  # the preload list, set before the server starts
    forkserver.ensure_running()


def _call(target: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module:function`` called with these arguments: the process that submits work by name
    need not import what the workers run."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class ExtractionPool:
    """Runs a function in worker processes; thread-safe (the store pipeline calls it from the
    reactor's thread pool)."""

    def __init__(
        self, workers: int, timeout: float, tasks_per_worker: int = MAX_TASKS_PER_WORKER
    ) -> None:
        self.workers = workers
        self.tasks_per_worker = tasks_per_worker
        self.timeout = timeout
        self._lock = threading.Lock()
        self._inline = threading.Lock()  # without workers: one page at a time (see ``run``)
        self._pool: ProcessPoolExecutor | None = None
        self._given = 0  # pages given to the current pool
        self.restarts = 0

    def _submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> tuple[ProcessPoolExecutor, Future[Any]]:
        """``fn(*args, **kwargs)`` given to the current pool, and that pool. After
        ``tasks_per_worker`` pages a worker on average, a new pool takes the next pages, and the
        old one ends once it has done those it has (``shutdown(wait=False)``). Not
        ``max_tasks_per_child``: in CPython 3.11 a worker that ends at that limit can go without
        a replacement, and the pages queued behind it then wait until they time out (gh-115634,
        fixed in 3.13), as a crawl of 2,000 pages met. Chosen and given under the lock: a pool is
        never retired between the two."""
        with self._lock:
            if self._pool is not None and self._given >= self.tasks_per_worker * self.workers:
                retired, self._pool = self._pool, None
                retired.shutdown(wait=False)
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=_context(),
                    initializer=_follow,
                    initargs=(os.getpid(),),
                )
                self._given = 0
            self._given += 1
            return self._pool, self._pool.submit(fn, *args, **kwargs)

    def start(self, warm: str) -> None:
        """Start the workers now rather than on the first page, each running ``warm``
        (``module:function``, which loads what the work needs). Blocks until they have: call it
        from a thread. Nothing to do without workers."""
        if self.workers <= 0:
            return
        for pool, future in [self._submit(_call, warm, (), {}) for _ in range(self.workers)]:
            try:
                future.result(timeout=self.timeout)
            except (FutureTimeout, BrokenProcessPool, CancelledError):
                self._replace(pool)  # the first page finds a new pool
                return

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """The next pages go to a new pool (unless another thread replaced this one already, or
        it was retired: see ``_submit``), and this one ends."""
        with self._lock:
            if self._pool is broken:
                self._pool = None
                self.restarts += 1
        # A hung worker does not stop on its own: end the processes, then the executor (again,
        # when another thread did: harmless).
        for proc in list((getattr(broken, "_processes", None) or {}).values()):
            proc.kill()
        broken.shutdown(wait=False, cancel_futures=True)

    def run_named(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """``module:function`` run as :meth:`run` runs a function; the module is imported by the
        workers (and here only without workers)."""
        return self.run(_call, target, args, kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker. When the shared pool breaks under a page, the
        page is tried once more in a process of its own: the page that broke the pool breaks
        only that one and is given up; pages merely in flight beside it go through.

        Without workers, in the calling thread, one call at a time: the crawl's reactor threads
        would otherwise run up to ten extractions at once in lxml and trafilatura, and crawls
        so made died of heap corruption ("double free or corruption", SIGABRT in lxml code)
        twice in about twenty crawls of the real-page benchmark site. Under the GIL they gain
        next to nothing from running together."""
        if self.workers <= 0:
            with self._inline:
                return fn(*args, **kwargs)
        pool, future = self._submit(fn, *args, **kwargs)
        try:
            return cast(T, future.result(timeout=self.timeout))
        except FutureTimeout:
            self._replace(pool)
            raise ExtractionFailed(f"extraction took longer than {self.timeout:g} s") from None
        except (BrokenProcessPool, CancelledError):  # cancelled: another page broke the pool
            self._replace(pool)
        alone = ProcessPoolExecutor(
            max_workers=1,
            mp_context=_context(),
            initializer=_follow,
            initargs=(os.getpid(),),
        )
        try:
            return alone.submit(fn, *args, **kwargs).result(timeout=self.timeout)
        except FutureTimeout:
            raise ExtractionFailed(f"extraction took longer than {self.timeout:g} s") from None
        except BrokenProcessPool:
            raise ExtractionFailed("the extraction worker died") from None
        finally:
            for proc in list(getattr(alone, "_processes", {}).values()):
                proc.kill()
            alone.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
