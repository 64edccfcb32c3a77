"""The errors the CLI turns into one-line messages and exit code 2.

Kept free of heavy imports: the CLI imports this module on every start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class ConfigError(Exception):
    """A configuration problem, already phrased for the user (file, key, problem)."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        head = f"invalid configuration in {self.path}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class SchemaError(Exception):
    """The database is not at the schema this code expects (or cannot be reached)."""


class UsageFailure(Exception):
    """Bad input from the user (exit 2)."""


class WatchlistError(UsageFailure):
    """A watchlist change that cannot be made (unknown entity, a kind that would change)."""


class OutletError(UsageFailure):
    """An outlet change that cannot be made (unknown slug, articles that still need it)."""
