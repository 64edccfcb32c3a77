"""Search latency at 100k synthetic articles on SQLite and PostgreSQL: a text query, an entity
filter, and both combined (median and p95 over repeated runs, with the CLI's default limit)."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from sqlalchemy import Engine, insert

from bench.dbs import dialects
from bench.synth import vocabulary
from core.search import Query, run_search
from models import Appearance, Article, Mention, Outlet, WatchAlias, WatchEntity, in_transaction

N = 100_000
RUNS = 40
TOPICS = [
    "harbour",
    "bridge",
    "ceasefire",
    "election",
    "drought",
    "pipeline",
    "refugees",
    "tariffs",
]


def populate(engine: Engine, n: int = N) -> None:
    rng = random.Random(5)
    vocab = vocabulary(size=4000)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def setup(s: Any) -> None:
        s.add_all(
            [
                Outlet(
                    id=i,
                    slug=f"o{i}",
                    name=f"Outlet {i}",
                    url=f"http://o{i}.example/",
                )
                for i in range(1, 21)
            ]
        )
        for i in range(1, 201):
            e = WatchEntity(
                id=i, name=f"Entity {i}", key=f"entity {i}", kind="actor" if i % 3 else "place"
            )
            e.aliases.append(WatchAlias(text=f"Entity {i}", key=f"entity {i}"))
            s.add(e)

    in_transaction(engine, setup)
    for start in range(0, n, 5000):
        arts, apps, ments = [], [], []
        for i in range(start + 1, min(n, start + 5000) + 1):
            words = [rng.choice(vocab) for _ in range(120)]
            words[rng.randrange(120)] = rng.choice(TOPICS)
            text = " ".join(words)
            arts.append(
                {
                    "id": i,
                    "title": " ".join(words[:8]),
                    "lead": "",
                    "text": text,
                    "language": "en",
                    "is_opinion": i % 4 == 0,
                    "opinion_reason": "",
                    "content_hash": f"h{i}",
                    "word_count": 120,
                    "published_at": base + dt.timedelta(minutes=5 * i),
                    "first_seen": base,
                    "last_seen": base,
                    "updated_at": base,
                    "flagged_at": base,
                    "original_appearance_id": None,
                }
            )
            apps.append(
                {
                    "id": i,
                    "article_id": i,
                    "outlet_id": rng.randint(1, 20),
                    "url": f"http://o.example/{i}",
                    "title": "",
                    "section": "",
                    "canonical_target": "",
                    "etag": "",
                    "last_modified": "",
                    "html_hash": "",
                    "content_hash": "",
                    "fetched_at": base,
                    "first_seen": base,
                    "last_seen": base,
                }
            )
            for e in rng.sample(range(1, 201), 3):
                ments.append(
                    {
                        "article_id": i,
                        "entity_id": e,
                        "count": 1,
                        "offsets": [],
                        "in_title": False,
                        "snippet": "",
                        "matched": "",
                        "matcher_version": "1",
                        "created_at": base,
                    }
                )

        def work(
            s: Any,
            arts: list[dict[str, Any]] = arts,
            apps: list[dict[str, Any]] = apps,
            ments: list[dict[str, Any]] = ments,
        ) -> None:
            s.execute(insert(Article), arts)
            s.execute(insert(Appearance), apps)
            s.execute(insert(Mention), ments)

        in_transaction(engine, work)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE articles SET original_appearance_id = id")
        conn.exec_driver_sql("ANALYZE")


def timed(engine: Engine, q: Query) -> dict[str, float]:
    ms = []
    run_search(engine, q)  # warm caches
    for _ in range(RUNS):
        t0 = time.perf_counter()
        run_search(engine, q)
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    return {"median": statistics.median(ms), "p95": ms[int(len(ms) * 0.95) - 1]}


QUERIES: dict[str, dict[str, Any]] = {
    "text": dict(text="ceasefire"),
    "entity": dict(actors=["Entity 7"]),
    "text + entity": dict(text="ceasefire", actors=["Entity 7"]),
    "text + entity + dates + opinion": dict(
        text="harbour", actors=["Entity 7"], since="2024-02-01", until="2024-12-31", opinion=True
    ),
}


def run() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, make_db in dialects():
        with make_db() as engine:
            t0 = time.perf_counter()
            populate(engine)
            load_s = time.perf_counter() - t0
            out[name] = {
                "load_s": load_s,
                **{label: timed(engine, Query.build(**kw)) for label, kw in QUERIES.items()},
            }
    return out


def markdown(res: dict[str, Any]) -> str:
    lines = [
        f"{N:,} synthetic articles (120 words each, 3 mentions each among 200 entities, 20 outlets), "
        f"{RUNS} runs per query, limit 50, result rows fully built (authors, entities, appearances):",
        "",
        "| database | query | median | p95 |",
        "|---|---|---:|---:|",
    ]
    for db_name, r in res.items():
        for label in QUERIES:
            lines.append(
                f"| {db_name} | {label} | {r[label]['median']:.1f} ms | {r[label]['p95']:.1f} ms |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
