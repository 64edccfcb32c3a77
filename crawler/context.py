"""What a crawl process needs from mediawatch: the settings and one engine, created once."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from core.app import App

if TYPE_CHECKING:  # not imported at run time: python -m crawler reads the settings before
    from sqlalchemy import Engine  # anything heavy is imported (see crawler.__main__)

    from core.config import Settings


@lru_cache(maxsize=4)
def app_for(config: str | None) -> App:
    return App(config)


def settings_for(config: str | None) -> Settings:
    return app_for(config).settings


def engine_for(config: str | None) -> Engine:
    return app_for(config).ready_engine()
