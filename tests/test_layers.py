"""The import graph: the CLI on top and imported by nothing; the scheduler below it; the core
below alerts and the crawler; pipeline and models at the bottom (pyproject.toml's contracts)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOWER = ["core", "alerts", "crawler", "pipeline", "models", "migrations"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


def test_the_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(lint).exists():
        pytest.fail("lint-imports is not installed (it is a dev dependency)")
    result = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_scheduler_sits_between_the_cli_and_the_core() -> None:
    # scheduler.py is a module, which import-linter cannot take as a layer: checked here.
    assert "mediawatch" not in {top(m) for m in imported_modules(ROOT / "scheduler.py")}
    for package in LOWER:
        for path in (ROOT / package).rglob("*.py"):
            assert "scheduler" not in {top(m) for m in imported_modules(path)}, path


def test_nothing_below_the_cli_imports_it() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in LOWER
        for path in (ROOT / package).rglob("*.py")
        if "mediawatch" in {top(m) for m in imported_modules(path)}
    ]
    assert offenders == []
