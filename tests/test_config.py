from __future__ import annotations

from pathlib import Path

import pytest

from core.configfile import load_settings
from core.errors import ConfigError
from tests.conftest import run_cli

GOOD = """
[database]
url = "sqlite:///data/mw.db"

[crawl]
user_agent = "test/1.0"

[[outlets]]
slug = "daily"
name = "Example Daily"
url = "https://daily.example/"
feeds = ["https://daily.example/feed/"]
article_patterns = ['/\\d{4}/\\d{2}/']

[[watch]]
name = "Aleppo"
kind = "place"
aliases = ["حلب@ar", "Алеппо@ru"]

[[subscribers]]
email = "a@example.org"
entities = ["Aleppo"]
schedule = "0 7 * * 1-5"
timezone = "Europe/Berlin"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mediawatch.toml"
    p.write_text(text, "utf-8")
    return p


def test_valid_config_loads_with_relative_sqlite_path_next_to_the_file(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, GOOD))
    assert s.outlets[0].slug == "daily"
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'data/mw.db'}"
    assert s.crawl.max_article_age_days == 30  # default kept


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAWATCH_DATABASE__URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("MEDIAWATCH_SMTP__PASSWORD", "s3cret")
    monkeypatch.setenv("MEDIAWATCH_CRAWL__TIMEOUT_MINUTES", "7")
    s = load_settings(write(tmp_path, GOOD))
    assert s.database.url == "postgresql+psycopg://u@h/db"
    assert s.smtp.password == "s3cret"
    assert s.crawl.timeout_minutes == 7
    assert s.crawl.user_agent == "test/1.0"  # the rest of the section still comes from the file


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("[crawl]", "[crawl]\nbogus = 1"), "crawl.bogus: unknown key"),
        (lambda t: t.replace('user_agent = "test/1.0"', "user_agent = 5"), "crawl.user_agent"),
        (
            lambda t: t.replace('url = "https://daily.example/"', 'url = "ftp://x"'),
            "outlets[0] (daily).url: not an http(s) URL",
        ),
        (
            lambda t: t.replace("'/\\d{4}/\\d{2}/'", "'(['"),
            "outlets[0] (daily).article_patterns: invalid regular expression",
        ),
        (lambda t: t + t[t.index("[[outlets]]") : t.index("[[watch]]")], "duplicate slug 'daily'"),
        (
            lambda t: t.replace('"0 7 * * 1-5"', '"0 25 * * *"'),
            "invalid cron expression '0 25 * * *'",
        ),
        (lambda t: t.replace('"Europe/Berlin"', '"Mars/Olympus"'), "unknown time zone"),
        (lambda t: t.replace('kind = "place"', 'kind = "city"'), "watch[0] (Aleppo).kind"),
        (
            lambda t: t.replace('entities = ["Aleppo"]', 'entities = ["Atlantis"]'),
            "'Atlantis' is not in [[watch]] nor in the database's watchlist",
        ),
        (
            lambda t: t.replace('email = "a@example.org"', 'email = "not-an-address"'),
            "not an e-mail address",
        ),
    ],
)
def test_bad_config_names_the_key_and_the_problem(tmp_path: Path, change, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, change(GOOD)))
    assert expected in err.value.render()
    assert str(tmp_path / "mediawatch.toml") in err.value.render()


def test_toml_syntax_error_gives_file_line_and_exit_2_without_traceback(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD.replace("[crawl]", "[crawl"))
    result = run_cli("status", config=cfg)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "mediawatch.toml" in result.stderr and "line 5" in result.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("status", config=tmp_path / "nope.toml")
    assert result.returncode == 2
    assert "file not found" in result.stderr and "mediawatch init" in result.stderr


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('"0 7 * * 1-5"', '"0 25 * * *"').replace(
        'entities = ["Aleppo"]', 'entities = ["Atlantis"]'
    )
    text += text[text.index("[[outlets]]") : text.index("[[watch]]")]
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    rendered = err.value.render()
    assert "duplicate slug 'daily'" in rendered
    assert "invalid cron expression '0 25 * * *'" in rendered
    assert "'Atlantis' is not in [[watch]]" in rendered


def test_a_value_from_the_environment_is_reported_as_coming_from_it(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD)
    result = run_cli("status", config=cfg, env={"MEDIAWATCH_CRAWL__TIMEOUT_MINUTES": "soon"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "crawl.timeout_minutes (from $MEDIAWATCH_CRAWL__TIMEOUT_MINUTES)" in result.stderr


def test_a_byte_order_mark_is_not_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "mediawatch.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_settings(path).outlets[0].slug == "daily"
    result = run_cli("outlets", "list", config=path)
    assert "Traceback" not in result.stderr


def test_subscribers_may_name_entities_added_from_the_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    assert run_cli("init", config=cfg).returncode == 0
    added = run_cli("watch", "add", "Port Authority", "--kind", "actor", config=cfg)
    assert added.returncode == 0, added.stderr
    cfg.write_text(
        cfg.read_text()
        + '\n[[subscribers]]\nemail = "desk@example.org"\nentities = ["port authority"]\n'
    )
    synced = run_cli("outlets", "sync", config=cfg)
    assert synced.returncode == 0, synced.stderr
    cfg.write_text(cfg.read_text().replace('"port authority"', '"Harbour Board"'))
    bad = run_cli("outlets", "sync", config=cfg)
    assert bad.returncode == 2 and "'Harbour Board' is not in [[watch]]" in bad.stderr
