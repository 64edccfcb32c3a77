"""mediawatch: media-monitoring ingestion — crawl, extract, deduplicate, flag, alert."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mediawatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
