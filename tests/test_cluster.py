"""Distributed mode on real PostgreSQL: `mediawatch worker` processes (three at most) taking outlet
crawls of fixture sites on three loopback hosts from Procrastinate, killed, stopped, raced.

The guarantees of issue 17, one test each: every due outlet crawled, never one outlet (or more
than ``per_host`` outlets of one host) at once, every article stored once; a worker killed with
SIGKILL has its crawl taken over by another worker (heartbeats, not the crawl timeout) and leaves
no orphaned crawl process nor a half-written run; SIGTERM hands a running crawl back; a digest
goes out once with several workers; one enqueuer per database, the second in standby.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from mediawatch.siteserver import SiteServer
from models import Appearance, Article, CrawlRun, Outlet, make_engine, read_session
from tests.conftest import ROOT, SITES, run_cli
from tests.test_digest import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
# (slug, site folder, host index): the same sample sites on three hosts, so the same articles
# are republished by several outlets and must still be stored once.
OUTLETS = [
    ("meridian-a", "meridian", 0),
    ("vesti-a", "vesti", 0),
    ("meridian-b", "meridian", 1),
    ("observatory-b", "observatory", 1),
    ("alwatan-c", "alwatan", 2),
    ("vesti-c", "vesti", 2),
]
SITE_KEYS = {
    "meridian": (
        'sitemaps = ["{b}/meridian/news-sitemap.xml"]\n'
        "article_patterns = ['/meridian/[a-z]+/\\d{{4}}/\\d{{2}}/\\d{{2}}/[^/]+/(amp/)?$']\n"
        "opinion_patterns = ['/opinion/']\n"
    ),
    "observatory": (
        'feeds = ["{b}/observatory/feed/"]\n'
        'sitemaps = ["{b}/observatory/sitemap_index.xml"]\n'
        "article_patterns = ['/observatory/\\?p=\\d+$']\n"
    ),
    "alwatan": (
        'feeds = ["{b}/alwatan/rss.xml"]\n'
        "article_patterns = ['/alwatan/\\w+/\\d{{4}}/\\d{{2}}/\\d{{2}}/[\\w-]+\\.html$']\n"
    ),
    "vesti": (
        'sitemaps = ["{b}/vesti/sitemap.xml"]\n'
        "article_patterns = ['/vesti/\\w+/\\d{{4}}/\\d{{2}}/\\d{{2}}/[\\w-]+\\.html$']\n"
    ),
}


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[SiteServer]]:
    servers = [SiteServer(SITES, host=h).start() for h in HOSTS]
    yield servers
    for s in servers:
        s.stop()


def write_cluster_config(
    directory: Path,
    db_url: str,
    servers: list[SiteServer],
    outlets: list[tuple[str, str, int]] = OUTLETS,
    *,
    drain_seconds: float = 20,
    smtp_port: int = 25,
    subscriber: bool = False,
) -> Path:
    parts = [
        f'[database]\nurl = "{db_url}"\n',
        "[crawl]\nmax_article_age_days = 0\ntimeout_minutes = 3\ndownload_timeout_seconds = 10\n"
        "retry_times = 0\nworkers = 0\nautothrottle = false\n",
        # One job at a time per worker: with more, the first worker to wake could take every
        # job as host locks free up (the queue wakes workers on new jobs, not on freed locks),
        # and "several workers took part" would depend on timing.
        "[cluster]\nheartbeat_seconds = 1\nstalled_seconds = 8\nconcurrency = 1\n"
        f"drain_seconds = {drain_seconds}\nper_host = 1\n",
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n',
    ]
    for slug, site, host in outlets:
        base = servers[host].base
        parts.append(
            f'[[outlets]]\nslug = "{slug}"\nname = "{slug}"\nurl = "{base}/{site}/"\n'
            + SITE_KEYS[site].format(b=base)
        )
    if subscriber:
        parts.append(
            '[[watch]]\nname = "Sergei Lavrov"\nkind = "actor"\naliases = ["Lavrov", "Лавров@ru"]\n'
            '[[subscribers]]\nemail = "desk@example.org"\nentities = ["Sergei Lavrov"]\n'
        )
    path = directory / "mediawatch.toml"
    path.write_text("\n".join(parts), "utf-8")
    return path


class Workers:
    """`mediawatch worker` processes, each with its own log file."""

    def __init__(self, cfg: Path) -> None:
        self.cfg = cfg
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, n: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(n):
            log = (self.cfg.parent / f"worker-{len(self.procs)}.log").open("wb")
            proc = subprocess.Popen(
                [sys.executable, "-m", "mediawatch.cli", "--config", str(self.cfg), "worker"],
                cwd=self.cfg.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONFIG"},
            )
            self.procs.append(proc)
            started.append(proc)
        return started

    def log(self, i: int) -> str:
        return (self.cfg.parent / f"worker-{i}.log").read_text("utf-8", errors="replace")

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Path], Workers]]:
    made: list[Workers] = []

    def make(cfg: Path) -> Workers:
        made.append(Workers(cfg))
        return made[-1]

    yield make
    for w in made:
        w.stop_all()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def queue_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
        ).scalar()


def runs(engine: Engine) -> list[tuple[str, str, object, object, str]]:
    with read_session(engine) as s:
        return [
            (slug, status, started, finished, message)
            for slug, status, started, finished, message in s.execute(
                select(
                    Outlet.slug,
                    CrawlRun.status,
                    CrawlRun.started_at,
                    CrawlRun.finished_at,
                    CrawlRun.message,
                )
                .join(Outlet)
                .order_by(CrawlRun.id)
            )
        ]


def stored(engine: Engine) -> tuple[int, set[tuple[str, str]]]:
    """Articles, and every (outlet, url) appearance."""
    with read_session(engine) as s:
        n = s.scalar(select(func.count()).select_from(Article)) or 0
        pairs = {
            (slug, url)
            for slug, url in s.execute(
                select(Outlet.slug, Appearance.url).join(
                    Appearance, Appearance.outlet_id == Outlet.id
                )
            )
        }
        return n, pairs


def reference_crawl(
    tmp_path: Path, servers: list[SiteServer], outlets: list[tuple[str, str, int]]
) -> tuple[int, set[tuple[str, str]]]:
    """The same outlets crawled one after another by `mediawatch crawl` into SQLite."""
    ref = tmp_path / "reference"
    ref.mkdir()
    cfg = write_cluster_config(ref, f"sqlite:///{ref / 'ref.db'}", servers, outlets)
    assert run_cli("init", config=cfg).returncode == 0
    done = run_cli("crawl", config=cfg, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    engine = make_engine(f"sqlite:///{ref / 'ref.db'}")
    try:
        return stored(engine)
    finally:
        engine.dispose()


def test_three_workers_crawl_every_outlet_once_politely_and_store_each_article_once(
    tmp_path: Path, pg_url: str, hosts: list[SiteServer], workers: Callable[[Path], Workers]
) -> None:
    cfg = write_cluster_config(tmp_path, pg_url, hosts)
    assert run_cli("outlets", "sync", config=cfg).returncode == 0
    engine = make_engine(pg_url)
    pool = workers(cfg)
    pool.start(3)
    slugs = [slug for slug, _, _ in OUTLETS]
    queued = run_cli("outlets", "crawl-now", *slugs, config=cfg)
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.count("queued as job") == len(slugs)
    # Queued twice: still one job per outlet.
    again = run_cli("outlets", "crawl-now", slugs[0], config=cfg)
    assert "already queued" in again.stdout or "queued as job" in again.stdout
    wait_for(
        "every outlet crawled",
        lambda: (
            len({r[0] for r in runs(engine) if r[1] != "running"}) == len(slugs)
            and queue_empty(engine)
        ),
    )
    done = runs(engine)
    assert all(status == "ok" for _, status, *_ in done), done
    # Never two crawls of one host at once (per_host = 1), hence never one outlet twice at once.
    host_of = {slug: host for slug, _, host in OUTLETS}
    for i, (a, _, a_start, a_end, _) in enumerate(done):
        for b, _, b_start, b_end, _ in done[i + 1 :]:
            if host_of[a] == host_of[b]:
                assert a_end <= b_start or b_end <= a_start, (a, b)  # type: ignore[operator]
    # Several workers took part.
    busy = [i for i in range(3) if "crawl started" in pool.log(i)]
    assert len(busy) >= 2, [pool.log(i)[-2000:] for i in range(3)]
    # Every article once, every appearance there: as one process crawling them in turn.
    assert stored(engine) == reference_crawl(tmp_path, hosts, OUTLETS)
    # The flag job followed the crawls.
    wait_for("flagging", lambda: queue_empty(engine) and unflagged(engine) == 0, timeout=60)
    status = run_cli("status", "--format", "json", config=cfg)
    assert status.returncode == 0
    import json

    cluster = json.loads(status.stdout)["cluster"]
    assert cluster["workers_alive"] == 3
    assert all(w["name"] and ":" in w["name"] for w in cluster["workers"])
    engine.dispose()


def unflagged(engine: Engine) -> int:
    with read_session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Article).where(Article.flagged_at.is_(None)))
            or 0
        )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


def test_a_worker_killed_mid_crawl_is_taken_over_and_leaves_nothing_half_done(
    tmp_path: Path, pg_url: str, hosts: list[SiteServer], workers: Callable[[Path], Workers]
) -> None:
    outlets = [("meridian-a", "meridian", 0)]
    cfg = write_cluster_config(tmp_path, pg_url, hosts, outlets)
    assert run_cli("outlets", "sync", config=cfg).returncode == 0
    engine = make_engine(pg_url)
    pool = workers(cfg)
    hosts[0].page_delay_seconds = 1.5  # a crawl of several seconds, to be killed in the middle
    try:
        (first,) = pool.start(1)
        assert run_cli("outlets", "crawl-now", "meridian-a", config=cfg).returncode == 0

        def crawl_pid() -> int | None:
            with read_session(engine) as s:
                return s.scalar(select(CrawlRun.pid).where(CrawlRun.status == "running"))

        wait_for("the crawl to start", lambda: crawl_pid() is not None, timeout=60)
        orphan = crawl_pid()
        assert orphan is not None
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        # The orphaned crawl process notices its worker is gone and stops by itself.
        wait_for("the orphaned crawl to stop", lambda: not alive(orphan), timeout=40)
        pool.start(1)
        wait_for(
            "another worker to take the outlet over",
            lambda: any(r[1] == "ok" for r in runs(engine)) and queue_empty(engine),
            timeout=120,
        )
        # Taken over by heartbeat (stalled_seconds = 8), not by the 3-minute crawl timeout.
        assert time.monotonic() - killed_at < 100
    finally:
        hosts[0].page_delay_seconds = 0.0
    done = runs(engine)
    assert [r[1] for r in done] == ["failed", "ok"], done
    assert "orphaned" in done[0][4] or "stopped responding" in done[0][4]
    assert "job of a dead worker handed back" in pool.log(1)
    # Nothing half-written: the same articles as one uninterrupted crawl.
    assert stored(engine) == reference_crawl(tmp_path, hosts, outlets)
    engine.dispose()


def test_sigterm_hands_a_running_crawl_back_to_the_queue(
    tmp_path: Path, pg_url: str, hosts: list[SiteServer], workers: Callable[[Path], Workers]
) -> None:
    outlets = [("vesti-c", "vesti", 2)]
    cfg = write_cluster_config(tmp_path, pg_url, hosts, outlets, drain_seconds=0.5)
    assert run_cli("outlets", "sync", config=cfg).returncode == 0
    engine = make_engine(pg_url)
    pool = workers(cfg)
    hosts[2].page_delay_seconds = 1.5
    try:
        (first,) = pool.start(1)
        assert run_cli("outlets", "crawl-now", "vesti-c", config=cfg).returncode == 0
        wait_for("the crawl to start", lambda: any(r[1] == "running" for r in runs(engine)), 60)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
        # Handed back, not lost: queued again, and nobody is running it.
        with engine.connect() as conn:
            states = conn.execute(
                text("SELECT status::text, attempts FROM procrastinate_jobs")
            ).all()
        assert states == [("todo", 1)], states
        assert not any(r[1] == "running" for r in runs(engine))
    finally:
        hosts[2].page_delay_seconds = 0.0
    pool.start(1)
    wait_for(
        "the crawl to be finished elsewhere",
        lambda: queue_empty(engine) and any(r[1] == "ok" for r in runs(engine)),
    )
    assert stored(engine) == reference_crawl(tmp_path, hosts, outlets)
    engine.dispose()


def test_a_digest_goes_out_once_with_several_workers(
    tmp_path: Path, pg_url: str, hosts: list[SiteServer], workers: Callable[[Path], Workers]
) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        outlets = [("vesti-a", "vesti", 0)]
        cfg = write_cluster_config(
            tmp_path, pg_url, hosts, outlets, smtp_port=smtp.port, subscriber=True
        )
        assert run_cli("outlets", "sync", config=cfg).returncode == 0
        assert run_cli("crawl", config=cfg, timeout=300).returncode == 0
        assert run_cli("flag", config=cfg).returncode == 0
        engine = make_engine(pg_url)
        pool = workers(cfg)
        pool.start(3)
        from core.app import App
        from mediawatch.cluster import Cluster

        cluster = Cluster(App(cfg))
        try:
            for _ in range(5):
                cluster.defer_digest("desk@example.org")
                time.sleep(0.2)
        finally:
            cluster.close()
        wait_for("the digests", lambda: queue_empty(engine), timeout=60)
        time.sleep(1)
        rcpts = [r[0] for r, _ in smtp.inbox.messages]
        assert rcpts == ["desk@example.org"], rcpts
        engine.dispose()
    finally:
        smtp.stop()


def test_one_enqueuer_per_database_and_a_standby_that_takes_over(
    tmp_path: Path, pg_url: str, hosts: list[SiteServer]
) -> None:
    outlets = [("vesti-a", "vesti", 0), ("alwatan-c", "alwatan", 2)]
    cfg = write_cluster_config(tmp_path, pg_url, hosts, outlets)
    assert run_cli("init", config=cfg).returncode == 0
    engine = make_engine(pg_url)
    env = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONFIG"}

    def enqueuer(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg), "run", "--distributed"],
            cwd=tmp_path,
            stdout=(tmp_path / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
        )

    def log(name: str) -> str:
        return (tmp_path / f"{name}.log").read_text("utf-8", errors="replace")

    first = enqueuer("first")
    try:
        wait_for(
            "the first enqueuer", lambda: "enqueuer (distributed mode) running" in log("first"), 60
        )
        second = enqueuer("second")
        try:
            wait_for("the standby", lambda: "standby" in log("second"), 60)
            # The active one queued the outlets that were due (never crawled): once each.
            with engine.connect() as conn:
                queued = sorted(
                    conn.execute(
                        text(
                            "SELECT args->>'slug' FROM procrastinate_jobs WHERE task_name = 'mediawatch.crawl_outlet'"
                        )
                    ).scalars()
                )
            assert queued == ["alwatan-c", "vesti-a"]
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0
            wait_for(
                "the standby to take over",
                lambda: "enqueuer (distributed mode) running" in log("second"),
                timeout=60,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert "Traceback" not in log("first") + log("second")
    engine.dispose()


def test_sqlite_refuses_distributed_mode_with_a_clear_message(
    tmp_path: Path, sqlite_url: str
) -> None:
    cfg = tmp_path / "mediawatch.toml"
    cfg.write_text(f'[database]\nurl = "{sqlite_url}"\n', "utf-8")
    for args in (("worker",), ("run", "--distributed"), ("outlets", "crawl-now", "x")):
        done = run_cli(*args, config=cfg, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert "needs PostgreSQL" in done.stderr and "sqlite" in done.stderr
        assert "Traceback" not in done.stderr
    # [cluster] enabled makes `run` the enqueuer: refused on SQLite too, and by scheduler.py.
    cfg.write_text(f'[database]\nurl = "{sqlite_url}"\n[cluster]\nenabled = true\n', "utf-8")
    done = run_cli("run", config=cfg, timeout=60)
    assert done.returncode == 2 and "needs PostgreSQL" in done.stderr
    script = subprocess.run(
        [sys.executable, str(ROOT / "scheduler.py"), "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 2 and "mediawatch run" in script.stderr
