"""The management commands, through the real CLI in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_init_writes_a_config_once_and_never_overwrites_it(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    assert run_cli("init", config=cfg).returncode == 0
    cfg.write_text(cfg.read_text() + "\n# my edit\n")
    again = run_cli("init", config=cfg)
    assert again.returncode == 0 and "kept as it is" in again.stdout
    assert cfg.read_text().endswith("# my edit\n")
    assert run_cli("db", "check", config=cfg).returncode == 0
    status = json.loads(run_cli("status", "--json", config=cfg).stdout)
    assert status["counts"]["articles"] == 0


def test_watchlist_import_add_and_list(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    run_cli("init", config=cfg)
    good = tmp_path / "watch.csv"
    good.write_text(
        "name,kind,aliases,case_sensitive,wikidata\nAleppo,place,Алеппо@ru|حلب@ar,,Q41183\nIslamic State,actor,Daesh|داعش@ar,ISIS|ISIL,\n",
        "utf-8",
    )
    result = run_cli("watch", "import", str(good), config=cfg)
    assert result.returncode == 0, result.stderr
    added = run_cli(
        "watch",
        "add",
        "Sergei Lavrov",
        "--kind",
        "actor",
        "--alias",
        "Lavrov",
        "--alias",
        "Лавров@ru",
        config=cfg,
    )
    assert added.returncode == 0, added.stderr
    rows = {
        r["name"]: r
        for r in json.loads(run_cli("watch", "list", "--format", "json", config=cfg).stdout)
    }
    assert set(rows) == {"Aleppo", "Islamic State", "Sergei Lavrov"}
    assert {"text": "حلب", "language": "ar", "case_sensitive": False} in rows["Aleppo"]["aliases"]
    assert {"text": "ISIS", "language": "", "case_sensitive": True} in rows["Islamic State"][
        "aliases"
    ]


def test_every_bad_csv_row_is_named_and_nothing_is_imported(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    run_cli("init", config=cfg)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,kind,aliases\nAleppo,place,حلب@ar\nRaqqa,city,الرقة@ar\n,actor,x\nAleppo,place,\n",
        "utf-8",
    )
    result = run_cli("watch", "import", str(bad), config=cfg)
    assert result.returncode == 2
    assert "3 bad row(s)" in result.stderr
    assert "line 3" in result.stderr and "kind" in result.stderr
    assert "line 4" in result.stderr and "line 5: 'Aleppo' appears twice" in result.stderr
    assert json.loads(run_cli("watch", "list", "--format", "json", config=cfg).stdout) == []


def test_outlets_add_and_list(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    run_cli("init", config=cfg)
    ok = run_cli(
        "outlets",
        "add",
        "daily",
        "--name",
        "Example Daily",
        "--url",
        "https://daily.example/",
        "--feed",
        "https://daily.example/feed/",
        "--article-pattern",
        r"/\d{4}/",
        config=cfg,
    )
    assert ok.returncode == 0, ok.stderr
    bad = run_cli("outlets", "add", "Bad Slug", "--name", "x", "--url", "ftp://x", config=cfg)
    assert bad.returncode == 2 and "slug" in bad.stderr
    rows = json.loads(run_cli("outlets", "list", "--format", "json", config=cfg).stdout)
    assert [r["slug"] for r in rows] == ["daily"] and rows[0]["feeds"] == [
        "https://daily.example/feed/"
    ]


def test_commands_refuse_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    cfg.write_text('[database]\nurl = "sqlite:///other.db"\n')
    result = run_cli("status", config=cfg)
    assert result.returncode == 2 and "mediawatch db upgrade" in result.stderr


def test_help_imports_no_heavy_module() -> None:
    # Start-up time is measured in bench/RESULTS.md; what keeps it low is checked here.
    import subprocess
    import sys

    probe = (
        "import sys; from mediawatch.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'scrapy', 'trafilatura', 'pydantic') "
        "if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "Usage:" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY=", out.stdout


def test_the_projects_own_commands_need_nothing_outside_the_repository() -> None:
    # A user's clone has no ../shared: `make test`, `make demo` and `make bench` must not need it.
    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text()
    assert "../" not in makefile


def test_an_unreachable_database_is_one_line_exit_2_without_the_password(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    cfg.write_text(
        '[database]\nurl = "postgresql+psycopg://mw:s3cret@127.0.0.1:9/nowhere"\n', "utf-8"
    )
    result = run_cli("status", config=cfg)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert "cannot open the database" in result.stderr and "127.0.0.1:9" in result.stderr
    missing_dir = tmp_path / "mw2.toml"
    missing_dir.write_text('[database]\nurl = "sqlite:///no/such/dir/mw.db"\n', "utf-8")
    result = run_cli("search", "x", config=missing_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "cannot open the database" in result.stderr


def test_watchlist_and_outlets_are_managed_from_the_cli(tmp_path: Path) -> None:
    from models import make_engine
    from tests.conftest import SAMPLE_BASE, ingest_samples

    url = f"sqlite:///{tmp_path / 'mw.db'}"
    engine = make_engine(url)
    from core import db

    db.upgrade(engine)
    cfg = ingest_samples(engine, tmp_path, url)
    assert SAMPLE_BASE in cfg.read_text()

    def mw(*args: str) -> tuple[int, str]:
        r = run_cli(*args, config=cfg)
        return r.returncode, r.stdout + r.stderr

    # Entities: by any name or alias; config entities say the next sync overwrites the edit.
    rc, out = mw("watch", "disable", "лавров")
    assert rc == 0 and "Sergei Lavrov: disabled" in out and "next `outlets sync`" in out
    rows = {r["name"]: r for r in json.loads(mw("watch", "list", "--format", "json")[1])}
    assert rows["Sergei Lavrov"]["enabled"] is False
    rc, out = mw("watch", "add", "Aleppo", "--kind", "actor")
    assert rc == 2 and "tracked as a place" in out
    assert mw("watch", "add", "Port Authority", "--kind", "actor")[0] == 0
    rc, out = mw("watch", "remove", "port authority")
    assert rc == 0 and "Port Authority: removed" in out
    assert mw("watch", "remove", "Atlantis")[0] == 2
    rc, out = mw("watch", "remove", "Aleppo")
    assert rc == 0 and "mention(s)" in out
    assert "Aleppo" not in mw("watch", "list", "--format", "csv")[1]

    # Outlets: remove refuses while appearances name it; --keep-articles disables instead.
    rc, out = mw("outlets", "remove", "vesti")
    assert rc == 2 and "appearance(s)" in out
    rc, out = mw("outlets", "remove", "vesti", "--keep-articles")
    assert rc == 0 and "disabled" in out
    rc, out = mw("crawl", "vesti")
    assert rc == 2 and "disabled" in out and "outlets enable vesti" in out
    assert mw("outlets", "enable", "vesti")[0] == 0
    assert mw("outlets", "disable", "faulty")[0] == 0
    rc, out = mw("outlets", "remove", "faulty")  # nothing stored from it yet
    assert rc == 0 and "faulty: removed" in out
    slugs = [r["slug"] for r in json.loads(mw("outlets", "list", "--format", "json")[1])]
    assert "faulty" not in slugs and "vesti" in slugs


def test_listings_take_every_format_and_verbose_after_the_command(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    run_cli("init", config=cfg)
    for args in (("outlets", "list"), ("watch", "list")):
        for fmt in ("table", "csv", "json", "jsonl"):
            r = run_cli(*args, "--format", fmt, "-v", config=cfg)
            assert r.returncode == 0, (args, fmt, r.stderr)
        assert run_cli(*args, "--json", config=cfg).returncode == 0
    assert json.loads(run_cli("status", "--format", "json", "-vv", config=cfg).stdout)


def test_extract_refuses_what_is_not_a_page_and_says_where_each_field_came_from(
    tmp_path: Path,
) -> None:
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    r = run_cli("extract", str(binary), "--url", "https://x.example/")
    assert r.returncode == 2 and "binary data" in r.stderr and "Traceback" not in r.stderr
    page = tmp_path / "page.html"
    page.write_text(
        "<html lang='en'><head><title>Ports reopen - Harbour Post</title>"
        "<meta property='article:published_time' content='2024-06-03T09:00:00Z'></head><body>"
        "<article><h1>Ports reopen</h1><p class='byline'>By Sam Okafor</p>"
        + "<p>"
        + "Cranes were moving again at the terminal on Monday. " * 12
        + "</p>"
        "</article></body></html>",
        "utf-8",
    )
    r = run_cli("extract", str(page), "--url", "https://x.example/2024/06/03/ports/", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["page_type"] == "article" and data["authors"] == ["Sam Okafor"]
    assert data["sources"]["published_at"] == "meta" and "opinion_reason" in data
