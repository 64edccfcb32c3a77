"""Doing the work now: crawl, extract, flag, digest, run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from core.app import App
from core.errors import UsageFailure
from mediawatch.cli.base import (
    console,
    format_option,
    handle_errors,
    long_running,
    main,
    pass_app,
)


@main.command()
@click.argument("slugs", nargs=-1)
@pass_app
@handle_errors
@long_running
def crawl(app: App, slugs: tuple[str, ...]) -> None:
    """Crawl outlets now (all enabled ones, or the given slugs): one process per outlet."""
    from core.crawl import hold_crawls

    # The named outlets' crawl processes load Scrapy and the extraction code while this one
    # checks the outlets against the database (and imports what that needs).
    held = hold_crawls(app, slugs)
    try:
        check_crawlable(app, slugs)
    except BaseException:
        for proc in held.values():
            proc.cancel()
        raise
    from mediawatch.cli.crawltable import show_crawls

    sys.exit(show_crawls(app, list(slugs), held=held))


def check_crawlable(app: App, slugs: tuple[str, ...]) -> None:
    """Every named outlet is in the database and enabled, or a usage error says which not."""
    from core.status import outlet_states

    states = outlet_states(app.ready_engine())
    unknown = [s for s in slugs if s not in states]
    if unknown:
        hint = (
            "run `mediawatch outlets sync` after editing the config"
            if any(s in {o.slug for o in app.settings.outlets} for s in unknown)
            else "see `mediawatch outlets list`"
        )
        raise UsageFailure(f"unknown outlet(s): {', '.join(unknown)} ({hint})")
    disabled = [s for s in slugs if not states[s]]
    if disabled:
        raise UsageFailure(
            f"outlet(s) disabled: {', '.join(disabled)} "
            f"(`mediawatch outlets enable {disabled[0]}` to crawl it again)"
        )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="the URL the page was fetched from")
@format_option(("table", "json"))
@handle_errors
def extract(file: Path, url: str, fmt: str) -> None:
    """Run one saved page through extraction (no database).

    Besides the fields, says what kind of page it is (page_type), why it is or is not an op-ed
    (opinion_reason) and which rule gave each field (sources)."""
    from pipeline.encoding import not_html_reason
    from pipeline.extract import extract_page

    body = file.read_bytes()
    if problem := not_html_reason(body):
        raise UsageFailure(f"{file}: {problem}")
    result = extract_page(body, url)
    data = {
        **result.contract_dict(),
        "page_type": result.page_type,
        "opinion_reason": result.opinion_reason,
        "sources": result.sources,
    }
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    from rich.table import Table

    table = Table("field", "value", show_header=False)
    for key, value in {**data, "text": (data["text"] or "")[:400]}.items():
        table.add_row(key, str(value))
    console.print(table)


@main.command()
@click.option("--all", "all_", is_flag=True, help="re-match the whole archive")
@pass_app
@handle_errors
@long_running
def flag(app: App, all_: bool) -> None:
    """Match new articles (or all, or what a watchlist change affects) against the watchlist."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.jobs import run_flag

    with Progress(
        TextColumn("flagging"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("flag", total=None)
        counts = run_flag(
            app,
            all_=all_,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(", ".join(f"{k} {v}" for k, v in counts.items()))


@main.command()
@click.option("--dry-run", is_flag=True, help="write previews, send and mark nothing")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="where --dry-run writes .eml/.html",
)
@pass_app
@handle_errors
@long_running
def digest(app: App, dry_run: bool, out: Path | None) -> None:
    """Send every subscriber the flagged articles they have not received yet, now.

    A subscriber backing off after a mail-server failure is tried at once (the scheduler waits
    out the back-off); nothing is ever sent twice, and a refused send marks nothing."""
    from alerts.run import run_digests

    if out and not dry_run:
        raise UsageFailure("--out goes with --dry-run")
    result = run_digests(app, dry_run=dry_run, out=out or Path("digest-preview"), on_demand=True)
    for line in result.lines:
        console.print(line, highlight=False)
    sys.exit(1 if result.failed else 0)


@main.command()
@click.option(
    "--distributed",
    is_flag=True,
    default=None,
    help="enqueue the jobs for `mediawatch worker` processes instead of running them "
    "(PostgreSQL; the default when [cluster] enabled = true)",
)
@pass_app
@handle_errors
@long_running
def run(app: App, distributed: bool | None) -> None:
    """Run the scheduler in the foreground: crawls, flagging and digests on their schedules.

    With --distributed, one machine's enqueuer for workers on many: a second one started on
    another machine waits in standby and takes over when the first stops."""
    import scheduler

    if distributed is None:
        distributed = app.settings.cluster.enabled
    if not distributed:
        sys.exit(scheduler.run(app))
    from mediawatch.cluster import Cluster, require_postgresql

    require_postgresql(app, "`mediawatch run --distributed`")
    cluster = Cluster(app)
    try:
        sys.exit(scheduler.run(app, enqueuer=cluster))
    finally:
        cluster.close()


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="outlet crawls at once in this worker (default: [cluster] concurrency, "
    "else [crawl] parallel_outlets)",
)
@pass_app
@handle_errors
@long_running
def worker(app: App, concurrency: int | None) -> None:
    """Take outlet crawls, flagging and digests from the task engine (distributed mode,
    PostgreSQL), on any machine with the config. SIGTERM drains: running crawls get
    [cluster] drain_seconds to finish, then go back to the queue for another worker."""
    import logging

    from mediawatch.cluster import Cluster, require_postgresql

    require_postgresql(app, "`mediawatch worker`")
    for name in ("mediawatch", "core", "alerts"):
        logging.getLogger(name).setLevel(logging.INFO)
    cluster = Cluster(app)
    console.print(
        f"mediawatch worker on {cluster.engine.url.render_as_string(hide_password=True)}; "
        "Ctrl-C or SIGTERM to stop",
        highlight=False,
    )
    cluster.run_worker(concurrency)
