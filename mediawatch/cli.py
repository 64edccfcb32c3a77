"""The `mediawatch` command: a thin layer over the Python API (see DESIGN.md for the contract).

Exit codes: 0 ok, 1 the job ran but failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from mediawatch.app import App
from mediawatch.errors import ConfigError, SchemaError, UsageFailure
from mediawatch.logs import setup_logging

# Heavy modules (SQLAlchemy, Alembic, Scrapy, trafilatura) are imported inside the commands that
# need them: `mediawatch --help` must start in a blink (bench/RESULTS.md, "CLI start-up").
console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def _database_error(exc: BaseException) -> str | None:
    """A one-line message for a database that cannot be opened or reached, else None."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    msg = str(exc.orig or exc).strip()
    hints = ("connect", "unable to open", "does not exist", "authentication", "resolve", "refused")
    if not any(h in msg.lower() for h in hints):
        return None
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(App) if ctx else None
    where = ""
    if app is not None and "engine" in app.__dict__:
        where = " " + app.engine.url.render_as_string(hide_password=True)
    return f"cannot open the database{where}: {msg.splitlines()[0]}"


def format_option(choices: tuple[str, ...], default: str = "table") -> Callable[[F], F]:
    """--format for listing commands (``--json`` stays an alias of ``--format json``)."""

    def decorate(fn: F) -> F:
        fn = click.option(
            "--json",
            "fmt",
            flag_value="json",
            hidden=True,
            help="same as --format json",
        )(fn)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="output format",
        )(fn)

    return decorate


def _more_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        parent = ctx.find_root()
        level = [logging.WARNING, logging.INFO, logging.DEBUG][
            min(value + parent.params.get("verbose", 0), 2)
        ]
        logging.getLogger().setLevel(level)


verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    expose_value=False,
    callback=_more_verbose,
    help="more log output (-v info, -vv debug); also accepted before the command",
)


def long_running(fn: F) -> F:
    """For commands that run long or over much data: the cyclic GC back on."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gc.enable()
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def handle_errors(fn: F) -> F:
    """Turn the library's exceptions into messages and exit codes; never a traceback for input."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc.render()}", err=True)
            sys.exit(2)
        except (SchemaError, UsageFailure) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except Exception as exc:
            message = _database_error(exc)
            if message is None:
                raise
            click.echo(f"error: {message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mediawatch", prog_name="mediawatch")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    help="mediawatch.toml (default: $MEDIAWATCH_CONFIG or ./mediawatch.toml)",
)
@click.option("-v", "--verbose", count=True, help="more log output (-v info, -vv debug)")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: int) -> None:
    """Media monitoring: crawl outlets, extract and deduplicate articles, flag tracked actors and
    places, and mail digests."""
    setup_logging([logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])
    # Importing SQLAlchemy, pydantic and the models makes many long-lived objects, and the
    # cyclic GC keeps scanning them for nothing (~60 ms of a ~0.5 s `search`). Short commands run
    # without it; long-running ones switch it back on (`long_running`).
    gc.disable()
    ctx.obj = App(config)


pass_app = click.make_pass_decorator(App)


# --- init / db ---------------------------------------------------------------------------------


@main.command()
@pass_app
@handle_errors
def init(app: App) -> None:
    """Write mediawatch.toml if missing, migrate the database to head, sync the config."""
    from importlib.resources import files

    from mediawatch import db
    from mediawatch.sync import sync_config

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
    from mediawatch import db

    db.upgrade(app.engine, revision)
    console.print(
        f"database at schema revision {db.describe_revision(db.current_revision(app.engine))}"
    )


@db_group.command("current")
@pass_app
@handle_errors
def db_current(app: App) -> None:
    """Print the database's schema revision."""
    from mediawatch import db

    console.print(db.describe_revision(db.current_revision(app.engine)))


@db_group.command("check")
@pass_app
@handle_errors
def db_check(app: App) -> None:
    """Exit 1 if the database schema differs from the models (or is not at head)."""
    from mediawatch import db

    app.ready_engine()
    diffs = db.drift(app.engine)
    if diffs:
        for d in diffs:
            console.print(f"drift: {d}")
        sys.exit(1)
    console.print("schema matches the models")


# --- outlets -----------------------------------------------------------------------------------


@main.group()
def outlets() -> None:
    """Outlets: list, add, sync."""


@outlets.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
@handle_errors
def outlets_list(app: App, fmt: str) -> None:
    """List outlets with their feeds and last crawl."""
    from mediawatch.status import outlet_rows

    rows = outlet_rows(app.ready_engine())
    if fmt == "json":
        click.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=1))
        return
    table = Table(
        "slug", "name", "enabled", "feeds", "sitemaps", "sections", "articles", "last crawl"
    )
    for r in rows:
        table.add_row(
            r["slug"],
            r["name"],
            "yes" if r["enabled"] else "no",
            str(len(r["feeds"])),
            str(len(r["sitemaps"])),
            str(len(r["sections"])),
            str(r["articles"]),
            f"{r['last_crawl_status'] or '-'} {r['last_crawl_at'] or ''}",
        )
    console.print(table)


@outlets.command("add")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--url", required=True)
@click.option("--language", default="")
@click.option("--country", default="")
@click.option("--feed", "feeds", multiple=True)
@click.option("--sitemap", "sitemaps", multiple=True)
@click.option("--section", "sections", multiple=True)
@click.option("--article-pattern", "article_patterns", multiple=True)
@click.option("--opinion-pattern", "opinion_patterns", multiple=True)
@click.option("--interval", "interval_minutes", type=float, default=60.0)
@pass_app
@handle_errors
def outlets_add(app: App, slug: str, **values: Any) -> None:
    """Add (or update) an outlet in the database; it is not written to the config file."""
    from pydantic import ValidationError

    from mediawatch.config import OutletConfig
    from mediawatch.sync import outlet_values, upsert_outlet
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


@outlets.command("sync")
@pass_app
@handle_errors
def outlets_sync(app: App) -> None:
    """Upsert outlets, watchlist and subscribers from the config into the database."""
    from mediawatch.sync import sync_config

    console.print(sync_config(app.ready_engine(), app.settings).summary())


# --- watchlist ---------------------------------------------------------------------------------


@main.group()
def watch() -> None:
    """The watchlist: list, add, import."""


@watch.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
@handle_errors
def watch_list(app: App, fmt: str) -> None:
    """List tracked entities with their aliases and mention counts."""
    from mediawatch.watchlist import entity_rows

    rows = entity_rows(app.ready_engine())
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table("name", "kind", "aliases", "articles", "enabled")
    for r in rows:
        aliases = ", ".join(
            a["text"]
            + (f"@{a['language']}" if a["language"] else "")
            + ("(Aa)" if a["case_sensitive"] else "")
            for a in r["aliases"]
        )
        table.add_row(
            r["name"], r["kind"], aliases, str(r["articles"]), "yes" if r["enabled"] else "no"
        )
    console.print(table)


@watch.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["actor", "place"]), required=True)
@click.option("--alias", "aliases", multiple=True, help="TEXT[@LANG], repeatable")
@click.option(
    "--case-sensitive",
    "case_sensitive",
    multiple=True,
    help="an alias matched only as written (acronyms)",
)
@click.option("--wikidata", default="")
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

    from mediawatch.config import WatchConfig
    from mediawatch.sync import alias_specs, upsert_entity
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
    result = in_transaction(
        app.ready_engine(),
        lambda s: upsert_entity(
            s,
            cfg.name,
            cfg.kind,
            alias_specs(cfg),
            wikidata=wikidata,
            from_config=False,
            replace_aliases=False,
        ),
    )
    console.print(f"{name}: {result or 'unchanged'}")


@watch.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
@handle_errors
def watch_import(app: App, file: Path) -> None:
    """Import entities from a CSV file (columns: name,kind,aliases,case_sensitive,wikidata,notes)."""
    from mediawatch.watchlist import WatchlistImportError, import_csv

    try:
        report = import_csv(app.ready_engine(), file)
    except WatchlistImportError as exc:
        raise UsageFailure(str(exc)) from None
    console.print(f"{file}: {report.summary()}")


# --- jobs --------------------------------------------------------------------------------------


@main.command()
@click.argument("slugs", nargs=-1)
@pass_app
@handle_errors
@long_running
def crawl(app: App, slugs: tuple[str, ...]) -> None:
    """Crawl outlets now (all enabled ones, or the given slugs): one process per outlet."""
    from mediawatch.crawl import run_crawls

    known = {o.slug for o in app.settings.outlets}
    engine = app.ready_engine()
    from mediawatch.status import outlet_slugs

    known |= set(outlet_slugs(engine))
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise UsageFailure(
            f"unknown outlet(s): {', '.join(unknown)} (see `mediawatch outlets list`)"
        )
    sys.exit(run_crawls(app, list(slugs), console=console))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="the URL the page was fetched from")
@click.option("--json", "as_json", is_flag=True, help="print the fields as one JSON object")
def extract(file: Path, url: str, as_json: bool) -> None:
    """Run one saved page through extraction (no database)."""
    from pipeline.extract import extract_page

    result = extract_page(file.read_bytes(), url)
    data = result.contract_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    table = Table("field", "value", show_header=False)
    for key, value in {
        **data,
        "text": (data["text"] or "")[:400],
        "opinion_reason": result.opinion_reason,
        "page_type": result.page_type,
    }.items():
        table.add_row(key, str(value))
    console.print(table)


@main.command()
@click.option("--all", "all_", is_flag=True, help="re-match the whole archive")
@pass_app
@handle_errors
@long_running
def flag(app: App, all_: bool) -> None:
    """Match new articles (or all, or what a watchlist change affects) against the watchlist."""
    from mediawatch.jobs import run_flag

    counts = run_flag(app, all_=all_, progress=console)
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
    from mediawatch.jobs import run_digests

    if out and not dry_run:
        raise UsageFailure("--out goes with --dry-run")
    result = run_digests(app, dry_run=dry_run, out=out or Path("digest-preview"), on_demand=True)
    for line in result.lines:
        console.print(line, highlight=False)
    sys.exit(1 if result.failed else 0)


DATE_HELP = "date: 2024-03-05, 2024-03-05T10:00, or relative: 12h, 7d, 2w, 3m, today, yesterday"


@main.command()
@click.argument("text", required=False, default="")
@click.option(
    "--actor",
    "actors",
    multiple=True,
    help="a tracked actor, by name or any alias, any script or case (repeatable: all of them)",
)
@click.option(
    "--place", "places", multiple=True, help="a tracked place, by name or alias (repeatable)"
)
@click.option(
    "--outlet", "outlets_", multiple=True, help="an outlet slug (repeatable: any of them)"
)
@click.option("--author", help="an author's name or part of it")
@click.option("--since", help=f"published on or after this {DATE_HELP}")
@click.option("--until", help=f"published up to the end of this {DATE_HELP}")
@click.option("--opinion", is_flag=True, default=None, help="op-eds only")
@click.option("--lang", help="language code, e.g. en, ar, ru")
@click.option(
    "--limit",
    type=click.IntRange(1, 100000),
    default=50,
    show_default=True,
    help="how many articles to show at most",
)
@format_option(("table", "csv", "json", "jsonl"))
@verbose_option
@pass_app
@handle_errors
def search(
    app: App,
    text: str,
    actors: tuple[str, ...],
    places: tuple[str, ...],
    outlets_: tuple[str, ...],
    author: str | None,
    since: str | None,
    until: str | None,
    opinion: bool | None,
    lang: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Full-text search and filters over stored articles, newest first (by relevance with TEXT).

    TEXT: words (all of them), "a phrase", word OR word, -excluded, prefix*.
    """
    from mediawatch.search import Query, QueryError, render
    from mediawatch.search import search as search_articles

    try:
        q = Query.build(
            text=text,
            actors=actors,
            places=places,
            outlets=outlets_,
            author=author,
            since=since,
            until=until,
            opinion=opinion,
            language=lang,
            limit=limit,
        )
    except QueryError as exc:
        raise UsageFailure(str(exc)) from None
    outcome = search_articles(app.ready_engine(), q)
    for warning in outcome.warnings:
        err_console.print(f"warning: {warning}", highlight=False)
    render(outcome.rows, fmt, console)
    if outcome.total > len(outcome.rows):
        err_console.print(
            f"{len(outcome.rows)} of {outcome.total} shown (use --limit)", highlight=False
        )


@main.command()
@click.argument("article_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors
def show(app: App, article_id: int, as_json: bool) -> None:
    """One article: appearances, authors, mentions, text."""
    from mediawatch.search import article_detail, render_detail

    detail = article_detail(app.ready_engine(), article_id)
    if detail is None:
        raise UsageFailure(f"no article {article_id}")
    if as_json:
        click.echo(json.dumps(detail, ensure_ascii=False, indent=1, default=str))
    else:
        render_detail(detail, console)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors
def status(app: App, as_json: bool) -> None:
    """Last runs, next runs, per-outlet health, counts."""
    from mediawatch.status import collect_status, render_status

    data = collect_status(app.ready_engine(), app.settings)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        render_status(data, console)


@main.command()
@pass_app
@handle_errors
@long_running
def run(app: App) -> None:
    """Run the scheduler in the foreground: crawls, flagging and digests on their schedules."""
    import scheduler

    sys.exit(scheduler.run(app))


if __name__ == "__main__":
    main()
