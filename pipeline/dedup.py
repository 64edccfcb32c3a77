"""Duplicate detection, the stage between extraction and storage: is this URL known, and is
this text an article we have (exact: hash of normalised text; near: MinHash over word shingles).

The LSH index is persistent and shared: each article's signature is cut into bands (datasketch
picks bands × rows for the threshold), and every band's key is a row in ``lsh_bands``. A lookup
is one indexed query for the new page's band keys, then an exact signature comparison of the
few candidates — no in-memory index to rebuild, and every crawler process sees the same index.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, insert, select, union_all, update
from sqlalchemy.orm import Session, joinedload

from models import Appearance, Article, LshBand, StoreSetting, Url
from pipeline.fingerprint import (
    Fingerprint,
    band_keys,
    bands_made_with,
    signatures_made_with,
    similarity,
)

log = logging.getLogger(__name__)
C = TypeVar("C")  # a near-duplicate candidate: a stored article's id, or an article object
SAME_OUTLET_THRESHOLD = 0.9  # one outlet rarely republishes itself; its pages share templates
NEAR_CANDIDATES = 25  # candidates compared exactly, most shared bands first


# --- lookups in the shared store --------------------------------------------------------------
# The questions the crawl asks before storing pages, answered in one place for the spider, the
# store and the benchmarks.


def known_appearances(session: Session, urls: Iterable[str]) -> dict[str, Appearance]:
    """The stored appearance of each of these URL spellings that is known (as a URL variant or
    as an appearance's own URL), with its article loaded: one query."""
    wanted = sorted(set(urls))
    if not wanted:
        return {}
    found = union_all(
        select(Url.url.label("url"), Url.appearance_id.label("app_id")).where(Url.url.in_(wanted)),
        select(Appearance.url.label("url"), Appearance.id.label("app_id")).where(
            Appearance.url.in_(wanted)
        ),
    ).subquery()
    rows = session.execute(
        select(found.c.url, Appearance)
        .join(Appearance, Appearance.id == found.c.app_id)
        .options(joinedload(Appearance.article))
    ).all()
    return {url: app for url, app in rows}


@dataclass(frozen=True)
class KnownUrl:
    """What the crawler needs of a stored URL: when its article was published (or first seen),
    and the validators for a conditional GET."""

    seen: dt.datetime
    etag: str
    last_modified: str


def known_urls(engine: Engine, urls: list[str]) -> dict[str, KnownUrl]:
    """Which of these URL spellings were stored before: two queries for the whole list (the URL
    variants, then the appearances' own URLs for those not found among them)."""
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return {}
    fields = (
        Appearance.published_at,
        Appearance.first_seen,
        Appearance.etag,
        Appearance.last_modified,
    )
    found: dict[str, KnownUrl] = {}
    with Session(engine) as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = list(
                session.execute(
                    select(Url.url, *fields)
                    .join(Appearance, Appearance.id == Url.appearance_id)
                    .where(Url.url.in_(chunk))
                ).all()
            )
            missing = set(chunk) - {r[0] for r in rows}
            if missing:
                rows += session.execute(
                    select(Appearance.url, *fields).where(Appearance.url.in_(missing))
                ).all()
            for url, published, first_seen, etag, last_modified in rows:
                found[url] = KnownUrl(published or first_seen, etag or "", last_modified or "")
    return found


# --- the index itself: made one way for every process that shares it ----------------------------
SIGNATURES = "near_duplicate_signatures"
BANDS = "near_duplicate_bands"
REBUILD_CHUNK = 500  # articles read, recomputed and written at a time by a rebuild


def ensure_index(session: Session, threshold: float, shape: tuple[int, int] | None = None) -> None:
    """Make the stored near-duplicate index what this process computes, in the session's write
    transaction, before it looks anything up: an index made another way finds nothing and says
    nothing. Its signatures are recomputed from the articles' texts when they were made another
    way (another MinHash scheme: datasketch 2.0 changed its default; or made before the index
    recorded how, in `store_settings`); its band keys are cut again from the signatures when
    they were cut for another ``near_duplicate_threshold``. Once per change: the settings are
    then recorded. One query when nothing has changed. The caller serialises writers (the
    store's batch lock on PostgreSQL, BEGIN IMMEDIATE on SQLite). ``shape``: the (bands, rows)
    for ``threshold`` when known (see ``bands_made_with``)."""
    want = {SIGNATURES: signatures_made_with(), BANDS: bands_made_with(threshold, shape)}
    recorded = select(StoreSetting.name, StoreSetting.value).where(StoreSetting.name.in_(want))
    have = {name: value for name, value in session.execute(recorded)}
    if have == want:
        return
    t0 = time.perf_counter()
    resign = have.get(SIGNATURES) != want[SIGNATURES]
    rebuilt = _rebuild_index(session, threshold, resign)
    for name, value in want.items():
        session.merge(StoreSetting(name=name, value=value))
    session.flush()
    if rebuilt:
        log.warning(
            "near-duplicate index of %d articles rebuilt in %.1f s (%s): %s, %s (was %s, %s);"
            " every process sharing this database must use the same near_duplicate_threshold",
            rebuilt,
            time.perf_counter() - t0,
            "signatures recomputed" if resign else "band keys cut again",
            want[SIGNATURES],
            want[BANDS],
            have.get(SIGNATURES, "not recorded"),
            have.get(BANDS, "not recorded"),
        )


def _rebuild_index(session: Session, threshold: float, resign: bool) -> int:
    """Every signed article's band keys written again for ``threshold`` (``resign``: its
    signature recomputed from its text first); the number of articles."""
    ids = list(session.scalars(select(Article.id).where(Article.minhash.is_not(None))))
    session.execute(delete(LshBand))
    for start in range(0, len(ids), REBUILD_CHUNK):
        chunk = ids[start : start + REBUILD_CHUNK]
        if resign:
            texts = session.execute(select(Article.id, Article.text).where(Article.id.in_(chunk)))
            signatures = {i: Fingerprint.of(t).signature for i, t in texts}
            session.execute(
                update(Article), [{"id": i, "minhash": sig} for i, sig in signatures.items()]
            )
        else:
            signed = session.execute(
                select(Article.id, Article.minhash).where(Article.id.in_(chunk))
            )
            signatures = {i: sig for i, sig in signed}
        bands = [
            {"article_id": i, "band": band, "key": key}
            for i, sig in signatures.items()
            if sig is not None
            for band, key in band_keys(sig, threshold)
        ]
        if bands:
            session.execute(insert(LshBand), bands)
    return len(ids)


_BAND_SQL = (
    "SELECT b.article_id, b.band, b.key, a.minhash FROM lsh_bands b"
    " JOIN articles a ON a.id = b.article_id WHERE b.key "
)


def band_rows(session: Session, keys: list[int]) -> list[tuple[int, int, int, bytes | None]]:
    """The bands matching these keys, with their articles' signatures: one query straight on
    the DBAPI connection of the session's transaction (SQLAlchemy's statement handling cost
    twice the query itself on PostgreSQL: bench/RESULTS.md)."""
    conn = session.connection()
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        rows = raw.execute(_BAND_SQL + "= ANY(%s)", (keys,)).fetchall()
    else:
        marks = ",".join("?" * len(keys))
        rows = raw.execute(f"{_BAND_SQL}IN ({marks})", keys).fetchall()
    return [
        (int(a), int(b), int(k), bytes(sig) if sig is not None else None) for a, b, k, sig in rows
    ]


def rank_near(
    signature: bytes,
    keys: list[tuple[int, int]],
    bands: Mapping[tuple[int, int], Iterable[C]],
    signatures: Mapping[C, bytes],
    threshold: float,
) -> list[tuple[float, C]]:
    """The candidates at or above ``threshold``, most similar first: those sharing the most of
    the page's band ``keys`` (at most NEAR_CANDIDATES), compared signature to signature."""
    hits: dict[C, int] = {}
    for bk in keys:
        for cand in bands.get(bk, ()):
            hits[cand] = hits.get(cand, 0) + 1
    scored = []
    for cand in sorted(hits, key=lambda c: -hits[c])[:NEAR_CANDIDATES]:
        sim = similarity(signature, signatures[cand])
        if sim >= threshold:
            scored.append((sim, cand))
    return sorted(scored, key=lambda s: -s[0])


def first_near(
    ranked: list[tuple[float, C]], threshold: float, on_outlet: Callable[[C], bool]
) -> C | None:
    """The best candidate the page may join: a candidate the page's outlet already publishes
    must clear the stricter same-outlet bar (an outlet's pages share templates)."""
    for sim, cand in ranked:
        if sim >= max(threshold, SAME_OUTLET_THRESHOLD) or not on_outlet(cand):
            return cand
    return None


def find_near_duplicate(
    session: Session, fp: Fingerprint, threshold: float, outlet_id: int
) -> int | None:
    """The stored article most similar to ``fp`` above the threshold, via the LSH band table:
    one query for the page's band keys, then an exact signature comparison of the candidates."""
    if fp.signature is None:
        return None
    keys = band_keys(fp.signature, threshold)
    bands: dict[tuple[int, int], list[int]] = {}
    signatures: dict[int, bytes] = {}
    for art_id, band, key, sig in band_rows(session, [k for _, k in keys]):
        if sig is not None:
            bands.setdefault((band, key), []).append(art_id)
            signatures[art_id] = sig

    def on_outlet(art_id: int) -> bool:
        return (
            session.scalar(
                select(Appearance.id)
                .where(Appearance.article_id == art_id, Appearance.outlet_id == outlet_id)
                .limit(1)
            )
            is not None
        )

    return first_near(
        rank_near(fp.signature, keys, bands, signatures, threshold), threshold, on_outlet
    )
