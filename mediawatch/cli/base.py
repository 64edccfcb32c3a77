"""The command group, its options and what every command shares: error handling, output formats.

Exit codes: 0 ok, 1 the job ran but failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from core.app import App

if TYPE_CHECKING:
    from rich.table import Table
from core.errors import ConfigError, SchemaError, UsageFailure
from core.logs import setup_logging

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
        before = ctx.find_root().params.get("verbose", 0) or 0
        levels = [logging.WARNING, logging.INFO, logging.DEBUG]
        logging.getLogger().setLevel(levels[min(value + before, 2)])


def accept_verbose_everywhere(group: click.Group) -> None:
    """``-v`` works after the subcommand too (``mediawatch crawl -v``), not only before it."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            accept_verbose_everywhere(command)
        elif not any(p.name == "verbose" for p in command.params):
            command.params.append(
                click.Option(
                    ["-v", "--verbose"],
                    count=True,
                    expose_value=False,
                    callback=_more_verbose,
                    help="more log output (-v info, -vv debug)",
                )
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
    # And at exit, the interpreter's last collection would walk them all again (~0.15 s after
    # a `crawl` had ended): frozen, they are left to the end of the process. Nothing is lost:
    # every write was committed, and the logs are flushed by their own exit hook.
    atexit.register(gc.freeze)
    ctx.obj = App(config)


pass_app = click.make_pass_decorator(App)


def emit_rows(
    rows: list[dict[str, Any]],
    fmt: str,
    columns: list[str],
    table: Callable[[list[dict[str, Any]]], Table],
) -> None:
    """Print listing rows as a rich table, CSV (``columns``, lists joined by "; "), a JSON array
    or JSON lines."""
    if fmt == "json":
        click.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=1))
    elif fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, default=str, ensure_ascii=False))
    elif fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in columns])
        click.echo(buf.getvalue(), nl=False)
    else:
        console.print(table(rows))


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)
