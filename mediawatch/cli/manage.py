"""Setting up and managing: init, db, outlets, watch."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from core.app import App
from core.errors import UsageFailure
from mediawatch.cli.base import (
    console,
    emit_rows,
    format_option,
    handle_errors,
    main,
    pass_app,
)


@main.command()
@pass_app
@handle_errors
def init(app: App) -> None:
    """Write mediawatch.toml if missing, migrate the database to head, sync the config."""
    from importlib.resources import files

    from core import db
    from core.sync import sync_config

    path = app.config_path
    if path.exists():
        console.print(f"config: {path} (kept as it is)")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files("mediawatch").joinpath("example.toml").read_text("utf-8"), "utf-8")
        console.print(f"config: wrote {path}")
    db.upgrade(app.engine)
    console.print(
        f"database: {app.engine.url.render_as_string(hide_password=True)} at schema revision "
        f"{db.describe_revision(db.current_revision(app.engine))}"
    )
    console.print(f"sync: {sync_config(app.engine, app.settings).summary()}")


@main.group("db")
def db_group() -> None:
    """Database schema: upgrade, current, check."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@pass_app
@handle_errors
def db_upgrade(app: App, revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from core import db

    db.upgrade(app.engine, revision)
    console.print(
        f"database at schema revision {db.describe_revision(db.current_revision(app.engine))}"
    )


@db_group.command("current")
@pass_app
@handle_errors
def db_current(app: App) -> None:
    """Print the database's schema revision."""
    from core import db

    console.print(db.describe_revision(db.current_revision(app.engine)))


@db_group.command("check")
@pass_app
@handle_errors
def db_check(app: App) -> None:
    """Exit 1 if the database schema differs from the models (or is not at head)."""
    from core import db

    app.ready_engine()
    diffs = db.drift(app.engine)
    if diffs:
        for d in diffs:
            console.print(f"drift: {d}")
        sys.exit(1)
    console.print("schema matches the models")


@main.group()
def outlets() -> None:
    """Outlets: list, add, probe, health, sync, enable, disable, remove, crawl-now."""


@outlets.command("list")
@format_option(("table", "csv", "json", "jsonl"))
@pass_app
@handle_errors
def outlets_list(app: App, fmt: str) -> None:
    """List outlets with their feeds and last crawl."""
    from rich.table import Table

    from core.status import outlet_rows

    def table(rows: list[dict[str, Any]]) -> Table:
        t = Table(
            "slug", "name", "enabled", "feeds", "sitemaps", "sections", "articles", "last crawl"
        )
        for r in rows:
            t.add_row(
                r["slug"],
                r["name"],
                "yes" if r["enabled"] else "no",
                str(len(r["feeds"])),
                str(len(r["sitemaps"])),
                str(len(r["sections"])),
                str(r["articles"]),
                f"{r['last_crawl_status'] or '-'} {r['last_crawl_at'] or ''}",
            )
        return t

    rows = outlet_rows(app.ready_engine())
    columns = list(rows[0]) if rows else ["slug", "name", "enabled"]
    emit_rows(rows, fmt, columns, table)


@outlets.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="the outlet's name as readers know it")
@click.option("--url", required=True, help="home page URL (http/https)")
@click.option("--language", default="", help="main language code, e.g. en, ar, ru")
@click.option("--country", default="", help="ISO 3166 country code, e.g. SY")
@click.option("--feed", "feeds", multiple=True, help="RSS/Atom feed URL (repeatable)")
@click.option(
    "--sitemap", "sitemaps", multiple=True, help="sitemap or news sitemap URL (repeatable)"
)
@click.option(
    "--section", "sections", multiple=True, help="section page URL to read links from (repeatable)"
)
@click.option(
    "--article-pattern",
    "article_patterns",
    multiple=True,
    help="regular expression an article URL matches (repeatable)",
)
@click.option(
    "--opinion-pattern",
    "opinion_patterns",
    multiple=True,
    help="regular expression an op-ed URL matches (repeatable)",
)
@click.option(
    "--interval",
    "interval_minutes",
    type=float,
    default=60.0,
    show_default=True,
    help="minutes between scheduled crawls",
)
@pass_app
@handle_errors
def outlets_add(app: App, slug: str, **values: Any) -> None:
    """Add (or update) an outlet in the database; it is not written to the config file."""
    from pydantic import ValidationError

    from core.config import OutletConfig
    from core.sync import outlet_values, upsert_outlet
    from models import in_transaction

    try:
        cfg = OutletConfig.model_validate(
            {"slug": slug, **{k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}}
        )
    except ValidationError as exc:
        raise UsageFailure(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from None
    result = in_transaction(
        app.ready_engine(), lambda s: upsert_outlet(s, outlet_values(cfg), slug, from_config=False)
    )
    console.print(f"{slug}: {result or 'unchanged'}")


def add_toggle_commands(group: click.Group, what: str, setter: str, docs: tuple[str, str]) -> None:
    """`GROUP disable X` and `GROUP enable X` for outlets (X: slug) and entities (X: name)."""
    for enabled, doc in zip((False, True), docs, strict=True):

        @click.argument(what)
        @pass_app
        @handle_errors
        def toggle(app: App, enabled: bool = enabled, **kwargs: str) -> None:
            module, func = setter.rsplit(".", 1)
            set_state = getattr(importlib.import_module(module), func)
            click.echo(set_state(app.ready_engine(), kwargs[what], enabled))

        toggle.__doc__ = doc
        group.command("enable" if enabled else "disable")(toggle)


add_toggle_commands(
    outlets,
    "slug",
    "core.outlets.set_outlet_enabled",
    ("Stop crawling an outlet; what was stored from it stays.", "Crawl a disabled outlet again."),
)


@outlets.command("remove")
@click.argument("slug")
@click.option(
    "--keep-articles",
    is_flag=True,
    help="when articles appeared on it, disable the outlet instead of refusing",
)
@pass_app
@handle_errors
def outlets_remove(app: App, slug: str, keep_articles: bool) -> None:
    """Delete an outlet and its crawl history (refused while stored articles appeared on it)."""
    from core.outlets import remove_outlet

    click.echo(remove_outlet(app.ready_engine(), slug, keep_articles=keep_articles))


@outlets.command("sync")
@pass_app
@handle_errors
def outlets_sync(app: App) -> None:
    """Upsert outlets, watchlist and subscribers from the config into the database."""
    from core.sync import sync_config

    console.print(sync_config(app.ready_engine(), app.settings).summary())


@outlets.command("probe")
@click.argument("url")
@click.option("--add", "add_slug", metavar="SLUG", help="append the block to the config and sync")
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="seconds between requests to the site",
)
@click.option("--sample", type=click.IntRange(min=1, max=50), default=8, show_default=True)
@pass_app
@handle_errors
def outlets_probe(app: App, url: str, add_slug: str | None, delay: float, sample: int) -> None:
    """Look at an outlet's home page (a URL or a host name) and propose its [[outlets]] block:
    feeds, sitemaps, section pages and URL patterns found, tried on a sample of articles.

    The TOML block goes to stdout and the report to stderr, so
    `mediawatch outlets probe URL >> mediawatch.toml` works; --add SLUG appends it to the
    config and syncs. robots.txt is obeyed and [crawl] user_agent sent."""
    from crawler.probe import PoliteFetcher, ProbeError, probe, report, slug_for, toml_block

    settings = app.settings
    fetcher = PoliteFetcher(settings.crawl.user_agent, delay=delay)
    try:
        result = probe(url, fetcher, sample=sample)
    except ProbeError as exc:
        raise UsageFailure(str(exc)) from None
    slug = (add_slug or slug_for(result.home)).lower()
    block = toml_block(result, slug)
    for line in report(result):
        click.echo(line, err=True)
    if not add_slug:
        click.echo(block, nl=False)
        return
    from core.configfile import load_settings
    from core.sync import sync_config

    if any(o.slug == slug for o in settings.outlets):
        raise UsageFailure(f"outlet {slug!r} is already in {app.config_path}")
    engine = app.ready_engine()  # a database to sync to, before the config is touched
    path = app.config_path
    before = path.read_text("utf-8") if path.exists() else ""
    path.write_text(before.rstrip("\n") + "\n\n" + block if before else block, "utf-8")
    try:
        fresh = load_settings(path)
    except Exception:
        path.write_text(before, "utf-8")  # never leave a broken config behind
        raise
    click.echo(f"added [[outlets]] {slug} to {path}", err=True)
    click.echo(sync_config(engine, fresh).summary(), err=True)


@outlets.command("health")
@format_option(("table", "json", "jsonl"))
@pass_app
@handle_errors
def outlets_health(app: App, fmt: str) -> None:
    """Each enabled outlet: ok, degraded or silent, why, and the signals behind it (new
    articles against the outlet's own baseline, author and date shares, errors, bot walls).
    The rules are in docs/outlets.md; [health] tunes them."""
    from rich.table import Table

    from core.health import assess

    rows = [h.as_dict() for h in assess(app.ready_engine(), app.settings.health)]

    def table(rows: list[dict[str, Any]]) -> Table:
        from rich.markup import escape

        from mediawatch.cli.render import HEALTH_STYLE

        t = Table(title="outlet health", show_lines=True)
        for name in ("outlet", "health", "new 7d", "per week", "authors", "dates", "errors"):
            t.add_column(name, no_wrap=True)
        t.add_column("why", ratio=1, min_width=24)
        for r in rows:
            since = f"\nsince {r['since']:%m-%d %H:%M}" if r["since"] else ""
            t.add_row(
                r["slug"],
                f"[{HEALTH_STYLE.get(r['state'], 'white')}]{r['state']}[/]{since}",
                str(r["new_7d"]),
                "-" if r["weekly_baseline"] is None else f"{r['weekly_baseline']:.1f}",
                _pct(r["author_share"], r["author_share_baseline"]),
                _pct(r["date_share"], r["date_share_baseline"]),
                "-" if r["error_rate"] is None else f"{r['error_rate']:.0%}",
                escape(r["reason"]) or "-",
            )
        return t

    emit_rows(rows, fmt, [], table)


def _pct(now: float | None, baseline: float | None) -> str:
    cell = "-" if now is None else f"{now:.0%}"
    return cell + ("" if baseline is None else f"\nwas {baseline:.0%}")


@outlets.command("crawl-now")
@click.argument("slugs", nargs=-1, required=True)
@pass_app
@handle_errors
def outlets_crawl_now(app: App, slugs: tuple[str, ...]) -> None:
    """Queue a crawl of these outlets for the workers, ahead of the timetable (distributed mode,
    PostgreSQL). An outlet already queued is not queued twice. `mediawatch crawl SLUG` crawls
    here and now instead."""
    from core.status import cluster_status
    from mediawatch.cluster import Cluster, require_postgresql

    require_postgresql(app, "`outlets crawl-now` (distributed mode)")
    cluster = Cluster(app)
    try:
        for slug in slugs:
            click.echo(cluster.defer_crawl(slug.lower(), now=True).describe())
    finally:
        cluster.close()
    queue = cluster_status(cluster.engine, app.settings.cluster.stalled_seconds)
    if not queue or not queue["workers_alive"]:
        click.echo(
            "warning: no worker is running; start `mediawatch worker` to crawl the queue", err=True
        )


@main.group()
def watch() -> None:
    """The watchlist: list, add, import, enable, disable, remove."""


@watch.command("list")
@format_option(("table", "csv", "json", "jsonl"))
@pass_app
@handle_errors
def watch_list(app: App, fmt: str) -> None:
    """List tracked entities with their aliases and mention counts."""
    from rich.table import Table

    from core.watchlist import CSV_COLUMNS, entity_rows

    def table(rows: list[dict[str, Any]]) -> Table:
        t = Table("name", "kind", "aliases", "articles", "enabled", "from")
        for r in rows:
            t.add_row(
                r["name"],
                r["kind"],
                ", ".join(alias_label(a) for a in r["aliases"]),
                str(r["articles"]),
                "yes" if r["enabled"] else "no",
                "config" if r["from_config"] else "cli",
            )
        return t

    rows = entity_rows(app.ready_engine())
    if fmt == "csv":  # the import format, so a listing can be edited and imported again
        rows = [
            {
                **r,
                "aliases": "|".join(
                    alias_label(a) for a in r["aliases"] if not a["case_sensitive"]
                ),
                "case_sensitive": "|".join(
                    alias_label(a) for a in r["aliases"] if a["case_sensitive"]
                ),
            }
            for r in rows
        ]
    emit_rows(rows, fmt, list(CSV_COLUMNS), table)


def alias_label(alias: dict[str, Any]) -> str:
    return alias["text"] + (f"@{alias['language']}" if alias["language"] else "")


@watch.command("add")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["actor", "place"]),
    required=True,
    help="actor (person, organisation, state) or place",
)
@click.option(
    "--alias",
    "aliases",
    multiple=True,
    help="another spelling, TEXT or TEXT@LANG (e.g. Лавров@ru); repeatable",
)
@click.option(
    "--case-sensitive",
    "case_sensitive",
    multiple=True,
    help="an alias matched only as written, e.g. NATO (repeatable)",
)
@click.option("--wikidata", default="", help="Wikidata id, e.g. Q41183")
@pass_app
@handle_errors
def watch_add(
    app: App,
    name: str,
    kind: str,
    aliases: tuple[str, ...],
    case_sensitive: tuple[str, ...],
    wikidata: str,
) -> None:
    """Add an entity (or add aliases to an existing one)."""
    from pydantic import ValidationError

    from core.config import WatchConfig
    from core.sync import CONFIG_NOTE, alias_specs, upsert_entity
    from core.watchlist import find_entity
    from models import in_transaction

    try:
        cfg = WatchConfig.model_validate(
            {
                "name": name,
                "kind": kind,
                "aliases": list(aliases),
                "case_sensitive": list(case_sensitive),
                "wikidata": wikidata,
            }
        )
    except ValidationError as exc:
        raise UsageFailure(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from None

    def work(session: Any) -> tuple[str, bool]:
        result = upsert_entity(
            session,
            cfg.name,
            cfg.kind,
            alias_specs(cfg),
            wikidata=wikidata,
            from_config=False,
            replace_aliases=False,
        )
        return result, find_entity(session, cfg.name).from_config

    result, from_config = in_transaction(app.ready_engine(), work)
    note = f" (note: {CONFIG_NOTE})" if result and from_config else ""
    click.echo(f"{name}: {result or 'unchanged'}{note}")


add_toggle_commands(
    watch,
    "name",
    "core.watchlist.set_entity_enabled",
    (
        "Stop matching an entity (by name or alias); its mentions so far are kept.",
        "Match a disabled entity again (run `mediawatch flag` to catch up).",
    ),
)


@watch.command("remove")
@click.argument("name")
@pass_app
@handle_errors
def watch_remove(app: App, name: str) -> None:
    """Delete an entity with its aliases, mentions and the subscriptions to it."""
    from core.watchlist import remove_entity

    click.echo(remove_entity(app.ready_engine(), name))


@watch.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
@handle_errors
def watch_import(app: App, file: Path) -> None:
    """Import entities from a CSV file (columns: name,kind,aliases,case_sensitive,wikidata,notes)."""
    from core.watchlist import WatchlistImportError, import_csv

    try:
        report = import_csv(app.ready_engine(), file)
    except WatchlistImportError as exc:
        raise UsageFailure(str(exc)) from None
    console.print(f"{file}: {report.summary()}")
