"""What the extraction forkserver loads before it forks any worker (crawler.extraction_pool):
the extraction code (crawler.extraction_worker) and the language model, each worker's share of
them loaded once for all."""

from __future__ import annotations

import gc
import importlib
import threading

from pipeline import language


def load() -> None:
    """The language model is read in a thread while the extraction code is imported: most of
    its reading (from the cache folder, pipeline.language; else decompressing py3langid's file)
    runs without the GIL, on another core."""
    model = threading.Thread(target=language.warm, name="load-language-model")
    model.start()
    try:
        importlib.import_module("crawler.extraction_worker")
    finally:
        model.join()
    # What was loaded lives as long as the workers: out of the cyclic GC's sight, their
    # collections never walk it (nor write to its pages, which stay shared with the forkserver).
    gc.freeze()


load()
