"""Crawl throughput: a real `mediawatch crawl` of a 2,000-page local site (sitemap → articles →
extract → store, SQLite), beside extraction alone of the same pages in the same run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mediawatch.siteserver import SiteServer
from pipeline.extract import extract_page

N_PAGES = 2000


def build_site(root: Path, n: int) -> list[tuple[str, str]]:
    from tests.store_worker import synthetic_page

    pages = []
    for i in range(n):
        html, _ = synthetic_page(i)
        rel = f"bench/2024/03/05/story-{i}/index.html"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(html, "utf-8")
        pages.append((rel, html))
    locs = "\n".join(
        f"<url><loc>{{{{BASE}}}}/bench/2024/03/05/story-{i}/</loc></url>" for i in range(n)
    )
    (root / "bench" / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>',
        "utf-8",
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return pages


CONFIG = """
[database]
url = "sqlite:///mediawatch.db"
[crawl]
max_article_age_days = 0
autothrottle = false
concurrency_per_domain = 16
timeout_minutes = 20
workers = {workers}
[[outlets]]
slug = "bench"
name = "Bench Site"
url = "{base}/bench/"
sitemaps = ["{base}/bench/sitemap.xml"]
article_patterns = ['/bench/2024/']
"""


WORKERS = (0, 1, 2)  # 0: extraction in the reactor's threads, as before the pool


def crawl_once(work: Path, base: str, workers: int) -> tuple[int, float]:
    folder = work / f"w{workers}"
    folder.mkdir()
    cfg = folder / "mediawatch.toml"
    cfg.write_text(CONFIG.format(base=base, workers=workers))
    mw = [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg)]
    subprocess.run([*mw, "init"], check=True, capture_output=True)
    t0 = time.perf_counter()
    proc = subprocess.run([*mw, "crawl", "bench"], capture_output=True, text=True)
    crawl_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    import sqlite3

    stored = sqlite3.connect(folder / "mediawatch.db").execute("SELECT count(*) FROM articles")
    return int(stored.fetchone()[0]), crawl_s


def run(n: int = N_PAGES) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mw-bench-crawl-"))
    try:
        site = work / "site"
        pages = build_site(site, n)
        with SiteServer(site) as server:
            t0 = time.perf_counter()
            for rel, html in pages:
                extract_page(html, f"{server.base}/{rel.removesuffix('index.html')}")
            extract_s = time.perf_counter() - t0
            crawls = {w: crawl_once(work, server.base, w) for w in WORKERS}
        return {
            "pages": n,
            "extract_per_s": n / extract_s,
            "crawls": {
                w: {"stored": st, "crawl_s": s, "per_s": st / s} for w, (st, s) in crawls.items()
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"A local site of {r['pages']:,} article pages behind one sitemap, crawled by `mediawatch crawl` "
        "(one Scrapy process, robots.txt obeyed, AutoThrottle off, 16 concurrent requests to the host, "
        "SQLite), process start-up included; extraction alone on the same pages in the same run: "
        f"{r['extract_per_s']:.0f} pages/s.",
        "",
        "| `[crawl] workers` | pages/s | stored | seconds | vs extraction alone | vs workers = 0 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    base = r["crawls"][0]["per_s"]
    for w, c in r["crawls"].items():
        lines.append(
            f"| {w}{' (in threads)' if w == 0 else ''} | {c['per_s']:.0f} | {c['stored']:,} | "
            f"{c['crawl_s']:.1f} | {c['per_s'] / r['extract_per_s']:.2f} | {c['per_s'] / base:.2f}× |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
