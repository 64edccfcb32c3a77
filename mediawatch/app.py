"""The application object the CLI and the scheduler share: settings, engine, schema checks."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from mediawatch import db
from mediawatch.config import Settings, config_path_from, load_settings
from models import make_engine


class SchemaError(Exception):
    """The database is not at the schema this code expects."""


class App:
    def __init__(
        self, config: str | Path | None = None, *, settings: Settings | None = None
    ) -> None:
        self.config_path = config_path_from(config)
        if settings is not None:
            self.__dict__["settings"] = settings

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(
            self.settings.database_url, busy_timeout=self.settings.database.busy_timeout_seconds
        )

    def ready_engine(self) -> Engine:
        """The engine, after checking the database is migrated to head."""
        current = db.current_revision(self.engine)
        heads = db.head_revisions()
        if current not in heads:
            where = current or "an empty database"
            raise SchemaError(
                f"the database ({self.engine.url.render_as_string(hide_password=True)}) is at "
                f"{where}, this version needs {', '.join(heads)}: run `mediawatch db upgrade` "
                "(or `mediawatch init`)"
            )
        return self.engine
