"""What autogenerate and `db check` ignore: objects the migrations create by hand."""

from __future__ import annotations

from typing import Any

# SQLite FTS5 tables (and their shadow tables) and the analysts' views cannot be modelled.
UNMODELLED_PREFIXES = ("articles_fts", "v_")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (reflected and name and name.startswith(UNMODELLED_PREFIXES))
