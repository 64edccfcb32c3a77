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
[[outlets]]
slug = "bench"
name = "Bench Site"
url = "{base}/bench/"
sitemaps = ["{base}/bench/sitemap.xml"]
article_patterns = ['/bench/2024/']
"""


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
            cfg = work / "mediawatch.toml"
            cfg.write_text(CONFIG.format(base=server.base))
            mw = [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg)]
            subprocess.run([*mw, "init"], check=True, capture_output=True)
            t0 = time.perf_counter()
            proc = subprocess.run([*mw, "crawl", "bench"], capture_output=True, text=True)
            crawl_s = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(proc.stdout + proc.stderr)
            import sqlite3

            stored = (
                sqlite3.connect(work / "mediawatch.db")
                .execute("SELECT count(*) FROM articles")
                .fetchone()[0]
            )
        return {
            "pages": n,
            "stored": stored,
            "crawl_s": crawl_s,
            "crawl_per_s": stored / crawl_s,
            "extract_per_s": n / extract_s,
            "ratio": (stored / crawl_s) / (n / extract_s),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"A local site of {r['pages']:,} article pages behind one sitemap, crawled by `mediawatch crawl` "
            "(one Scrapy process, robots.txt obeyed, AutoThrottle off, 16 concurrent requests to the host, "
            "SQLite), process start-up included:",
            "",
            "| crawl + extract + store | extraction alone (same pages, same run) | crawl / extraction |",
            "|---:|---:|---:|",
            f"| {r['crawl_per_s']:.0f} pages/s ({r['stored']:,} stored in {r['crawl_s']:.1f} s) | {r['extract_per_s']:.0f} pages/s | {r['ratio']:.2f} |",
        ]
    )


if __name__ == "__main__":
    print(markdown(run()))
