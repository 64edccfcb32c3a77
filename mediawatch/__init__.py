"""mediawatch: media-monitoring ingestion — crawl, extract, deduplicate, flag, alert."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Looked up on demand: importlib.metadata costs ~30 ms, paid only by `--version`.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mediawatch")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0"
    raise AttributeError(name)
