"""Migrations, models and config sync on both dialects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, text

from core import db
from core.configfile import load_settings
from core.sync import sync_config
from models import (
    Article,
    Outlet,
    Subscriber,
    WatchEntity,
    in_transaction,
    make_engine,
    read_session,
)
from tests.conftest import write_config


def test_migrations_have_exactly_one_head_and_the_cli_knows_it() -> None:
    import migrations

    assert db.head_revisions() == [migrations.HEAD]


def test_upgrade_downgrade_upgrade_and_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    assert db.current_revision(engine) in db.head_revisions()
    assert db.drift(engine) == []
    names = set(inspect(engine).get_view_names())
    assert {"v_articles", "v_appearances", "v_mentions"} <= names
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None
    assert "articles" not in inspect(engine).get_table_names()
    db.upgrade(engine)
    assert db.drift(engine) == []
    engine.dispose()


def test_datetimes_come_back_timezone_aware_utc(engine: Engine) -> None:
    when = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    in_transaction(engine, lambda s: s.add(Article(title="t", content_hash="h", published_at=when)))
    with read_session(engine) as s:
        got = s.scalar(select(Article.published_at))
    assert got == when and got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        in_transaction(
            engine,
            lambda s: s.add(
                Article(title="t", content_hash="h", published_at=dt.datetime(2024, 1, 1))
            ),
        )


def test_sqlite_is_set_up_for_a_background_service(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_config_sync_is_idempotent_and_disables_what_was_removed(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", db_url)
    settings = load_settings(cfg)
    first = sync_config(engine, settings)
    assert first.counts["outlets added"] == 6 and first.counts["watch entities added"] == 11
    assert sync_config(engine, settings).changed == 0
    # Drop one outlet, one entity and one subscriber from the config.
    trimmed = settings.model_copy(
        update={
            "outlets": [o for o in settings.outlets if o.slug != "broken"],
            "watch": [w for w in settings.watch if w.name != "Raqqa"],
            "subscribers": settings.subscribers[:1],
        }
    )
    report = sync_config(engine, trimmed)
    assert report.counts == {
        "outlets disabled": 1,
        "watch entities disabled": 1,
        "subscribers disabled": 1,
    }
    with read_session(engine) as s:
        assert s.scalar(select(Outlet.enabled).where(Outlet.slug == "broken")) is False
        assert s.scalar(select(WatchEntity.enabled).where(WatchEntity.name == "Raqqa")) is False
        assert (
            s.scalar(
                select(Subscriber.enabled).where(Subscriber.email == "opinion-desk@example.org")
            )
            is False
        )
        assert s.scalar(select(text("count(*)")).select_from(Outlet)) == 6  # nothing deleted
