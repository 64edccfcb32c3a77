"""Matcher throughput: one Aho–Corasick automaton vs one compiled regex per alias, same texts."""

from __future__ import annotations

import random
import re
import time
from typing import Any

from bench.synth import aliases, article, vocabulary
from pipeline.flag import AliasSpec, Matcher

N_ARTICLES = 10_000
# The regex baseline is far too slow for all 10,000 articles; it runs on a sample whose size
# shrinks as the watchlist grows (throughput in MB/s is what is compared).
BASELINE_ARTICLES = {100: 400, 1_000: 60, 10_000: 8}


def _regex_baseline(patterns: list[re.Pattern[str]], texts: list[str]) -> int:
    hits = 0
    for t in texts:
        for rx in patterns:
            hits += len(rx.findall(t))
    return hits


def run(sizes: tuple[int, ...] = (100, 1_000, 10_000)) -> dict[str, Any]:
    rng = random.Random(3)
    vocab = vocabulary()
    all_aliases = aliases(max(sizes))
    texts = [article(rng, vocab, 450, all_aliases[:100]) for _ in range(N_ARTICLES)]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    rows = []
    for n in sizes:
        sample = texts[: BASELINE_ARTICLES.get(n, 8)]
        sample_mb = sum(len(t.encode()) for t in sample) / 1e6
        specs = [AliasSpec(i, a) for i, a in enumerate(all_aliases[:n])]
        t0 = time.perf_counter()
        matcher = Matcher(specs)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = sum(len(matcher.find(t)) for t in texts)
        ours = time.perf_counter() - t0
        patterns = [
            re.compile(r"(?<!\w)" + re.escape(a) + r"(?!\w)", re.IGNORECASE)
            for a in all_aliases[:n]
        ]
        t0 = time.perf_counter()
        _regex_baseline(patterns, sample)
        base = time.perf_counter() - t0
        rows.append(
            {
                "aliases": n,
                "build_s": build,
                "seconds": ours,
                "mb_s": mb / ours,
                "matches": found,
                "baseline_mb_s": sample_mb / base,
                "speedup": (mb / ours) / (sample_mb / base),
            }
        )
    smallest = rows[0]["seconds"]
    for r in rows:
        r["cost_vs_smallest"] = r["seconds"] / smallest
    return {"articles": N_ARTICLES, "mb": mb, "rows": rows}


def markdown(res: dict[str, Any]) -> str:
    lines = [
        f"{res['articles']:,} synthetic articles ({res['mb']:.1f} MB, Latin/Cyrillic/Arabic); baseline: one "
        "compiled `(?<!\\w)alias(?!\\w)` regex per alias, IGNORECASE, on the first "
        f"{', '.join(f'{v} (at {k:,})' for k, v in BASELINE_ARTICLES.items())} articles.",
        "",
        "| aliases | automaton build | flag 10k articles | MB/s | regex baseline MB/s | speed-up | time vs 100 aliases |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['aliases']:,} | {r['build_s']:.2f} s | {r['seconds']:.2f} s | {r['mb_s']:.1f} | "
            f"{r['baseline_mb_s']:.2f} | {r['speedup']:.0f}× | {r['cost_vs_smallest']:.2f}× |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
