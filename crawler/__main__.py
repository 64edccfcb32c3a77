"""The crawl process of one outlet: ``python -m crawler SLUG`` (core.crawl starts one per outlet).

It does what ``scrapy crawl outlet -a outlet=SLUG`` does, through Scrapy's API for running a
crawl from a script (``scrapy crawl`` would first load every Scrapy command, ``bench`` and
``shell`` included: ~0.1 s of a crawl's start), with one thing done first: when the crawl extracts
in worker processes (``[crawl] workers``, not 0), their forkserver is started before Scrapy and
the rest of the crawl are imported. The forkserver loads the extraction code and the language
model (the largest part of a crawl's start-up) on another core while this process imports
Scrapy and fetches robots.txt and the sitemaps, instead of after. A crawl started held
(core.crawl.hold_crawls) then waits for the word to crawl.

And one thing last: once the crawl is over and the usual exit work is done (``atexit``: logs
flushed, the extraction pool's processes joined), the process ends without tearing its
interpreter down object by object, which takes a crawl process over half a second for
nothing: everything was written and closed before. (Exit hooks registered before this module
runs, by a ``sitecustomize`` or a ``.pth`` file, would not run: a crawl process has none.)
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys
from typing import TYPE_CHECKING

from core.crawl import GO, HOLD_ENV, WORKERS_ENV

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerProcess

USAGE = "usage: python -m crawler OUTLET_SLUG (config from $MEDIAWATCH_CONFIG)"


def extracts_in_workers(config: str | None) -> bool:
    """Does this crawl extract in worker processes? The process that started this one says so
    (core.crawl.crawl_env), or else the config does (the config is read again by the crawl,
    which reports any problem with it: one that cannot be read says no here)."""
    told = os.environ.get(WORKERS_ENV)
    if told in ("0", "1"):
        return told == "1"
    from crawler.context import settings_for

    try:
        return settings_for(config).crawl.workers != 0
    except Exception:
        return False


def go_ahead() -> bool:
    """A held crawl (core.crawl.hold_crawls): the code loaded, wait for the word to crawl, before
    the database or the network is touched. Anything but GO (the starter found the outlet cannot
    be crawled, or ended) and the process ends, having done nothing."""
    for module in ("crawler.spiders.outlet", "crawler.pipelines"):  # what Scrapy loads next
        importlib.import_module(module)
    return sys.stdin.buffer.readline() == GO


class _Exit:
    """Ends the process at the very end of ``atexit``, with the crawl's exit status."""

    status = 1  # unless the crawl reports its own: an exception escaped it

    def register(self) -> None:
        atexit.register(self._now)  # first registered, last run: after every other exit hook

    def _now(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):  # closed, or none
                stream.flush()
        os._exit(self.status)


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    end = _Exit()
    end.register()
    if extracts_in_workers(os.environ.get("MEDIAWATCH_CONFIG")):
        from crawler.extraction_pool import start_forkserver

        start_forkserver()
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.utils.project import get_project_settings

    if os.environ.get(HOLD_ENV) == "1" and not go_ahead():
        end.status = 0
        sys.exit(0)
    end.status = crawl(AsyncCrawlerProcess(get_project_settings()), argv[0])
    sys.exit(end.status)


def crawl(process: AsyncCrawlerProcess, slug: str) -> int:
    """The outlet's crawl, run as ``scrapy crawl`` runs it (our settings keep Scrapy's asyncio
    reactor, for which that command uses this process class); its exit status as that command's:
    1 when the crawl could not start (its traceback in the log), else 0."""
    process.crawl("outlet", outlet=slug)
    process.start()
    return 1 if process.bootstrap_failed else 0


if __name__ == "__main__":
    main(sys.argv[1:])
