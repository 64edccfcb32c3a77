"""The extraction pool: pages run in worker processes; a crash or a hang costs that page only."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from crawler.extraction_pool import ExtractionFailed, ExtractionPool
from pipeline.extract import extract_page
from tests import extraction_tasks as tasks
from tests.conftest import ROOT, sample_page


@pytest.fixture
def pool() -> ExtractionPool:
    p = ExtractionPool(2, timeout=3)
    yield p
    p.close()


def test_work_runs_in_other_processes(pool: ExtractionPool) -> None:
    assert pool.run(tasks.double, 21) == 42
    assert pool.run(tasks.pid) != os.getpid()


def test_real_pages_are_extracted_in_a_worker(pool: ExtractionPool) -> None:
    body, url = sample_page("observatory/p/101.html")
    page = pool.run(extract_page, body, url)
    assert page.title == "The road back to Geneva runs through Aleppo"
    assert [a.name for a in page.authors] == ["Lena Marchetti"]


def test_a_crashing_page_fails_alone_and_the_pool_recovers(pool: ExtractionPool) -> None:
    results: dict[int, object] = {}

    def bystander(i: int) -> None:
        results[i] = pool.run(tasks.slow_double, i, 0.5)

    threads = [threading.Thread(target=bystander, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    with pytest.raises(ExtractionFailed, match="died"):
        pool.run(tasks.die)
    for t in threads:
        t.join()
    assert results == {0: 0, 1: 2, 2: 4}  # pages in flight beside the crash were not lost
    assert pool.restarts >= 1
    assert pool.run(tasks.double, 5) == 10


def test_a_hanging_page_times_out_and_the_pool_recovers() -> None:
    pool = ExtractionPool(1, timeout=1)
    try:
        with pytest.raises(ExtractionFailed, match="longer than 1 s"):
            pool.run(tasks.hang, 30)
        assert pool.run(tasks.double, 4) == 8
    finally:
        pool.close()


def test_zero_workers_runs_in_the_calling_process() -> None:
    assert ExtractionPool(0, timeout=1).run(tasks.pid) == os.getpid()


def test_functions_run_by_name_in_the_workers_and_without_them(pool: ExtractionPool) -> None:
    assert pool.run_named("tests.extraction_tasks:double", 21) == 42
    assert pool.run_named("tests.extraction_tasks:pid") != os.getpid()
    assert ExtractionPool(0, timeout=1).run_named("tests.extraction_tasks:pid") == os.getpid()


def test_workers_started_ahead_take_the_work(pool: ExtractionPool) -> None:
    pool.start("tests.extraction_tasks:pid")
    assert pool.run(tasks.pid) != os.getpid()
    assert pool.restarts == 0


def test_a_warm_up_that_kills_its_worker_leaves_a_pool_that_works(pool: ExtractionPool) -> None:
    pool.start("tests.extraction_tasks:die")
    assert pool.restarts == 1
    assert pool.run(tasks.double, 4) == 8


def test_workers_fork_with_the_extraction_code_loaded() -> None:
    """A fresh process's first pool starts a forkserver that preloads the extraction code: its
    workers have it, with the language model and dateparser (which the code loads on its first
    page), before they run anything (a replaced worker does not load them again)."""
    code = (
        "from crawler.extraction_pool import ExtractionPool\n"
        "from tests import extraction_tasks as t\n"
        "p = ExtractionPool(1, timeout=60)\n"
        "print(*(p.run(t.loaded, m) for m in\n"
        "        ('crawler.extraction_worker', 'datasketch', 'dateparser', 'py3langid')))\n"
        "print(p.run(t.language_model_loaded))\n"
        "p.close()\n"
    )
    assert in_a_fresh_process(code) == ["True"] * 5


def test_a_forkserver_started_early_loads_the_code_while_the_process_goes_on() -> None:
    """``start_forkserver`` (the first thing a crawl process does) returns at once, before
    anything heavy is imported here; the pool made later forks its workers from that server, with
    the extraction code already loaded."""
    code = (
        "import os, sys, time\n"
        "from crawler.extraction_pool import ExtractionPool, start_forkserver\n"
        "from tests import extraction_tasks as t\n"
        "start_forkserver()\n"
        "print(any(m in sys.modules for m in ('scrapy', 'trafilatura', 'lxml')))\n"
        "for _ in range(500):  # its interpreter may not be exec'd yet\n"
        "    kids = open(f'/proc/{os.getpid()}/task/{os.getpid()}/children').read().split()\n"
        "    server = [k for k in kids if b'multiprocessing.forkserver'\n"
        "              in open(f'/proc/{k}/cmdline', 'rb').read()]\n"
        "    if server:\n"
        "        break\n"
        "    time.sleep(0.01)\n"
        "print(len(server))\n"
        "p = ExtractionPool(1, timeout=60)\n"
        "print(p.run(t.parent) == int(server[0]), p.run(t.loaded, 'crawler.extraction_worker'))\n"
        "p.close()\n"
    )
    assert in_a_fresh_process(code) == ["False", "1", "True", "True"]


def in_a_fresh_process(code: str) -> list[str]:
    """What ``code`` prints, run by a new interpreter (whose first pool starts the forkserver)."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_workers_are_replaced_after_their_pages_and_every_page_goes_through() -> None:
    """Workers are replaced after ``tasks_per_worker`` pages each, with pages queued behind them
    all the while (CPython 3.11's ``max_tasks_per_child`` can end a worker without a
    replacement, gh-115634: the queued pages then wait for ever, until each one times out)."""
    pool = ExtractionPool(2, timeout=10, tasks_per_worker=3)
    try:
        with ThreadPoolExecutor(8) as threads:  # a backlog, as a crawl's reactor threads make
            pids = list(threads.map(lambda _: pool.run(tasks.slow_pid, 0.02), range(40)))
        assert len(set(pids)) >= 40 // (2 * 3)  # replaced, all of them, as they went
        assert pool.restarts == 0  # and no page timed out or broke the pool
    finally:
        pool.close()


def test_without_workers_pages_are_extracted_one_at_a_time() -> None:
    """``workers = 0`` runs extraction in the crawl's reactor threads: never two at once (lxml
    and trafilatura in up to ten threads at once corrupted the crawl process's heap)."""
    pool = ExtractionPool(0, timeout=10)
    inside, most = 0, 0
    guard = threading.Lock()

    def page(n: int) -> int:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.02)
        with guard:
            inside -= 1
        return n * 2

    with ThreadPoolExecutor(max_workers=6) as threads:
        results = list(threads.map(lambda n: pool.run(page, n), range(24)))
    assert results == [n * 2 for n in range(24)]
    assert most == 1
