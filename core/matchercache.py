"""The compiled watchlist, kept between runs: flagging a few new articles should not cost a
rebuild of a 10,000-alias automaton (nor loading every alias) when the watchlist has not changed.

The key is a fingerprint of the watchlist as the database has it (entity and alias counts, the
newest entity change, the matcher version); every change made through mediawatch (config sync,
`watch add|enable|disable|remove`, CSV import) moves it. The file is a pickle of
:class:`pipeline.flag.Matcher`, written atomically into a cache folder that all processes of the
machine share: ``$MEDIAWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/mediawatch``, else
``~/.cache/mediawatch``. A missing, stale or unreadable file only means a rebuild.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import WatchAlias, WatchEntity
from pipeline.flag import MATCHER_VERSION, Matcher

log = logging.getLogger(__name__)
KEEP = 4  # the newest files kept; older fingerprints are deleted


def default_folder() -> Path:
    explicit = os.environ.get("MEDIAWATCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mediawatch"


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
        self.folder = folder or default_folder()

    def _path(self, fingerprint: str) -> Path:
        return self.folder / f"matcher-{MATCHER_VERSION}-{fingerprint}.pickle"

    def load(self, fingerprint: str) -> Matcher | None:
        path = self._path(fingerprint)
        try:
            with path.open("rb") as f:
                matcher = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a torn or foreign file: rebuild
            log.warning(
                "matcher cache unreadable, rebuilding",
                extra={"path": str(path), "error": repr(exc)},
            )
            return None
        return matcher if isinstance(matcher, Matcher) else None

    def save(self, fingerprint: str, matcher: Matcher) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".matcher-", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(matcher, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(fingerprint))
            old = sorted(self.folder.glob("matcher-*.pickle"), key=lambda p: p.stat().st_mtime)
            for stale in old[:-KEEP]:
                stale.unlink(missing_ok=True)
        except OSError as exc:  # a read-only home, a full disk: flagging goes on uncached
            log.warning(
                "matcher cache not written", extra={"folder": str(self.folder), "error": repr(exc)}
            )
