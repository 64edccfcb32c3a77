"""Web view latency at 100k synthetic articles (the search benchmark's database), on SQLite and
PostgreSQL: whole requests through the ASGI app — query, read-model, template, chart — median
and p95 per page. The baseline in the same run is the CLI's search call for the same filter."""

from __future__ import annotations

import statistics
import time
from typing import Any

from sqlalchemy import Engine
from starlette.testclient import TestClient

from bench.dbs import dialects
from bench.search import N, populate
from core.search import Query, run_search
from mediawatch.web.app import create_app

RUNS = 30
PAGES = {
    "/ (home)": "/",
    "/search?q=ceasefire": "/search?q=ceasefire",
    "/search?actor=Entity 7": "/search?actor=Entity+7",
    "/search?q=harbour&actor=Entity 7&opinion=1": "/search?q=harbour&actor=Entity+7&opinion=1",
    "/search?…&page=3": "/search?actor=Entity+7&page=3",
    "/entities/7 (chart)": "/entities/7",
    "/outlets/o3 (chart)": "/outlets/o3",
    "/articles/4242": "/articles/4242",
    "/search.csv?actor=Entity 7 (limit 1000)": "/search.csv?actor=Entity+7&limit=1000",
}


def timed(fn: Any) -> dict[str, float]:
    fn()  # warm caches
    ms = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    return {"median": statistics.median(ms), "p95": ms[int(len(ms) * 0.95) - 1]}


def measure(engine: Engine) -> dict[str, dict[str, float]]:
    out = {}
    with TestClient(create_app(engine)) as client:
        for label, path in PAGES.items():

            def get(path: str = path) -> None:
                reply = client.get(path)
                assert reply.status_code == 200, (path, reply.status_code)

            out[label] = timed(get)
    out["baseline: CLI search, actor=Entity 7"] = timed(
        lambda: run_search(engine, Query.build(actors=["Entity 7"], limit=25))
    )
    return out


def run() -> dict[str, Any]:
    res = {}
    for name, make_db in dialects():
        with make_db() as engine:
            populate(engine)
            res[name] = measure(engine)
    return res


def markdown(res: dict[str, Any]) -> str:
    lines = [
        f"{N:,} synthetic articles (the search benchmark's data), {RUNS} requests per page through "
        "the ASGI app in-process (Starlette TestClient): database, read-model, Jinja template and "
        "pygal chart included; network and browser rendering not. Goal: p95 < 300 ms.",
        "",
        "| database | page | median | p95 |",
        "|---|---|---:|---:|",
    ]
    for db_name, r in res.items():
        for label, t in r.items():
            lines.append(f"| {db_name} | {label} | {t['median']:.1f} ms | {t['p95']:.1f} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
