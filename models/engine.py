"""Engine and session factory; SQLite is set up for a background service with several writers."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(
    url: str, *, busy_timeout: float = 30.0, echo: bool = False, read_only: bool = False
) -> Engine:
    """Create an engine. SQLite gets WAL, foreign keys, a busy timeout and real transactions.

    ``read_only``: every connection refuses writes (SQLite ``PRAGMA query_only``, PostgreSQL
    ``default_transaction_read_only``) — for the web view, on top of a read-only role."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": busy_timeout, "check_same_thread": False}
        )
        _setup_sqlite(engine, busy_timeout, read_only=read_only)
        return engine
    # psycopg prepares a statement server-side after 5 runs, and PostgreSQL may then plan it
    # generically, blind to the values: full-text and date filters get far worse plans.
    # Parallel workers do not pay for our short LIMITed queries: a parallel index scan walked 20x
    # the rows of the serial plan for a "newest mentions of X" search (bench/NOTES.md).
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        connect_args={
            "prepare_threshold": None,
            "options": "-c max_parallel_workers_per_gather=0"
            + (" -c default_transaction_read_only=on" if read_only else ""),
        },
    )


def _setup_sqlite(engine: Engine, busy_timeout: float, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction starts (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that later wants to write
        # can fail with SQLITE_BUSY without waiting, the busy timeout only helps at BEGIN.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The engine to use for a write transaction (BEGIN IMMEDIATE on SQLite)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent writer won a unique constraint: re-run and see its row
    msg = str(exc).lower()
    return isinstance(exc, OperationalError) and (
        "locked" in msg or "busy" in msg or "deadlock" in msg or "could not serialize" in msg
    )


def in_transaction(
    engine: Engine, work: Callable[[Session], T], *, attempts: int = 6, what: str = "write"
) -> T:
    """Run ``work`` in one write transaction; retry it whole when the database was busy or a
    concurrent writer won a race (unique constraint). Nothing is half-written."""
    maker = session_factory(writer(engine))
    for attempt in range(1, attempts + 1):
        session = maker()
        try:
            result = work(session)
            session.commit()
            return result
        except (OperationalError, IntegrityError) as exc:
            session.rollback()
            if attempt == attempts or not _retryable(exc):
                raise
            delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.warning("%s: retry %d after %s", what, attempt, type(exc).__name__)
            time.sleep(delay)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise AssertionError("unreachable")


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def latest_rows(session: Session, model: Any, key: Any) -> dict[Any, Any]:
    """The newest row (highest id) of ``model`` for each value of the column ``key``."""
    from sqlalchemy import func, select

    latest = select(key, func.max(model.id).label("id")).group_by(key).subquery()
    rows = session.scalars(select(model).join(latest, model.id == latest.c.id))
    return {getattr(row, key.key): row for row in rows}


def insert_ignore(
    session: Session,
    model: Any,
    values: dict[str, Any] | list[dict[str, Any]],
    conflict: list[str],
) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either dialect: races are decided by the constraint.
    ``values``: one row, or a list of rows sent as one multi-row statement."""
    ins: Any
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        ins = postgresql.insert(model)
    else:
        from sqlalchemy.dialects import sqlite

        ins = sqlite.insert(model)
    if isinstance(values, list):
        session.execute(ins.on_conflict_do_nothing(index_elements=conflict), values)
    else:
        session.execute(ins.values(**values).on_conflict_do_nothing(index_elements=conflict))
