"""What a crawl process needs from mediawatch: the settings and one engine, created once."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from core.app import App
from core.config import Settings


@lru_cache(maxsize=4)
def app_for(config: str | None) -> App:
    return App(config)


def settings_for(config: str | None) -> Settings:
    return app_for(config).settings


def engine_for(config: str | None) -> Engine:
    return app_for(config).ready_engine()
