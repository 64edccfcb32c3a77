"""Real crawls: `mediawatch crawl` and `scrapy crawl` processes against the sample sites served on
127.0.0.1. Assertions are on database rows, crawl stats and what the server was asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.app import App
from core.crawl import WORKERS_ENV, crawl_env
from crawler.__main__ import extracts_in_workers
from mediawatch.siteserver import SiteServer
from models import Appearance, Article, CrawlRun, Outlet, make_engine, read_session
from tests.conftest import run_cli, write_config

pytestmark = pytest.mark.slow
OUTLETS = ["meridian", "observatory", "alwatan", "vesti", "faulty", "broken"]
DOWN = """
[[outlets]]
slug = "down"
name = "Unreachable Times"
url = "http://127.0.0.1:9/"
feeds = ["http://127.0.0.1:9/feed/"]
"""


def runs(engine: Engine) -> dict[str, CrawlRun]:
    with read_session(engine) as s:
        rows = s.execute(
            select(Outlet.slug, CrawlRun)
            .join(CrawlRun, CrawlRun.outlet_id == Outlet.id)
            .order_by(CrawlRun.id)
        ).all()
    return {slug: run for slug, run in rows}  # the latest run per outlet


def articles(engine: Engine) -> list[Any]:
    with read_session(engine) as s:
        return list(
            s.execute(
                select(
                    Article.title, Article.text, Article.language, Article.is_opinion, Article.id
                )
            ).all()
        )


@pytest.fixture
def crawled(
    tmp_path: Path, sites: SiteServer, request: pytest.FixtureRequest
) -> tuple[Path, Engine]:
    db_url = request.getfixturevalue(getattr(request, "param", "sqlite_url"))
    cfg = write_config(
        tmp_path, sites.base, db_url, extra=DOWN, download_timeout_seconds=2.0, retry_times=1
    )
    assert run_cli("init", config=cfg).returncode == 0
    sites.reset()
    result = run_cli("crawl", *OUTLETS, config=cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    engine = make_engine(str(db_url))
    return cfg, engine


@pytest.mark.parametrize(
    "crawled", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)], indirect=True
)
def test_a_crawl_of_the_sample_outlets_lands_deduplicated_articles(
    crawled: tuple[Path, Engine],
) -> None:
    _, engine = crawled
    got = articles(engine)
    titles = {t for t, *_ in got}
    # meridian 3 + observatory 4 (one is meridian's op-ed) + alwatan 2 + vesti 2 + faulty 1 + broken 1
    assert len(got) == 12, titles
    with read_session(engine) as s:
        (oped_id,) = s.scalars(
            select(Article.id).where(Article.title == "The road back to Geneva runs through Aleppo")
        )
        apps = s.execute(
            select(Outlet.slug, Appearance.id).join(Outlet).where(Appearance.article_id == oped_id)
        ).all()
        original = s.scalar(select(Article.original_appearance_id).where(Article.id == oped_id))
    assert sorted(slug for slug, _ in apps) == ["meridian", "observatory"]
    assert dict((a, s) for s, a in apps)[original] == "meridian"
    r = runs(engine)
    assert all(r[o].status == "ok" for o in OUTLETS)
    # Both outlets run at once: either may store the op-ed first, the other sees a duplicate.
    both = (r["observatory"], r["meridian"])
    assert sum(x.new for x in both) == 6 and sum(x.duplicates for x in both) == 1
    # One listed sitemap entry is a 2019 page that no longer exists.
    assert r["meridian"].errors == {"article_http_404": 1}


def test_encodings_come_out_as_correct_text(crawled: tuple[Path, Engine]) -> None:
    _, engine = crawled
    by_lang: dict[str, list[str]] = {}
    for title, text, lang, *_ in articles(engine):
        by_lang.setdefault(lang, []).append(title + "\n" + text)
    ar = "\n".join(by_lang["ar"])
    ru = "\n".join(by_lang["ru"])
    assert "هدوء حذر في ريف حلب" in ar  # windows-1256 served as iso-8859-1
    assert "الطريق إلى جنيف يمر عبر حلب" in ar  # windows-1256 declared in <meta>
    assert "Лавров обсудил с коллегами" in ru  # koi8-r served as utf-8
    assert "Почему Москве невыгодна" in ru  # cp1251 declared in <meta>
    assert "\ufffd" not in ar + ru and "Ã" not in ar + ru


def test_crawl_logs_carry_no_python_warnings(crawled: tuple[Path, Engine]) -> None:
    """An analyst reads these logs when a crawl goes wrong: every line in them is about the
    crawl. A component of ours that Scrapy calls the deprecated way (a pipeline returning a
    Deferred, as with Scrapy 2.19) logs a warning at every crawl."""
    cfg, _ = crawled
    logs = sorted((cfg.parent / "logs").glob("crawl-*.log"))
    assert len(logs) == len(OUTLETS)
    for log in logs:
        warned = [ln for ln in log.read_text("utf-8").splitlines() if "[py.warnings]" in ln]
        assert not warned, f"{log.name}: {warned}"


def test_bad_pages_are_counted_and_the_crawl_goes_on(
    crawled: tuple[Path, Engine], sites: SiteServer
) -> None:
    _, engine = crawled
    r = runs(engine)
    faulty, broken = r["faulty"], r["broken"]
    assert faulty.new == 1  # the one good page
    assert {
        "article_http_500",
        "article_http_404",
        "article_http_410",
        "article_DownloadTimeoutError",
        "article_redirect_loop",
        "article_DownloadCancelledError",
    } <= set(faulty.errors), faulty.errors
    assert faulty.dropped.get("robots_forbidden") == 1
    assert sites.hits("/faulty/private/") == 0  # robots.txt obeyed
    assert sites.hits("/faults/500") == 2  # retried once, then counted
    assert broken.errors.get("feed_unsafe") == 1 and broken.errors.get("feed_malformed") == 1
    assert broken.new == 1  # the gzipped sitemap still led to its article
    assert (
        sites.hits("/broken/2024/03/07/never-fetched/") == 0
    )  # nothing from the entity bomb was used


def test_second_crawl_downloads_no_article_again(
    crawled: tuple[Path, Engine], sites: SiteServer
) -> None:
    cfg, engine = crawled
    sites.reset()
    result = run_cli("crawl", "meridian", "observatory", "alwatan", "vesti", config=cfg)
    assert result.returncode == 0, result.stderr
    article_paths = [
        p for p in sites.counts if "?p=" in p or (p.endswith((".html", "/")) and ("/20" in p))
    ]
    # The one sitemap entry that answered 404 is asked again (it may exist by now); nothing stored is.
    assert article_paths == ["/meridian/opinion/2019/01/02/an-old-column/"], article_paths
    r = runs(engine)
    assert r["observatory"].skipped_known >= 4 and r["observatory"].new == 0
    assert len(articles(engine)) == 12


def test_recent_articles_are_revisited_with_conditional_get(
    crawled: tuple[Path, Engine], sites: SiteServer, tmp_path: Path
) -> None:
    cfg, engine = crawled
    # Treat everything stored as recent: each known article is asked for with If-None-Match.
    text = cfg.read_text().replace("[crawl]\n", "[crawl]\nrevisit_hours = 10000000\n", 1)
    cfg.write_text(text)
    sites.reset()
    result = run_cli("crawl", "observatory", "vesti", config=cfg)
    assert result.returncode == 0, result.stderr
    assert sum(sites.not_modified.values()) == 6  # 4 observatory + 2 vesti articles answered 304
    r = runs(engine)
    assert r["observatory"].unchanged == 4 and r["vesti"].unchanged == 2
    assert r["observatory"].new == r["observatory"].updated == 0


def test_an_unreachable_outlet_fails_alone_and_the_command_exits_1(
    crawled: tuple[Path, Engine],
) -> None:
    cfg, engine = crawled
    result = run_cli("crawl", "down", "vesti", config=cfg)
    assert result.returncode == 1
    r = runs(engine)
    assert r["down"].status == "failed" and r["vesti"].status == "ok"


def test_unknown_outlet_is_a_usage_error(crawled: tuple[Path, Engine]) -> None:
    cfg, _ = crawled
    result = run_cli("crawl", "no-such-outlet", config=cfg)
    assert result.returncode == 2 and "unknown outlet" in result.stderr


def test_scrapy_crawl_outlet_works_directly(tmp_path: Path, sites: SiteServer) -> None:
    cfg = write_config(tmp_path, sites.base)
    assert run_cli("init", config=cfg).returncode == 0
    env = _by_hand_env(cfg)
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "outlet", "-a", "outlet=vesti"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    engine = make_engine(f"sqlite:///{tmp_path / 'mediawatch.db'}")
    with read_session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 2
        assert s.scalar(select(CrawlRun.status)) == "ok"


def test_the_crawl_process_exits_with_the_crawls_status(tmp_path: Path, sites: SiteServer) -> None:
    """`python -m crawler SLUG` (what `mediawatch crawl` starts) runs the crawl through Scrapy's
    API, ends without tearing its interpreter down, and still reports how the crawl went: 0 for
    a crawl that ran, 1 for one that could not start (its traceback in the log), 2 for a wrong
    command line."""
    cfg = write_config(tmp_path, sites.base)
    assert run_cli("init", config=cfg).returncode == 0
    env = _by_hand_env(cfg)

    def crawl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crawler", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = crawl("vesti")
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "Spider closed (finished)" in ok.stderr  # the log's last lines were flushed
    # No remote-control server (Scrapy 2.19 starts one by default: it runs the code it is sent).
    assert "Remote control" not in ok.stderr
    unknown = crawl("no-such-outlet")
    assert unknown.returncode == 1 and "unknown outlet 'no-such-outlet'" in unknown.stderr
    usage = crawl()
    assert usage.returncode == 2 and "usage: python -m crawler" in usage.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'mediawatch.db'}")
    with read_session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 2


def test_a_crawl_process_is_told_whether_it_extracts_in_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process that starts a crawl has read the config: it tells the crawl process whether
    to start the extraction forkserver, which that process does before reading the config."""
    told = {
        workers: crawl_env(App(write_config(tmp_path, "http://127.0.0.1:9", workers=workers)))
        for workers in (0, 1, 2)
    }
    assert {w: env[WORKERS_ENV] for w, env in told.items()} == {0: "0", 1: "1", 2: "1"}
    default = crawl_env(App(write_config(tmp_path, "http://127.0.0.1:9")))
    assert default[WORKERS_ENV] == "1"  # one worker per core
    zero = write_config(tmp_path, "http://127.0.0.1:9", workers=0)
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert extracts_in_workers(str(zero))  # what it was told wins over the config
    monkeypatch.setenv(WORKERS_ENV, "0")
    assert not extracts_in_workers(None)
    monkeypatch.delenv(WORKERS_ENV)
    assert not extracts_in_workers(str(zero))  # run by hand: the config says
    (tmp_path / "two").mkdir()
    two = write_config(tmp_path / "two", "http://127.0.0.1:9", workers=2)
    assert extracts_in_workers(str(two))


def test_a_crawl_turned_down_leaves_no_trace(tmp_path: Path, sites: SiteServer) -> None:
    """`mediawatch crawl SLUG` starts the outlet's crawl process held, before it checks the
    outlet against the database; an outlet it then turns down (here: disabled) is not crawled,
    its held process ends, and its last crawl log stays as it was."""
    cfg = write_config(tmp_path, sites.base)
    assert run_cli("init", config=cfg).returncode == 0
    assert run_cli("outlets", "disable", "vesti", config=cfg).returncode == 0
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "crawl-vesti.log").write_text("the last crawl's log\n")
    hits = sites.hits()
    proc = run_cli("crawl", "vesti", config=cfg, timeout=120)
    assert proc.returncode == 2 and "disabled" in proc.stderr
    assert sorted(p.name for p in logs.iterdir()) == ["crawl-vesti.log"]
    assert (logs / "crawl-vesti.log").read_text() == "the last crawl's log\n"
    engine = make_engine(f"sqlite:///{tmp_path / 'mediawatch.db'}")
    with read_session(engine) as s:
        assert s.scalar(select(func.count()).select_from(CrawlRun)) == 0
    assert _crawl_processes_of(cfg) == []
    assert sites.hits() == hits  # nothing was fetched


def _by_hand_env(cfg: Path) -> dict[str, str]:
    """The environment of a crawl run by hand: the config and Scrapy's settings module, nothing
    that `mediawatch crawl` adds (core.crawl.crawl_env)."""
    return {
        **os.environ,
        "MEDIAWATCH_CONFIG": str(cfg),
        "SCRAPY_SETTINGS_MODULE": "crawler.settings",
    }


def _crawl_processes_of(cfg: Path) -> list[int]:
    """Live crawl processes (``python -m crawler``) started for this config."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"crawler" in cmd and str(cfg.resolve()).encode() in env:
            found.append(int(entry.name))
    return found


def test_the_last_batch_is_stored_once_nothing_more_is_coming(
    tmp_path: Path, sites: SiteServer
) -> None:
    """A batch that is not full is written as soon as no other page is being downloaded or
    extracted: with an hour's ``store_batch_ms`` the crawl still ends (its items wait for their
    batch, so a crawl that waited for the timer would run into the test's timeout)."""
    cfg = write_config(tmp_path, sites.base, store_batch_ms=3_600_000, store_batch_pages=1000)
    assert run_cli("init", config=cfg).returncode == 0
    proc = run_cli("crawl", "vesti", config=cfg, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    engine = make_engine(f"sqlite:///{tmp_path / 'mediawatch.db'}")
    with read_session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 2
        assert s.scalar(select(CrawlRun.status)) == "ok"


def _descendants(pid: int) -> list[int]:
    """Live processes below ``pid`` (the extraction pool's forkserver and its workers)."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if "Z" not in fields.get("State", ""):
            parents[int(status.parent.name)] = int(fields.get("PPid", "0").strip() or 0)
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


@pytest.mark.parametrize("db", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)])
def test_a_crawl_killed_with_sigkill_while_its_pool_extracts_loses_nothing_stored(
    tmp_path: Path, db: str, request: pytest.FixtureRequest
) -> None:
    """SIGKILL to the crawl process in the middle of a crawl with two extraction workers and
    batched stores: every page it stored is whole, its pool goes with it, the pages of its
    unwritten batch are lost, and the next crawl stores exactly those, once."""
    import signal
    import time

    from bench.crawl import build_site

    db_url = str(request.getfixturevalue(db))
    root = tmp_path / "site"
    build_site(root, 60)
    with SiteServer(root) as server:
        server.page_delay_seconds = 0.15  # a crawl of several seconds
        cfg = tmp_path / "mediawatch.toml"
        cfg.write_text(
            f'[database]\nurl = "{db_url}"\n'
            "[crawl]\nmax_article_age_days = 0\nautothrottle = false\nworkers = 2\n"
            "concurrency_per_domain = 4\n"
            f'[[outlets]]\nslug = "bench"\nname = "Bench"\nurl = "{server.base}/bench/"\n'
            f'sitemaps = ["{server.base}/bench/sitemap.xml"]\n'
            "article_patterns = ['/bench/2024/']\n",
            "utf-8",
        )
        assert run_cli("outlets", "sync", config=cfg).returncode == 0
        engine = make_engine(db_url)
        first = subprocess.Popen(
            [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg), "crawl", "bench"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            pid = None
            while time.monotonic() < deadline:
                with read_session(engine) as s:
                    stored = s.scalar(select(func.count()).select_from(Appearance)) or 0
                    pid = s.scalar(select(CrawlRun.pid).where(CrawlRun.status == "running"))
                if pid and stored >= 5:
                    break
                time.sleep(0.2)
            assert pid, "the crawl never started storing"
            pool = _descendants(pid)
            assert pool, "no extraction workers under the crawl process"
            os.kill(pid, signal.SIGKILL)  # the crawl process itself, mid-crawl
            first.wait(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
        with read_session(engine) as s:
            kept = s.scalar(select(func.count()).select_from(Article)) or 0
        assert 0 < kept < 60
        # The pool's processes go with their crawl.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pool):
            alive = [p for p in pool if "Z" not in _state(p)]
            if not alive:
                break
            time.sleep(0.5)
        assert not [p for p in pool if Path(f"/proc/{p}").exists() and "Z" not in _state(p)]
        server.page_delay_seconds = 0
        again = run_cli("crawl", "bench", config=cfg)
        assert again.returncode == 0, again.stdout + again.stderr
    with read_session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 60
        assert s.scalar(select(func.count()).select_from(Appearance)) == 60
        assert not s.scalar(
            select(func.count()).select_from(Article).where(~Article.appearances.any())
        )
        runs = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    assert [r.status for r in runs] == ["failed", "ok"]
    # What the killed crawl lost (its batch not yet committed) is exactly what the next one
    # stored: nothing stored twice, nothing missing.
    assert runs[1].new == 60 - kept
    engine.dispose()


def _state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "Z"
    return next((ln for ln in text.splitlines() if ln.startswith("State:")), "State:\tZ")
