"""Files that the processes of one machine keep between runs, to skip work they would otherwise
redo every time: the compiled watchlist (core.matchercache) and the language model ready to use
(pipeline.language). They live in one folder: ``$MEDIAWATCH_CACHE_DIR``, else
``$XDG_CACHE_HOME/mediawatch``, else ``~/.cache/mediawatch``.

Each file is a pickle written atomically (a temporary file renamed over the name), so a reader
sees a whole file or none, and processes that write the same file at once do no harm. A missing,
torn or foreign file, or a folder that cannot be written, only means the work is done again.
Only mediawatch writes this folder, which is the user's own (created private).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_folder() -> Path:
    explicit = os.environ.get("MEDIAWATCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mediawatch"


def load_pickle(path: Path, kind: type[T]) -> T | None:
    """The object pickled at ``path`` if it is a ``kind``; None if there is none (or another
    thing, or a file that cannot be read, which is logged)."""
    try:
        with path.open("rb") as f:
            found = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a torn or foreign file: the caller builds the thing again
        log.warning("cache file unreadable", extra={"path": str(path), "error": repr(exc)})
        return None
    return found if isinstance(found, kind) else None


def save_pickle(path: Path, obj: object, *, keep: int = 1) -> None:
    """Write ``obj`` to ``path`` atomically, then delete the oldest files of the same kind (the
    same name up to its first ``-``) beyond the newest ``keep``."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:  # a read-only home, a full disk: the work is done again next time
        log.warning("cache file not written", extra={"path": str(path), "error": repr(exc)})
        return
    kind = path.name.split("-", 1)[0]
    for stale in sorted(folder.glob(f"{kind}-*{path.suffix}"), key=_age)[keep:]:
        with contextlib.suppress(OSError):  # another process may have deleted it first
            stale.unlink()


def _age(path: Path) -> float:
    """Newest first; a file deleted meanwhile by another process counts as the oldest."""
    try:
        return -path.stat().st_mtime
    except OSError:
        return 0.0
