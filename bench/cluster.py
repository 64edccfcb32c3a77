"""Distributed crawling: 24 outlets on 8 loopback hosts, crawled by 1, 2 and 3 `mediawatch worker`
processes taking jobs from Procrastinate on PostgreSQL, in one run; and what the queue itself
costs per job (a flag job with nothing to flag, deferred and awaited one at a time, beside the
same flag run in-process).

``python -m bench.cluster`` (PostgreSQL at $MEDIAWATCH_TEST_PG, default 127.0.0.1:5432)."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from bench.dbs import postgres_db
from mediawatch.siteserver import SiteServer

HOSTS = 8
OUTLETS_PER_HOST = 3
PAGES_PER_OUTLET = 20
WORKER_COUNTS = (1, 2, 3)
FLAG_JOBS = 30


def build_sites(root: Path) -> list[str]:
    from tests.store_worker import synthetic_page

    slugs = []
    for o in range(OUTLETS_PER_HOST):
        slug = f"site{o}"
        slugs.append(slug)
        for i in range(PAGES_PER_OUTLET):
            html, _ = synthetic_page(o * 1000 + i)
            rel = root / slug / "2024" / f"story-{i}" / "index.html"
            rel.parent.mkdir(parents=True, exist_ok=True)
            rel.write_text(html, "utf-8")
        locs = "".join(
            f"<url><loc>{{{{BASE}}}}/{slug}/2024/story-{i}/</loc></url>"
            for i in range(PAGES_PER_OUTLET)
        )
        (root / slug / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>',
            "utf-8",
        )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return slugs


def config(url: str, servers: list[SiteServer], slugs: list[str]) -> str:
    parts = [
        f'[database]\nurl = "{url}"\n',
        "[crawl]\nmax_article_age_days = 0\nautothrottle = false\nworkers = 0\n"
        "concurrency_per_domain = 8\n",
        "[cluster]\nconcurrency = 1\nper_host = 1\nheartbeat_seconds = 2\nstalled_seconds = 10\n",
    ]
    for h, server in enumerate(servers):
        for slug in slugs:
            parts.append(
                f'[[outlets]]\nslug = "h{h}-{slug}"\nname = "h{h} {slug}"\n'
                f'url = "{server.base}/{slug}/"\nsitemaps = ["{server.base}/{slug}/sitemap.xml"]\n'
                f"article_patterns = ['/{slug}/2024/']\n"
            )
    return "\n".join(parts)


def _queue_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
        ).scalar()


def crawl_with(n: int, work: Path, servers: list[SiteServer], slugs: list[str]) -> dict[str, Any]:
    from core.app import App
    from mediawatch.cluster import Cluster
    from models import Appearance, CrawlRun

    with postgres_db() as engine:
        folder = work / f"workers-{n}"
        folder.mkdir()
        cfg = folder / "mediawatch.toml"
        url = engine.url.render_as_string(hide_password=False)
        cfg.write_text(config(url, servers, slugs), "utf-8")
        mw = [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg)]
        subprocess.run([*mw, "outlets", "sync"], check=True, capture_output=True)
        env = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONFIG"}
        procs = [
            subprocess.Popen(
                [*mw, "worker"],
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            for _ in range(n)
        ]
        try:
            time.sleep(3)  # the workers are up (their start-up is not the queue's cost)
            cluster = Cluster(App(cfg))
            outlets = [f"h{h}-{s}" for h in range(len(servers)) for s in slugs]
            t0 = time.perf_counter()
            for slug in outlets:
                cluster.defer_crawl(slug)
            cluster.close()
            while True:
                time.sleep(0.2)
                with engine.connect() as conn:
                    done = conn.execute(
                        select(func.count())
                        .select_from(CrawlRun)
                        .where(CrawlRun.status != "running")
                    ).scalar()
                if done == len(outlets) and _queue_empty(engine):
                    break
            wall = time.perf_counter() - t0
            with engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(Appearance)).scalar() or 0
                crawl_s = [
                    (f - s).total_seconds()
                    for s, f in conn.execute(select(CrawlRun.started_at, CrawlRun.finished_at))
                    if f is not None
                ]
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=120)
        return {
            "workers": n,
            "outlets": len(outlets),
            "stored": stored,
            "wall_s": wall,
            "crawl_s_sum": sum(crawl_s),
        }


def queue_overhead(work: Path) -> dict[str, float]:
    """A flag job with nothing to flag, through the queue (defer → a worker takes it → done),
    one at a time, beside the same flag in-process."""
    from core.app import App
    from core.jobs import run_flag
    from mediawatch.cluster import Cluster

    with postgres_db() as engine:
        folder = work / "overhead"
        folder.mkdir()
        cfg = folder / "mediawatch.toml"
        cfg.write_text(
            f'[database]\nurl = "{engine.url.render_as_string(hide_password=False)}"\n', "utf-8"
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg), "worker"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONFIG"},
        )
        try:
            time.sleep(3)
            app = App(cfg)
            cluster = Cluster(app)
            through_queue = []
            for _ in range(FLAG_JOBS):
                t0 = time.perf_counter()
                cluster.defer_flag()
                while not _queue_empty(engine):
                    time.sleep(0.005)
                through_queue.append(time.perf_counter() - t0)
            cluster.close()
            in_process = []
            for _ in range(FLAG_JOBS):
                t0 = time.perf_counter()
                run_flag(app)
                in_process.append(time.perf_counter() - t0)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        return {
            "queue_ms": statistics.median(through_queue) * 1000,
            "in_process_ms": statistics.median(in_process) * 1000,
        }


def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mw-bench-cluster-"))
    try:
        site = work / "site"
        slugs = build_sites(site)
        servers = [SiteServer(site, host=f"127.0.0.{h + 1}").start() for h in range(HOSTS)]
        try:
            results = [crawl_with(n, work, servers, slugs) for n in WORKER_COUNTS]
        finally:
            for s in servers:
                s.stop()
        return {"runs": results, "overhead": queue_overhead(work), "cores": os.cpu_count()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(r: dict[str, Any]) -> str:
    first = r["runs"][0]
    lines = [
        f"{first['outlets']} outlets ({OUTLETS_PER_HOST} per host on {HOSTS} loopback hosts, "
        f"{PAGES_PER_OUTLET} synthetic articles each, `[cluster] per_host = 1`) queued at once "
        "with `Cluster.defer_crawl`; wall time until the queue is empty and every run closed. "
        "Each worker runs one crawl at a time (`concurrency = 1`), each crawl is its own Scrapy "
        f"process; PostgreSQL on the same machine; {r['cores']} cores.",
        "",
        "| workers | wall s | vs 1 worker | stored | sum of crawl run times s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for run in r["runs"]:
        lines.append(
            f"| {run['workers']} | {run['wall_s']:.1f} | {first['wall_s'] / run['wall_s']:.2f}× | "
            f"{run['stored']} | {run['crawl_s_sum']:.1f} |"
        )
    o = r["overhead"]
    lines += [
        "",
        f"Queue overhead per job: a flag job with nothing to flag takes {o['queue_ms']:.0f} ms "
        f"deferred and awaited through the queue (median of {FLAG_JOBS}, one at a time), "
        f"{o['in_process_ms']:.0f} ms run in-process: ≈{o['queue_ms'] - o['in_process_ms']:.0f} ms "
        "per job for defer, LISTEN/NOTIFY wake-up, fetch and finish — small beside a crawl of "
        "several seconds.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
