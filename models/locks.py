"""Named leases in the database: one scheduler per database, one digest run per subscriber."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.engine import in_transaction, insert_ignore
from models.tables import Lock


def acquire(engine: Engine, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Take (or renew) the lease ``name``; False if someone else holds an unexpired one."""

    def work(session: Session) -> bool:
        now = utcnow()
        insert_ignore(
            session, Lock, {"name": name, "holder": holder, "expires_at": now + ttl}, ["name"]
        )
        session.execute(
            update(Lock)
            .where(Lock.name == name, (Lock.holder == holder) | (Lock.expires_at < now))
            .values(holder=holder, expires_at=now + ttl)
        )
        return session.scalar(select(Lock.holder).where(Lock.name == name)) == holder

    return in_transaction(engine, work, what=f"lock {name}")


def release(engine: Engine, name: str, holder: str) -> None:
    in_transaction(
        engine,
        lambda s: s.execute(delete(Lock).where(Lock.name == name, Lock.holder == holder)),
        what=f"unlock {name}",
    )


def holder_of(engine: Engine, name: str) -> tuple[str, dt.datetime] | None:
    with Session(engine) as s:
        row = s.execute(select(Lock.holder, Lock.expires_at).where(Lock.name == name)).first()
        return (row[0], row[1]) if row and row[1] > utcnow() else None


def run_holder() -> str:
    """A holder name for one run of a job: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def leased(engine: Engine, name: str, ttl: dt.timedelta, holder: str) -> Iterator[bool]:
    """Hold the lease ``name`` for the block (True), or say it is someone else's (False);
    released on the way out when it was taken."""
    if not acquire(engine, name, holder, ttl):
        yield False
        return
    try:
        yield True
    finally:
        release(engine, name, holder)
