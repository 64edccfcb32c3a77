"""`mediawatch web`: the analysts' web view (mediawatch.web) under uvicorn."""

from __future__ import annotations

import ipaddress
import sys

import click

from core.app import App
from core.errors import UsageFailure
from mediawatch.cli.base import err_console, handle_errors, long_running, main, pass_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port"
)
@click.option(
    "--hash-password",
    is_flag=True,
    help="print an argon2 hash of a password read from the terminal (for [[web.users]]), and exit",
)
@pass_app
@handle_errors
@long_running
def web(app: App, host: str, port: int, hash_password: bool) -> None:
    """Serve the web view: search, articles, entities, outlets and authors, with charts.

    Binds 127.0.0.1 by default. Any other address needs authentication configured first:
    [[web.users]] (name + argon2 password hash) or [web] proxy_auth_header."""
    from mediawatch.web.auth import WebAuth
    from mediawatch.web.auth import hash_password as make_hash

    if hash_password:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
        click.echo(make_hash(password))
        return
    import uvicorn

    from mediawatch.web.app import create_app
    from models import make_engine

    cfg = app.settings.web
    auth = WebAuth(
        users={u.name: u.password_hash for u in cfg.users}, proxy_header=cfg.proxy_auth_header
    )
    if not is_loopback(host) and not auth.required:
        raise UsageFailure(
            f"--host {host} would show the archive to the network without a login: add "
            "[[web.users]] (see `mediawatch web --hash-password`) or [web] proxy_auth_header "
            "to the config, or keep the default 127.0.0.1"
        )
    app.ready_engine()  # the schema is there and current
    url = cfg.database_url or app.settings.database_url
    engine = make_engine(url, read_only=True)
    err_console.print(f"mediawatch web view on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        create_app(engine, auth, secret_key=cfg.secret_key),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )
    sys.exit(0)
