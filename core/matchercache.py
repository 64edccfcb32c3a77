"""The compiled watchlist, kept between runs: flagging a few new articles should not cost a
rebuild of a 10,000-alias automaton (nor loading every alias) when the watchlist has not changed.

The key is a fingerprint of the watchlist as the database has it (entity and alias counts, the
newest entity change, the matcher version); every change made through mediawatch (config sync,
`watch add|enable|disable|remove`, CSV import) moves it. The file is a pickle of
:class:`pipeline.flag.Matcher` in the cache folder that all processes of the machine share
(pipeline.cachefiles). A missing, stale or unreadable file only means a rebuild.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import WatchAlias, WatchEntity
from pipeline.cachefiles import cache_folder, load_pickle, save_pickle
from pipeline.flag import MATCHER_VERSION, Matcher

KEEP = 4  # the newest files kept; older fingerprints are deleted


def watchlist_fingerprint(session: Session) -> str:
    entities = session.execute(
        select(
            func.count(),
            func.max(WatchEntity.updated_at),
            func.sum(func.length(WatchEntity.name)),
        ).where(WatchEntity.enabled)
    ).one()
    aliases = session.execute(
        select(func.count(), func.max(WatchAlias.id), func.sum(func.length(WatchAlias.text)))
        .join(WatchEntity, WatchEntity.id == WatchAlias.entity_id)
        .where(WatchEntity.enabled)
    ).one()
    raw = f"{MATCHER_VERSION}|{tuple(entities)}|{tuple(aliases)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class MatcherCache:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or cache_folder()

    def _path(self, fingerprint: str) -> Path:
        return self.folder / f"matcher-{MATCHER_VERSION}-{fingerprint}.pickle"

    def load(self, fingerprint: str) -> Matcher | None:
        return load_pickle(self._path(fingerprint), Matcher)

    def save(self, fingerprint: str, matcher: Matcher) -> None:
        save_pickle(self._path(fingerprint), matcher, keep=KEEP)
