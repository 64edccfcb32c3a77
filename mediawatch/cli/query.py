"""Reading what was stored: search, show, status."""

from __future__ import annotations

import json

import click

from core.app import App
from core.errors import UsageFailure
from mediawatch.cli.base import (
    console,
    err_console,
    format_option,
    handle_errors,
    main,
    pass_app,
)

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
    from core.search import Query, QueryError
    from core.search import search as search_articles
    from mediawatch.cli.render import render_search

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
    render_search(outcome.rows, fmt)
    if outcome.total > len(outcome.rows):
        err_console.print(
            f"{len(outcome.rows)} of {outcome.total} shown (use --limit)", highlight=False
        )


@main.command()
@click.argument("article_id", type=int)
@format_option(("table", "json"))
@pass_app
@handle_errors
def show(app: App, article_id: int, fmt: str) -> None:
    """One article: appearances, authors, mentions, text."""
    from core.search import article_detail
    from mediawatch.cli.render import render_detail

    detail = article_detail(app.ready_engine(), article_id)
    if detail is None:
        raise UsageFailure(f"no article {article_id}")
    if fmt == "json":
        click.echo(json.dumps(detail, ensure_ascii=False, indent=1, default=str))
    else:
        render_detail(detail, console)


@main.command()
@format_option(("table", "json"))
@pass_app
@handle_errors
def status(app: App, fmt: str) -> None:
    """Last runs, next runs, per-outlet health, counts."""
    from core.status import collect_status
    from mediawatch.cli.render import render_status

    data = collect_status(app.ready_engine(), app.settings)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        render_status(data, console)
