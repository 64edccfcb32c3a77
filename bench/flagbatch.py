"""Scheduled flagging of a small batch: 200 new articles against a 100- and a 10,000-alias
watchlist, timed as whole `mediawatch flag` processes (start-up, database, matching), with the
compiled matcher cached from the previous run (the steady state of the scheduler) and without
(the first run after a watchlist change). The ratio 10,000 ÷ 100 is the point: small batches
should not pay for the watchlist's size."""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.synth import aliases, article, vocabulary
from core import db
from models import Article, WatchAlias, WatchEntity, in_transaction, make_engine
from pipeline.textnorm import lookup_key

BATCH = 200
RUNS = 5


def setup(folder: Path, n_aliases: int) -> tuple[Path, Any]:
    url = f"sqlite:///{folder / 'mediawatch.db'}"
    engine = make_engine(url)
    db.upgrade(engine)
    names = aliases(n_aliases)

    def work(s: Any) -> None:
        for i, name in enumerate(names, start=1):
            e = WatchEntity(id=i, name=name, key=lookup_key(name), kind="actor")
            e.aliases.append(WatchAlias(text=name, key=lookup_key(name)))
            s.add(e)

    in_transaction(engine, work)
    cfg = folder / "mediawatch.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n', "utf-8")
    return cfg, engine


def add_batch(
    engine: Any, rng: random.Random, vocab: list[str], hot: list[str], start: int
) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "id": start + i,
            "title": f"Batch article {start + i}",
            "lead": "",
            "text": article(rng, vocab, 450, hot),
            "language": "en",
            "is_opinion": False,
            "opinion_reason": "",
            "content_hash": f"b{start + i}",
            "word_count": 450,
            "first_seen": now,
            "last_seen": now,
            "updated_at": now,
        }
        for i in range(BATCH)
    ]
    in_transaction(engine, lambda s: s.execute(insert(Article), rows))


def timed_flag(cfg: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("mediawatch")), "--config", str(cfg), "flag"],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - t0


def run() -> dict[int, dict[str, float]]:
    rng = random.Random(7)
    vocab = vocabulary()
    out: dict[int, dict[str, float]] = {}
    for n in (100, 10_000):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            cfg, engine = setup(folder, n)
            hot = aliases(n)[:100]
            env = {**os.environ, "MEDIAWATCH_CACHE_DIR": str(folder / "cache")}
            next_id = 1
            add_batch(engine, rng, vocab, hot, next_id)
            next_id += BATCH
            cold = timed_flag(cfg, env)  # compiles, fills the cache
            warm = []
            for _ in range(RUNS):
                add_batch(engine, rng, vocab, hot, next_id)
                next_id += BATCH
                warm.append(timed_flag(cfg, env))
            uncached = []
            for _ in range(2):
                add_batch(engine, rng, vocab, hot, next_id)
                next_id += BATCH
                for f in (folder / "cache").glob("*.pickle"):
                    f.unlink()
                uncached.append(timed_flag(cfg, env))
            engine.dispose()
            out[n] = {
                "first": cold,
                "cached": statistics.median(warm),
                "uncached": statistics.median(uncached),
            }
    return out


def markdown(res: dict[int, dict[str, float]]) -> str:
    lines = [
        f"{BATCH} new 450-word articles per run, whole `mediawatch flag` processes on SQLite "
        f"(median of {RUNS} cached runs, 2 uncached):",
        "",
        "| aliases | matcher cached (steady state) | matcher rebuilt | first run |",
        "|---:|---:|---:|---:|",
    ]
    for n, r in res.items():
        lines.append(
            f"| {n:,} | {r['cached']:.2f} s | {r['uncached']:.2f} s | {r['first']:.2f} s |"
        )
    small, big = res[100], res[10_000]
    lines.append("")
    lines.append(
        f"10,000 ÷ 100 aliases: **{big['cached'] / small['cached']:.2f}×** with the cached matcher "
        f"(goal ≤ 1.5×), {big['uncached'] / small['uncached']:.2f}× when it is rebuilt."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
