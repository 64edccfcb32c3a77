"""Near-duplicate lookup through the persistent LSH band table vs a linear scan of every stored
signature (numpy, in memory — a generous baseline), at 10k and 100k stored articles; and store
throughput (one transaction per page) vs extraction alone, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from bench.dbs import bench_outlet, dialects
from core.config import CrawlConfig
from models import Article, LshBand, in_transaction, read_session
from pipeline.dedup import find_near_duplicate
from pipeline.extract import extract_page
from pipeline.fingerprint import NUM_PERM, Fingerprint, band_keys, similarity
from pipeline.store import FetchInfo, StoreResult, store_pages

THRESHOLD = 0.7
QUERIES = 200


def _signatures(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**63, size=(n, NUM_PERM), dtype=np.uint64)


def _near_copy(sig: np.ndarray, rng: random.Random, changed: float = 0.15) -> bytes:
    out = sig.copy()
    for i in rng.sample(range(NUM_PERM), int(NUM_PERM * changed)):
        out[i] = np.uint64(rng.getrandbits(63))
    return out.tobytes()


def _fill(engine: Engine, sigs: np.ndarray, start: int) -> None:
    def work(session: Any) -> None:
        arts, bands = [], []
        for i, sig in enumerate(sigs, start=start):
            raw = sig.tobytes()
            arts.append(
                {
                    "id": i,
                    "title": "",
                    "lead": "",
                    "text": "",
                    "language": "",
                    "is_opinion": False,
                    "opinion_reason": "",
                    "content_hash": f"h{i}",
                    "minhash": raw,
                    "word_count": 500,
                }
            )
            bands += [{"band": b, "key": k, "article_id": i} for b, k in band_keys(raw, THRESHOLD)]
        session.execute(insert(Article), arts)
        session.execute(insert(LshBand), bands)

    in_transaction(engine, work)


def lookup(make_db: Any, sizes: tuple[int, ...] = (10_000, 100_000)) -> list[dict[str, Any]]:
    rows = []
    with make_db() as engine:
        bench_outlet(engine)
        stored = np.zeros((0, NUM_PERM), dtype=np.uint64)
        for size in sizes:
            new = _signatures(size - len(stored), seed=size)
            for i in range(0, len(new), 5000):
                _fill(engine, new[i : i + 5000], start=len(stored) + i + 1)
            stored = np.vstack([stored, new])
            # A bulk load leaves the planner without statistics until autovacuum runs; a live
            # database has them, so measure with them.
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            rng = random.Random(size)
            picks = [rng.randrange(len(stored)) for _ in range(QUERIES)]
            queries = [_near_copy(stored[p], rng) for p in picks]
            lsh_ms, hits = [], 0
            with read_session(engine) as s:
                for q, p in zip(queries, picks, strict=True):
                    fp = Fingerprint(500, "x", q)
                    t0 = time.perf_counter()
                    got = find_near_duplicate(s, fp, THRESHOLD, outlet_id=1)
                    lsh_ms.append((time.perf_counter() - t0) * 1000)
                    hits += got == p + 1
            scan_ms = []
            for q in queries[:20]:
                qa = np.frombuffer(q, dtype=np.uint64)
                t0 = time.perf_counter()
                sims = (stored == qa).sum(axis=1) / NUM_PERM
                int(np.argmax(sims))
                scan_ms.append((time.perf_counter() - t0) * 1000)
            rows.append(
                {
                    "stored": size,
                    "lsh_median_ms": statistics.median(lsh_ms),
                    "lsh_p95_ms": sorted(lsh_ms)[int(len(lsh_ms) * 0.95)],
                    "scan_median_ms": statistics.median(scan_ms),
                    "recall": hits / QUERIES,
                }
            )
    return rows


def _synthetic_pages(n: int) -> list[tuple[str, str]]:
    from tests.store_worker import synthetic_page

    return [synthetic_page(i) for i in range(n)]


class RoundTrips:
    """Statements sent to the database, plus BEGIN and COMMIT of each transaction."""

    def __init__(self, engine: Engine) -> None:
        from sqlalchemy import event

        self.count = 0

        def statement(*_: Any) -> None:
            self.count += 1

        def transaction(*_: Any) -> None:
            self.count += 2  # BEGIN, COMMIT

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", transaction)


def store_throughput(make_db: Any, n: int = 300, batch: int = 1) -> dict[str, Any]:
    """Extraction alone, then the store of the same pages (``batch`` pages per transaction), on a
    fresh database; round trips counted per stored page. Then the same texts republished by a
    second outlet under its own URLs: every page a duplicate of a stored article, whose
    appearances, original and authors the store reads."""
    pages = _synthetic_pages(n)
    t0 = time.perf_counter()
    extracted = [(extract_page(html, url), url) for html, url in pages]
    extract_s = time.perf_counter() - t0
    copies = [
        (
            extract_page(html, url.replace("sample.test", "copy.test")),
            url.replace("sample.test", "copy.test"),
        )
        for html, url in pages
    ]

    def store_all(oid: int, items: list[tuple[Any, str]], status: str) -> float:
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            chunk = items[start : start + batch]
            results = store_pages(engine, oid, [(page, FetchInfo(url)) for page, url in chunk])
            assert all(r.status == status for r in results if isinstance(r, StoreResult))
        return time.perf_counter() - t0

    with make_db() as engine:
        oid = bench_outlet(engine)
        other = bench_outlet(engine, "copy", "http://copy.test/")
        trips = RoundTrips(engine)
        store_s = store_all(oid, extracted, "new")
        new_trips, trips.count = trips.count, 0
        dup_s = store_all(other, copies, "duplicate")
    return {
        "pages": n,
        "batch": batch,
        "extract_per_s": n / extract_s,
        "store_per_s": n / store_s,
        "ingest_per_s": n / (extract_s + store_s),
        "store_share": store_s / (extract_s + store_s),
        "trips": new_trips / n,
        "dup_per_s": n / dup_s,
        "dup_trips": trips.count / n,
    }


def run() -> dict[str, Any]:
    out: dict[str, Any] = {"lookup": {}, "store": {}}
    for name, make_db in dialects():
        out["lookup"][name] = lookup(make_db)
        out["store"][name] = [
            store_throughput(make_db, batch=1),
            store_throughput(make_db, batch=CrawlConfig().store_batch_pages),
        ]
    return out


def markdown(res: dict[str, Any]) -> str:
    lines = [
        f"Near-duplicate lookup ({QUERIES} queries, each a stored signature with 15% of its {NUM_PERM} "
        f"values changed; threshold {THRESHOLD}):",
        "",
        "| database | stored articles | LSH lookup median | LSH p95 | linear scan median (numpy, in memory) | speed-up | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in res["lookup"].items():
        for r in rows:
            lines.append(
                f"| {name} | {r['stored']:,} | {r['lsh_median_ms']:.2f} ms | {r['lsh_p95_ms']:.2f} ms | "
                f"{r['scan_median_ms']:.2f} ms | {r['scan_median_ms'] / r['lsh_median_ms']:.1f}× | {r['recall']:.2f} |"
            )
    lines += [
        "",
        "Store throughput (synthetic 250-word articles, one process; `batch`: pages per "
        "transaction, 1 as `store_page`, the crawl's default as its store pipeline). Round trips: "
        "statements sent plus BEGIN and COMMIT, per stored page (goal of issue 15: 3). "
        "Republished: the same texts then stored again from a second outlet's URLs, each page a "
        "duplicate of a stored article:",
        "",
        "| database | batch | extraction alone | store alone | ingest (extract + store) | store share of ingest | round trips per page | republished: store | republished: round trips per page |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in res["store"].items():
        for r in runs:
            lines.append(
                f"| {name} | {r['batch']} | {r['extract_per_s']:.0f} pages/s | "
                f"{r['store_per_s']:.0f} pages/s | {r['ingest_per_s']:.0f} pages/s | "
                f"{r['store_share']:.0%} | {r['trips']:.1f} | {r['dup_per_s']:.0f} pages/s | "
                f"{r['dup_trips']:.1f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))

__all__ = ["markdown", "run", "similarity"]
