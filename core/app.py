"""The application object the CLI and the scheduler share: settings, engine, schema checks.

Cheap to create: the settings, the engine and the schema check are built on first use, so a
command that needs none of them (``--help``, ``extract``) imports neither pydantic, SQLAlchemy
nor Alembic.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import SchemaError
from core.paths import config_path_from

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.config import Settings

__all__ = ["App", "SchemaError"]


def database_entity_keys(settings: Settings, keys: set[str]) -> set[str]:
    """Which of these folded names the database's watchlist has (entities added with `watch add`
    or a CSV import may be named by subscribers). A database that cannot be read yet (not
    created, not migrated) answers "all of them": `outlets sync` checks again."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from models import WatchEntity, make_engine, read_session

    engine = make_engine(settings.database_url)
    try:
        with read_session(engine) as s:
            return set(s.scalars(select(WatchEntity.key).where(WatchEntity.key.in_(keys))))
    except SQLAlchemyError:
        return set(keys)
    finally:
        engine.dispose()


class App:
    def __init__(
        self, config: str | Path | None = None, *, settings: Settings | None = None
    ) -> None:
        self.config_path = config_path_from(config)
        if settings is not None:
            self.__dict__["settings"] = settings

    @cached_property
    def settings(self) -> Settings:
        from core.configfile import load_settings

        return load_settings(self.config_path, known_entities=database_entity_keys)

    @cached_property
    def engine(self) -> Engine:
        from models import make_engine

        return make_engine(
            self.settings.database_url, busy_timeout=self.settings.database.busy_timeout_seconds
        )

    def ready_engine(self) -> Engine:
        """The engine, after checking the database is reachable and migrated to head."""
        from core import schema

        schema.require_head(self.engine)
        return self.engine
