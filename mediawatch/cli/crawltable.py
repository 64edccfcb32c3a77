"""The live table of `mediawatch crawl`: one row per outlet, its counters as the crawl goes."""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.table import Table

from core.app import App
from core.crawl import CrawlProcess, reasons, run_crawls


def crawl_table(states: dict[str, str], runs: dict[str, dict[str, object]]) -> Table:
    t = Table("outlet", "state", "pages", "new", "dup", "updated", "unchanged", "not stored: why")
    for slug, state in states.items():
        r = runs.get(slug) or {}
        t.add_row(
            slug,
            state,
            *(str(r.get(k, "")) for k in ("pages", "new", "duplicates", "updated", "unchanged")),
            reasons(r),
        )
    return t


def show_crawls(
    app: App,
    slugs: list[str],
    console: Console | None = None,
    held: dict[str, CrawlProcess] | None = None,
) -> int:
    """Crawl with a live table (a final one when not on a terminal). Exit code: 1 if an outlet
    could not be crawled. ``held``: crawl processes started ahead (core.crawl.hold_crawls)."""
    console = console or Console(stderr=True)
    with Live(
        crawl_table({}, {}),
        console=console,
        refresh_per_second=4,
        transient=not console.is_terminal,
    ) as live:
        last: list[Table] = []

        def update(states: dict[str, str], runs: dict[str, dict[str, object]]) -> None:
            table = crawl_table(states, runs)
            last[:] = [table]
            live.update(table)

        outcomes = run_crawls(app, slugs, on_progress=update, held=held)
    if not outcomes:
        console.print(
            "no enabled outlets: add [[outlets]] to the config and run `mediawatch outlets sync`"
        )
        return 0
    if not console.is_terminal and last:
        console.print(last[0])
    failed = [o for o in outcomes.values() if o.status != "ok"]
    for o in failed:
        console.print(f"[red]{o.slug}: {o.status}[/] (log: {o.log_path})")
    return 1 if failed else 0
