"""`make demo`: the main job end to end on the embedded default (SQLite), in a temporary folder.

Serves the bundled sample outlets on 127.0.0.1, writes a config, initialises the database,
crawls every outlet (each in its own process), flags the articles against the sample watchlist,
runs a sample search, and writes the digest previews.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from mediawatch.siteserver import SiteServer

HERE = Path(__file__).parent


def main() -> int:
    console = Console()
    workdir = Path(
        os.environ.get("MEDIAWATCH_DEMO_DIR") or tempfile.mkdtemp(prefix="mediawatch-demo-")
    )
    workdir.mkdir(parents=True, exist_ok=True)
    with SiteServer(HERE / "sites", slow_seconds=5) as server:
        config = workdir / "mediawatch.toml"
        config.write_text(
            (HERE / "mediawatch.toml.in").read_text("utf-8").replace("{{BASE}}", server.base),
            "utf-8",
        )
        env = {**os.environ}
        env.pop("MEDIAWATCH_CONFIG", None)

        def mw(*args: str, check: bool = True) -> int:
            console.print(Rule(f"mediawatch {' '.join(args)}"))
            rc = subprocess.call(
                [sys.executable, "-m", "mediawatch.cli", "--config", str(config), *args],
                env=env,
                cwd=workdir,
            )
            if check and rc not in (0,):
                console.print(f"[red]mediawatch {' '.join(args)} exited {rc}[/]")
            return rc

        console.print(f"[bold]sample outlets[/] served at {server.base}; working folder {workdir}")
        if mw("init"):
            return 1
        # Onboarding: what `probe` proposes for one of the sample outlets (the demo config
        # already has it; the block would go into mediawatch.toml).
        mw("outlets", "probe", f"{server.base}/vesti/", "--delay", "0")
        mw("crawl")  # the sample 'faulty' and 'broken' outlets show how bad pages are counted
        mw("flag")
        mw("search", "--actor", "Sergei Lavrov", "--place", "Aleppo")
        mw("search", "Geneva", "--opinion", "--format", "json")
        mw("status")
        mw("outlets", "health")
        mw("digest", "--dry-run", "--out", str(workdir / "digest-preview"))
    console.print(Rule("done"))
    console.print(f"database:        {workdir / 'mediawatch.db'}")
    console.print(
        f"digest previews: {workdir / 'digest-preview'}  (open the .html files in a browser)"
    )
    console.print(f"crawl logs:      {workdir / 'logs'}")
    console.print(f"try:             .venv/bin/mediawatch --config {config} show 2")
    console.print(
        f"web view:        .venv/bin/mediawatch --config {config} web\n"
        "                 then open http://127.0.0.1:8000/ (search, articles, entity charts)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
