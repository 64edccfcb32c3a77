"""`make bench`: every benchmark, results written to bench/RESULTS.md (and printed)."""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from pathlib import Path

from bench import crawl, dedup, extraction, flagbatch, flagging, search, startup, web
from bench.results import RESULTS, kept_notes, write_section
from bench.results import section as results_section

NOTES = Path(__file__).with_name("NOTES.md")


def main() -> int:
    only = set(sys.argv[1:])
    sections: list[tuple[str, str]] = []

    def section(name: str, title: str, fn: object) -> None:
        if only and name not in only:
            return
        t0 = time.perf_counter()
        print(f"== {title} …", flush=True)
        body = fn()  # type: ignore[operator]
        print(body, f"\n({time.perf_counter() - t0:.0f} s)\n", flush=True)
        sections.append((title, body))

    fixtures = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "extract"
    section(
        "extraction",
        "Extraction quality (fixture set) — ours vs trafilatura",
        lambda: extraction.markdown_table(extraction.report(fixtures)),
    )
    dev_set = Path(__file__).resolve().parents[2] / "shared" / "extract-dev"
    if (dev_set / "gold.jsonl").exists():
        from bench import extraction_set

        section(
            "extraction",
            f"Extraction quality on real pages ({dev_set.name})",
            lambda: extraction_set.markdown(dev_set, extraction_set.evaluate(dev_set)),
        )
    else:
        print("(no ../shared/extract-dev here: the real-page extraction set is skipped)")
    section(
        "flagging",
        "Flagging throughput — Aho–Corasick vs one regex per alias",
        lambda: flagging.markdown(flagging.run()),
    )
    section(
        "flagbatch",
        "Flagging a small batch — cached matcher, 100 vs 10,000 aliases",
        lambda: flagbatch.markdown(flagbatch.run()),
    )
    section(
        "dedup", "Near-duplicate lookup and store throughput", lambda: dedup.markdown(dedup.run())
    )
    section("search", "Search latency at 100k articles", lambda: search.markdown(search.run()))
    section("crawl", "Crawl throughput", lambda: crawl.markdown(crawl.run()))
    section("startup", "CLI start-up", lambda: startup.markdown(startup.run()))
    section("web", "Web view latency at 100k articles", lambda: web.markdown(web.run()))
    from bench.dbs import pg_available

    if pg_available():
        from bench import cluster

        section(
            "cluster",
            "Distributed crawling — 1, 2 and 3 workers on one PostgreSQL",
            lambda: cluster.markdown(cluster.run()),
        )
    else:
        print("(PostgreSQL unreachable: the distributed-crawling benchmark is skipped)")
    if only:  # the sections asked for, each put in place in RESULTS.md, its notes kept
        for title, text in sections:
            write_section(title, text)
        print(f"updated {', '.join(title for title, _ in sections)} in {RESULTS}")
    else:
        header = [
            "# Benchmark results",
            "",
            f"Written by `make bench` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — Python {platform.python_version()}, "
            f"{platform.machine()}, {platform.system()}. Every number is a ratio against a baseline measured in the same run, "
            "or a latency on this machine; none is a pass/fail assertion (the test suite only enforces extraction quality floors).",
            "",
        ]
        kept = kept_notes(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
        body = [results_section(title, text, kept) for title, text in sections]
        notes = NOTES.read_text("utf-8") if NOTES.exists() else ""
        RESULTS.write_text("\n".join(header + body) + ("\n" + notes if notes else ""), "utf-8")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
