"""CLI start-up: `mediawatch --help` and `mediawatch search` on a small database, as whole
processes, against a bare `python -c pass` and a bare `import sqlalchemy` measured in the same run.

Uses hyperfine when it is installed (Debian: `apt-get install hyperfine`), else repeated
subprocess runs timed here.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 15


def _time_commands(commands: dict[str, list[str]], cwd: Path) -> dict[str, float]:
    """Mean wall time in seconds of each command, with bytecode caching on as on a user's
    machine (a PYTHONDONTWRITEBYTECODE in the environment would recompile our modules on every
    start, ~40 ms that no user pays)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if shutil.which("hyperfine"):
        out = cwd / "hyperfine.json"
        subprocess.run(
            [
                "hyperfine",
                "-N",
                "--warmup",
                "2",
                "--runs",
                str(RUNS),
                "--export-json",
                str(out),
                *(shlex.join(c) for c in commands.values()),
            ],
            cwd=cwd,
            check=True,
            capture_output=True,
            env=env,
        )
        results = json.loads(out.read_text())["results"]
        return {name: r["mean"] for name, r in zip(commands, results, strict=True)}
    means = {}
    for name, cmd in commands.items():
        for _ in range(2):
            subprocess.run(cmd, cwd=cwd, capture_output=True, check=True, env=env)
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=cwd, capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - t0)
        means[name] = statistics.mean(times)
    return means


def run() -> dict[str, float]:
    from models import make_engine
    from tests.conftest import ingest_samples

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        url = f"sqlite:///{d / 'mediawatch.db'}"
        from core import db

        engine = make_engine(url)
        db.upgrade(engine)
        cfg = ingest_samples(engine, d, url)  # the 11 sample articles, flagged
        engine.dispose()
        mw = str(Path(sys.executable).with_name("mediawatch"))
        return _time_commands(
            {
                "python -c pass": [sys.executable, "-c", "pass"],
                "python -c 'import sqlalchemy'": [sys.executable, "-c", "import sqlalchemy"],
                "python -c 'import sqlalchemy.orm, pydantic_settings'": [
                    sys.executable,
                    "-c",
                    "import sqlalchemy.orm, pydantic_settings",
                ],
                "mediawatch --help": [mw, "--help"],
                "mediawatch search lavrov": [mw, "--config", str(cfg), "search", "lavrov"],
            },
            d,
        )


def markdown(means: dict[str, float]) -> str:
    base = means["python -c pass"]
    lines = [
        f"Whole processes, mean of {RUNS} runs after 2 warm-ups "
        f"({'hyperfine' if shutil.which('hyperfine') else 'timed subprocesses'}); `search` on a "
        "SQLite database holding the 11 sample articles. Heavy modules are imported only by the "
        "commands that need them; `tests/test_cli.py` checks that `--help` loads none of them.",
        "",
        "| command | mean | vs bare interpreter |",
        "|---|---:|---:|",
    ]
    for name, mean in means.items():
        lines.append(f"| `{name}` | {mean * 1000:.0f} ms | {mean / base:.1f}× |")
    return "\n".join(lines)
