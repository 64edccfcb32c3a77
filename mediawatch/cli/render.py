"""How the CLI shows search results, one article and the status (the data comes from
core.search and core.status, which know nothing of terminals)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.crawl import reasons
from core.search import CSV_COLUMNS, csv_row
from mediawatch.cli.base import emit_rows


def search_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("id", "date", "outlet", "title", "authors", "entities", "also", show_lines=False)
    for r in rows:
        table.add_row(
            str(r["id"]),
            (r["published_at"] or "")[:10],
            r["outlet"],
            r["title"] + (" [op-ed]" if r["is_opinion"] else ""),
            ", ".join(r["authors"]),
            ", ".join(r["entities"][:4]) + ("…" if len(r["entities"]) > 4 else ""),
            str(len(r["appearances"]) - 1) if len(r["appearances"]) > 1 else "",
        )
    table.caption = f"{len(rows)} article(s)"
    return table


def render_search(rows: list[dict[str, Any]], fmt: str) -> None:
    """Search rows in the contract's shapes (DESIGN.md); CSV has the CSV_COLUMNS."""
    if fmt == "csv":
        rows = [dict(zip(CSV_COLUMNS, csv_row(r), strict=True)) for r in rows]
    emit_rows(rows, fmt, CSV_COLUMNS, search_table)


def render_detail(d: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]{d['title']}[/]" + ("  [reverse] OPINION [/]" if d["is_opinion"] else ""),
        highlight=False,
    )
    console.print(
        f"#{d['id']} · {', '.join(d['authors']) or 'no author'} · published {d['published_at'] or '?'} · {d['language']}",
        highlight=False,
    )
    if d["opinion_reason"]:
        console.print(f"op-ed because: {d['opinion_reason']}", style="dim")
    t = Table("outlet", "url", "first seen", "original", title="appearances")
    for a in d["appearances"]:
        t.add_row(
            a["outlet"],
            a["url"],
            f"{a['first_seen']:%Y-%m-%d %H:%M}",
            "yes" if a["is_original"] else "",
        )
    console.print(t)
    if d["mentions"]:
        m = Table("entity", "kind", "count", "snippet", title="mentions")
        for x in d["mentions"]:
            m.add_row(
                x["entity"],
                x["kind"],
                str(x["count"]) + (" +title" if x["in_title"] else ""),
                x["snippet"].replace("⟦", "[").replace("⟧", "]"),
            )
        console.print(m)
    console.print(d["text"], highlight=False)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.0%}"
    return str(value)


HEALTH_STYLE = {"ok": "green", "degraded": "yellow", "silent": "red"}


def health_cell(state: str | None, reason: str) -> str:
    if state is None:
        return "-"
    cell = f"[{HEALTH_STYLE.get(state, 'white')}]{state}[/]"
    return f"{cell}\n{escape(reason)}" if reason else cell


def render_status(data: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]database[/] {data['database']}")
    counts = Table("table", "rows", title="counts")
    for k, v in data["counts"].items():
        counts.add_row(k, str(v))
    console.print(counts)
    outlets = Table(
        "outlet",
        "health",
        "last run",
        "pages",
        "errors",
        "last ok",
        "new 24h",
        "new 7d",
        "no author",
        "no date",
        "next crawl",
        "not stored: why (last run)",
        title="outlets",
    )
    for o in data["outlets"]:
        run = o["last_run"] or {}
        outlets.add_row(
            o["slug"] + ("" if o["enabled"] else " (disabled)"),
            health_cell(o.get("health"), o.get("health_reason", "")),
            _fmt(run.get("status")),
            _fmt(run.get("pages")),
            _fmt(run.get("errors")),
            _fmt(o["last_ok_crawl"]),
            str(o["new_24h"]),
            str(o["new_7d"]),
            _fmt(o["missing_author"]),
            _fmt(o["missing_date"]),
            _fmt(o["next_crawl"]),
            reasons({**run, "errors": run.get("errors_by_kind")}) if run else "-",
        )
    console.print(outlets)
    jobs = Table("job", "last result", "last start", "counts", "next run", title="jobs")
    for j in data["jobs"]:
        counts_s = ", ".join(f"{k}={v}" for k, v in j["last_counts"].items())
        jobs.add_row(
            j["job"],
            _fmt(j["last_status"]),
            _fmt(j["last_started_at"]),
            counts_s or "-",
            _fmt(j["next_run"]),
        )
    console.print(jobs)
    cluster = data.get("cluster")
    if cluster and (cluster["workers"] or cluster["jobs"]):
        _render_cluster(cluster, console)


def _render_cluster(cluster: dict[str, Any], console: Console) -> None:
    workers = Table("worker", "id", "last heartbeat", "state", "running", title="workers")
    for w in cluster["workers"]:
        workers.add_row(
            w["name"] or "-",
            str(w["id"]),
            _fmt(w["last_heartbeat"]),
            "alive" if w["alive"] else "[red]silent (presumed dead)[/]",
            str(w["running"]),
        )
    console.print(workers)
    queue = Table(
        "job", "queued", "running on", "since", "failed 24h", "last error", title="task queue"
    )
    for j in cluster["jobs"]:
        queue.add_row(
            j["job"],
            str(j["queued"]),
            _fmt(j["running_on"]),
            _fmt(j["running_since"]),
            str(j["failed_24h"]),
            (j["last_error"] or "-")[:80],
        )
    console.print(queue)
