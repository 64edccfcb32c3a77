"""Throwaway databases for benchmarks: a SQLite file and (when reachable) a PostgreSQL database."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from core import db
from models import make_engine

PG_ADMIN = os.environ.get("MEDIAWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except Exception:
        return False


@contextmanager
def sqlite_db() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as d:
        engine = make_engine(f"sqlite:///{Path(d) / 'bench.db'}")
        db.upgrade(engine)
        yield engine
        engine.dispose()


@contextmanager
def postgres_db() -> Iterator[Engine]:
    import psycopg

    name = f"mw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(f"{base}/{name}")
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


DbFactory = Callable[[], AbstractContextManager[Engine]]


def dialects() -> list[tuple[str, DbFactory]]:
    out: list[tuple[str, DbFactory]] = [("SQLite", sqlite_db)]
    if pg_available():
        out.append(("PostgreSQL", postgres_db))
    return out


def bench_outlet(engine: Engine, slug: str = "b", url: str = "http://sample.test/") -> int:
    """An outlet row for benchmark pages; its id."""
    from sqlalchemy import select

    from models import Outlet, in_transaction

    def work(session: Any) -> int:
        session.add(
            Outlet(
                slug=slug,
                name=slug.title(),
                url=url,
            )
        )
        session.flush()
        return int(session.scalars(select(Outlet.id).where(Outlet.slug == slug)).one())

    return in_transaction(engine, work)
