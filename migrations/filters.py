"""What autogenerate and `db check` ignore: objects the migrations create by hand."""

from __future__ import annotations

from typing import Any

# SQLite FTS5 tables (and their shadow tables), the analysts' views and the task engine's tables
# (Procrastinate's own schema, migrations.taskengine) are not modelled.
UNMODELLED_PREFIXES = ("articles_fts", "v_", "procrastinate_", "task_engine_schema")
# PostgreSQL's generated tsvector column (migration 0002), read only by search.
UNMODELLED_COLUMNS = ("search_vector",)
# Expression indexes (migration 0002) the models cannot declare portably.
UNMODELLED_INDEXES = ("ix_articles_when",)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if reflected and (
        (type_ == "column" and name in UNMODELLED_COLUMNS)
        or (type_ == "index" and name in UNMODELLED_INDEXES)
    ):
        return False
    return not (reflected and name and name.startswith(UNMODELLED_PREFIXES))
