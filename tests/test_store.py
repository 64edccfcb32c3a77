"""Deduplicated storage on both dialects: one article however many URLs and outlets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from crawler.extraction_pool import ExtractionPool
from models import Appearance, Article, LshBand, Url, read_session
from pipeline.extract import Extracted, FeedHints, OutletRules, extract_page
from pipeline.fingerprint import (
    BOILERPLATE_RE,
    Fingerprint,
    band_keys,
    boilerplate_fold,
    is_boilerplate,
)
from pipeline.store import FetchInfo, StoreResult, store_page, store_pages
from tests.conftest import ROOT, sample_page
from tests.store_worker import outlet_ids

OPED_AMP = "meridian/opinion/2024/03/04/the-road-back-to-geneva/amp/index.html"
OPED_REPOST = "observatory/p/101.html"
TRACKING = "&utm_source=rss&utm_medium=rss&utm_campaign=feed"
# The first values of the signature of "w0 w1 … w99" (datasketch 2.0, scheme affine32, seed 1).
EXPECTED_FIRST_VALUES = [136310253, 46994906, 49122455, 85650024]


def store(
    engine: Engine, outlet: int, rel: str, *, url_suffix: str = "", body: bytes | None = None
) -> str:
    raw, url = sample_page(rel)
    page = extract_page(body or raw, url + url_suffix)
    return store_page(engine, outlet, page, FetchInfo(url + url_suffix)).status


def count(engine: Engine, model: type) -> int:
    with read_session(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("repost_first", [False, True])
def test_republished_oped_is_one_article_with_two_appearances_and_the_right_original(
    engine: Engine, repost_first: bool
) -> None:
    ids = outlet_ids(engine)
    steps = [("meridian", OPED_AMP, ""), ("observatory", OPED_REPOST, TRACKING)]
    if repost_first:
        steps.reverse()
    statuses = [store(engine, ids[o], rel, url_suffix=sfx) for o, rel, sfx in steps]
    assert statuses == ["new", "duplicate"]
    assert count(engine, Article) == 1 and count(engine, Appearance) == 2
    with read_session(engine) as s:
        art = s.scalars(select(Article)).one()
        original = s.get(Appearance, art.original_appearance_id)
        assert (
            original is not None and original.outlet_id == ids["meridian"]
        )  # the earliest published
        assert (
            original.url
            == "http://sample.test/meridian/opinion/2024/03/04/the-road-back-to-geneva/"
        )  # AMP → canonical
        urls = set(s.scalars(select(Url.url)))
    assert "http://sample.test/meridian/opinion/2024/03/04/the-road-back-to-geneva/amp/" in urls
    assert "http://sample.test/observatory/?p=101" in urls
    assert any(
        "utm_source=rss" in u for u in urls
    )  # the spelling met in the feed is kept as provenance
    # Any known spelling is recognised again: unchanged, no new rows.
    assert store(engine, ids["observatory"], OPED_REPOST) == "unchanged"
    assert store(engine, ids["meridian"], OPED_AMP) == "unchanged"
    assert count(engine, Appearance) == 2


def test_articles_sharing_a_long_footer_stay_two_articles(engine: Engine) -> None:
    ids = outlet_ids(engine)
    assert store(engine, ids["observatory"], "observatory/p/102.html") == "new"
    assert store(engine, ids["observatory"], "observatory/p/103.html") == "new"
    assert count(engine, Article) == 2


def test_an_updated_article_is_updated_in_place_and_keeps_first_seen(engine: Engine) -> None:
    ids = outlet_ids(engine)
    rel = "observatory/p/102.html"
    raw, _ = sample_page(rel)
    assert store(engine, ids["observatory"], rel) == "new"
    with read_session(engine) as s:
        before = s.scalars(select(Article)).one()
    changed = raw.replace(b"three summers running", b"four summers running").replace(
        b'"dateModified": "2024-03-05T09:00:00+02:00"',
        b'"dateModified": "2024-03-07T09:00:00+02:00"',
    )
    assert store(engine, ids["observatory"], rel, body=changed) == "updated"
    assert store(engine, ids["observatory"], rel, body=changed) == "unchanged"
    with read_session(engine) as s:
        after = s.scalars(select(Article)).one()
    assert after.id == before.id and after.first_seen == before.first_seen
    assert "four summers running" in after.text and after.flagged_at is None
    assert count(engine, Article) == 1
    # The near-duplicate index has the new text's bands, and none of the old text's.
    assert after.minhash is not None and after.minhash != before.minhash
    with read_session(engine) as s:
        bands = {(b, k) for b, k in s.execute(select(LshBand.band, LshBand.key))}
    assert bands == set(band_keys(after.minhash, 0.7))


def _republished(engine: Engine) -> tuple[dict[str, int], Extracted, Extracted]:
    """The meridian op-ed, and the same text under another outlet's URL with a closing line
    added: a near duplicate (no shared URL, no canonical link, another content hash)."""
    raw, url = sample_page(OPED_AMP)
    first = extract_page(raw, url)
    repost = "http://sample.test/observatory/?p=555"
    second = dataclasses.replace(
        first,
        url=repost,
        canonical_url=repost,
        url_variants=[],
        canonical_target="",
        text=first.text + "\nThe observatory thanks the author for permission to repost this.",
    )
    return outlet_ids(engine), first, second


def test_a_near_duplicate_is_found_after_the_threshold_is_changed(engine: Engine) -> None:
    """The index is cut into bands for the threshold: a store with another threshold cuts the
    stored articles' band keys again (it would find none of them otherwise)."""
    ids, first, second = _republished(engine)
    assert store_page(engine, ids["meridian"], first, FetchInfo(first.url)).status == "new"
    result = store_page(engine, ids["observatory"], second, FetchInfo(second.url), threshold=0.8)
    assert result.status == "duplicate" and count(engine, Article) == 1
    with read_session(engine) as s:
        art = s.scalars(select(Article)).one()
        bands = {(b, k) for b, k in s.execute(select(LshBand.band, LshBand.key))}
    assert art.minhash is not None and bands == set(band_keys(art.minhash, 0.8))


def test_signatures_made_another_way_are_recomputed_before_the_first_lookup(
    engine: Engine,
) -> None:
    """A database whose signatures came from datasketch's pre-2.0 default scheme ("legacy"),
    stored before the index recorded how it was made: its first store recomputes them from the
    articles' texts, and finds the near duplicate."""
    from datasketch import MinHash
    from sqlalchemy import delete, insert, update

    from models import StoreSetting
    from pipeline.fingerprint import NUM_PERM, normalized_words, shingles, signature_bytes

    ids, first, second = _republished(engine)
    assert store_page(engine, ids["meridian"], first, FetchInfo(first.url)).status == "new"
    legacy = MinHash(num_perm=NUM_PERM, seed=1, scheme="legacy")
    legacy.update_batch(list(shingles(normalized_words(first.text))))
    old = signature_bytes(legacy)
    with engine.begin() as conn:
        conn.execute(delete(StoreSetting))
        conn.execute(delete(LshBand))
        conn.execute(update(Article).values(minhash=old))
        (art_id,) = conn.execute(select(Article.id)).scalars()
        rows = [{"article_id": art_id, "band": b, "key": k} for b, k in band_keys(old, 0.7)]
        conn.execute(insert(LshBand), rows)
    result = store_page(engine, ids["observatory"], second, FetchInfo(second.url))
    assert result.status == "duplicate" and count(engine, Article) == 1
    with read_session(engine) as s:
        art = s.scalars(select(Article)).one()
        rows = s.execute(select(StoreSetting.name, StoreSetting.value))
        settings = {name: value for name, value in rows}
    assert art.minhash == Fingerprint.of(first.text).signature != old
    assert "scheme affine32" in settings["near_duplicate_signatures"]
    assert settings["near_duplicate_bands"] == "14 bands of 9 rows"


def test_storing_pages_fingerprinted_elsewhere_does_not_load_datasketch(tmp_path: Path) -> None:
    """The crawl process stores pages whose fingerprints its extraction workers made: checking
    the index against them must not import datasketch there (NumPy and SciPy with it, ~0.7 s of
    CPU and 70 MB in a process that otherwise never needs them)."""
    code = f"""
import sys
from models import make_engine
from core import db
from pipeline.extract import Extracted
from pipeline.fingerprint import Fingerprint
from pipeline.store import FetchInfo, store_pages
from tests.store_worker import outlet_ids
engine = make_engine("sqlite:///{tmp_path / "db.sqlite"}")
db.upgrade(engine)
url = "http://sample.test/meridian/2024/03/05/a/"
page = Extracted(url=url, canonical_url=url, title="A", text="words " * 200)
fp = Fingerprint(200, "h" * 64, bytes(1024), ((0, 1),), 0.7, (14, 9))
print(store_pages(engine, outlet_ids(engine)["meridian"], [(page, FetchInfo(url))],
                  fingerprints=[fp])[0].status)
print("datasketch" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["new", "False"]


def test_signatures_do_not_depend_on_the_datasketch_default() -> None:
    """The scheme is named, not datasketch's default (which changed in 2.0): these values were
    made with it, and an install that makes others would miss every stored near duplicate."""
    words = [f"w{i}" for i in range(100)]
    values = Fingerprint.of(" ".join(words)).signature
    assert values is not None
    assert list(memoryview(values).cast("Q")[:4]) == EXPECTED_FIRST_VALUES


def _workers(db_url: str, mode: list[str], n: int = 2) -> list[subprocess.Popen[str]]:
    start_at = time.time() + 4.0  # both processes past imports and extraction, then store at once
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store_worker", db_url, str(start_at), *mode],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


@pytest.mark.slow
def test_two_processes_storing_the_same_articles_at_once_make_one_of_each(
    db_url: str, engine: Engine
) -> None:
    procs = _workers(db_url, ["sample"])
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    statuses = sorted(line for out, _ in outs for line in out.split())
    # 6 pages, the op-ed twice (two outlets): 5 articles, 6 appearances, whichever process won.
    assert count(engine, Article) == 5
    assert count(engine, Appearance) == 6
    assert (
        statuses.count("new") == 5
        and statuses.count("duplicate") == 1
        and statuses.count("unchanged") == 6
    )


@pytest.mark.slow
def test_a_crawl_killed_mid_store_and_rerun_leaves_no_duplicates_or_half_articles(
    db_url: str, engine: Engine
) -> None:
    (victim,) = _workers(db_url, ["synthetic", "150"], n=1)
    assert victim.stdout is not None
    for _ in range(30):  # let it store a few pages, then kill it without warning
        line = victim.stdout.readline()
        if not line:
            break
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    stored_before = count(engine, Article)
    assert 0 < stored_before < 150
    (rerun,) = _workers(db_url, ["synthetic", "150"], n=1)
    out, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err[-2000:]
    assert count(engine, Article) == 150 and count(engine, Appearance) == 150
    with read_session(engine) as s:
        orphans = s.scalar(
            select(func.count()).select_from(Article).where(~Article.appearances.any())
        )
        assert orphans == 0
    assert out.split().count("unchanged") == stored_before


def _items(*rels: str) -> list[tuple[Extracted, FetchInfo]]:
    out = []
    for rel in rels:
        raw, url = sample_page(rel)
        out.append((extract_page(raw, url), FetchInfo(url)))
    return out


def test_a_batch_holding_two_spellings_of_one_page_stores_it_once(engine: Engine) -> None:
    """The crawl stores pages in batches; a page met twice in one batch (its canonical and its
    AMP URL) is one appearance, with both spellings recorded."""
    ids = outlet_ids(engine)
    amp, canonical = _items(OPED_AMP, OPED_AMP.replace("amp/", ""))
    results = store_pages(engine, ids["meridian"], [amp, canonical])
    assert [r.status for r in results if isinstance(r, StoreResult)] == ["new", "unchanged"]
    assert count(engine, Article) == 1 and count(engine, Appearance) == 1
    with read_session(engine) as s:
        art = s.scalars(select(Article)).one()
        assert art.original_appearance_id == results[0].appearance_id  # type: ignore[union-attr]
        assert {u.kind for u in s.scalars(select(Url))} >= {"canonical", "amp"}


def test_a_page_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(
    engine: Engine,
) -> None:
    ids = outlet_ids(engine)
    items = _items("observatory/p/102.html", "observatory/p/103.html", "observatory/p/104.html")
    bad = dataclasses.replace(items[1][0], title={"not": "text"})  # no driver can bind this
    results = store_pages(engine, ids["observatory"], [items[0], (bad, items[1][1]), items[2]])
    assert isinstance(results[1], Exception)
    assert [r.status for r in results if isinstance(r, StoreResult)] == ["new", "new"]
    assert count(engine, Article) == 2 and count(engine, Appearance) == 2


def test_a_fingerprint_computed_in_a_worker_is_the_one_the_store_would_compute() -> None:
    """The crawl computes each page's fingerprint, band keys included, in its extraction worker;
    the store uses them as given, and computes band keys anew for another threshold."""
    body, url = sample_page(OPED_AMP)
    pool = ExtractionPool(1, timeout=30)
    try:
        page, fp = pool.run_named(
            "crawler.extraction_worker:extract_with_fingerprint",
            body,
            url,
            outlet=OutletRules(),
            hints=FeedHints(),
            fetched_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
            content_type=None,
            threshold=0.7,
        )
    finally:
        pool.close()
    here = Fingerprint.of(extract_page(body, url).text, 0.7)
    assert page.is_article and fp == here and fp.signature is not None and fp.bands
    assert fp.band_keys(0.7) == band_keys(fp.signature, 0.7)
    assert fp.band_keys(0.5) == band_keys(fp.signature, 0.5) != fp.band_keys(0.7)


def test_the_boilerplate_shortcut_lets_every_boilerplate_line_through() -> None:
    """is_boilerplate searches the case-folded line with a case-sensitive copy of BOILERPLATE_RE
    before the slow case-insensitive pattern: every character the latter matches with one of its
    letters must fold to that letter, or a boilerplate line would count in the fingerprint."""
    letters = {c for c in BOILERPLATE_RE.pattern if c.isalpha()}
    assert all(boilerplate_fold(c) == c for c in letters)
    near = letters | {c.upper() for c in letters}
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if not {ch.lower()[:1], ch.upper()[:1], ch.casefold()[:1]} & near:
            continue  # no case relation to any letter of the pattern
        for letter in letters:
            if re.fullmatch(re.escape(letter), ch, re.IGNORECASE):
                assert boilerplate_fold(ch) == letter, (letter, ch)
    for line in ("ORİGİNALLY PUBLISHED by the Observer", "orıginally published", "ſubscribe now"):
        assert BOILERPLATE_RE.search(line) and is_boilerplate(line), line
    assert not is_boilerplate("The talks resumed in Geneva on Tuesday.")
