"""The crawl process of one outlet: ``python -m crawler SLUG`` (core.crawl starts one per outlet).

It is ``scrapy crawl outlet -a outlet=SLUG``, with one thing done first: when the crawl extracts
in worker processes (``[crawl] workers``, not 0), their forkserver is started before Scrapy and
the rest of the crawl are imported. The forkserver loads the extraction code and the language
model (the largest part of a crawl's start-up) on another core while this process imports
Scrapy and fetches robots.txt and the sitemaps, instead of after.

And one thing last: once the crawl is over and the usual exit work is done (``atexit``: logs
flushed, the extraction pool's processes joined), the process ends without tearing its
interpreter down object by object, which takes a crawl process over half a second for
nothing: everything was written and closed before. (Exit hooks registered before this module
runs, by a ``sitecustomize`` or a ``.pth`` file, would not run: a crawl process has none.)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

USAGE = "usage: python -m crawler OUTLET_SLUG (config from $MEDIAWATCH_CONFIG)"


def extracts_in_workers(config: str | None) -> bool:
    """Does this crawl extract in worker processes? A config that cannot be read says no here:
    the crawl reads it again and reports the problem."""
    from crawler.context import settings_for

    try:
        return settings_for(config).crawl.workers != 0
    except Exception:
        return False


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
    from scrapy.cmdline import execute

    try:
        execute(["scrapy", "crawl", "outlet", "-a", f"outlet={argv[0]}"])
        end.status = 0
    except SystemExit as exc:  # how Scrapy ends: its status is the process's
        end.status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        raise


if __name__ == "__main__":
    main(sys.argv[1:])
