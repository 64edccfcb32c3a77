"""Outlet health on fixture sites that change between crawls: a feed that stops updating, a
redesign that drops the byline markup, a bot wall; the volume rule on a stored history; the
admins' mail, once per change; bot-wall pages recognised."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from alerts.health import run_health
from core.app import App
from core.config import HealthConfig
from core.health import assess
from mediawatch.siteserver import CHALLENGE, SiteServer
from models import (
    Appearance,
    CrawlRun,
    HealthEvent,
    Outlet,
    Source,
    make_engine,
    read_session,
    utcnow,
)
from pipeline.botwall import bot_wall_reason
from tests.conftest import run_cli
from tests.test_digest import SmtpServer

WORDS = [
    "council",
    "ministers",
    "river",
    "valley",
    "border",
    "talks",
    "water",
    "harvest",
    "clinic",
    "convoy",
    "envoy",
    "market",
    "winter",
    "drought",
    "shelter",
    "teachers",
    "farmers",
    "bridge",
    "road",
    "villages",
    "monitors",
    "report",
    "statement",
    "delegation",
    "ceasefire",
    "families",
    "returned",
    "schools",
    "reopened",
    "supplies",
    "arrived",
    "crossing",
    "officials",
    "confirmed",
    "region",
    "week",
    "morning",
    "evening",
    "quietly",
    "again",
    "despite",
    "warnings",
]
NAMES = ["Amal Haddad", "Pieter Vos", "Olga Smirnova", "Rafael Costa", "Hana Sato", "Idris Bello"]


class Gazette:
    """A small news site written into a folder: home, RSS feed, one page per article. Articles
    carry a byline (visible and in JSON-LD) until ``redesign()`` drops the byline markup."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.articles: list[tuple[int, bool]] = []  # (number, has byline)
        self.bylines = True
        self.feed_frozen = False  # the feed stops updating; the sitemap goes on
        (root / "gazette").mkdir(parents=True)
        (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
        self.write()

    def redesign(self) -> None:
        self.bylines = False

    def publish(self, n: int) -> None:
        start = len(self.articles)
        for i in range(start, start + n):
            self.articles.append((i, self.bylines))
            self._article(i, self.bylines)
        self.write()

    def _article(self, i: int, byline: bool) -> None:
        rng = random.Random(i)
        paras = "".join(
            "<p>" + " ".join(rng.choice(WORDS) for _ in range(70)).capitalize() + ".</p>"
            for _ in range(4)
        )
        when = (utcnow() - dt.timedelta(hours=i + 1)).isoformat(timespec="seconds")
        author = NAMES[i % len(NAMES)]
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": f"Report number {i} from the valley",
            "datePublished": when,
            **({"author": {"@type": "Person", "name": author}} if byline else {}),
        }
        visible = f'<p class="byline">By <a rel="author" href="/authors/{i}">{author}</a></p>'
        page = (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Report number {i} from the valley | The Gazette</title>"
            f"<meta property='og:type' content='article'>"
            f"<script type='application/ld+json'>{json.dumps(ld)}</script></head><body>"
            f"<article><h1>Report number {i} from the valley</h1>"
            f"{visible if byline else ''}<time datetime='{when}'>{when[:10]}</time>"
            f"{paras}</article></body></html>"
        )
        path = self.root / "gazette" / "news" / f"report-{i}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, "utf-8")

    def write(self) -> None:
        urls = "".join(
            f"<url><loc>{{{{BASE}}}}/gazette/news/report-{i}.html</loc></url>"
            for i, _ in self.articles
        )
        (self.root / "gazette" / "sitemap.xml").write_text(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>",
            "utf-8",
        )
        if self.feed_frozen:
            return
        items = "".join(
            f"<item><title>Report number {i}</title>"
            f"<link>{{{{BASE}}}}/gazette/news/report-{i}.html</link></item>"
            for i, _ in reversed(self.articles)
        )
        (self.root / "gazette" / "rss.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>The Gazette</title>'
            f"<link>{{{{BASE}}}}/gazette/</link>{items}</channel></rss>",
            "utf-8",
        )


@pytest.fixture
def gazette(tmp_path: Path) -> Iterator[tuple[Gazette, SiteServer]]:
    site = Gazette(tmp_path / "site")
    with SiteServer(site.root) as server:
        yield site, server


def gazette_config(
    tmp_path: Path, server: SiteServer, smtp_port: int = 25, *, sitemap: bool = False
) -> Path:
    cfg = tmp_path / "mediawatch.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///mediawatch.db"\n'
        "[crawl]\nretry_times = 0\nautothrottle = false\nworkers = 0\n"
        "[health]\nsilent_crawls = 2\nmin_articles_for_share = 3\nbot_wall_min = 3\n"
        f'[alerts]\nadmins = ["ops@example.org"]\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
        '[[outlets]]\nslug = "gazette"\nname = "The Gazette"\n'
        f'url = "{server.base}/gazette/"\nfeeds = ["{server.base}/gazette/rss.xml"]\n'
        + (f'sitemaps = ["{server.base}/gazette/sitemap.xml"]\n' if sitemap else "")
        + "article_patterns = ['/gazette/news/report-\\d+\\.html$']\n",
        "utf-8",
    )
    assert run_cli("init", config=cfg).returncode == 0
    return cfg


def crawl(cfg: Path) -> None:
    done = run_cli("crawl", "gazette", config=cfg)
    assert done.returncode in (0, 1), done.stdout + done.stderr


def health(cfg: Path) -> dict[str, object]:
    done = run_cli("outlets", "health", "--format", "json", config=cfg)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    return dict(row)


def engine_of(cfg: Path) -> Engine:
    return make_engine(f"sqlite:///{cfg.parent / 'mediawatch.db'}")


@pytest.mark.slow
def test_a_feed_that_stops_updating_goes_silent_and_the_admins_hear_it_once(
    tmp_path: Path, gazette: tuple[Gazette, SiteServer]
) -> None:
    site, server = gazette
    smtp = SmtpServer()
    smtp.start()
    try:
        cfg = gazette_config(tmp_path, server, smtp.port)
        site.publish(4)
        crawl(cfg)
        assert health(cfg)["state"] == "ok"
        assert run_health(App(cfg)).counts["changed"] == 0  # ok from the start: nothing to say
        crawl(cfg)
        crawl(cfg)  # two crawls with nothing new (silent_crawls = 2)
        row = health(cfg)
        assert row["state"] == "silent"
        assert "no new article in the last 2 crawls" in str(row["reason"])
        first = run_health(App(cfg))
        assert first.counts["changed"] == 1 and first.counts["sent"] == 1
        assert run_health(App(cfg)).counts["sent"] == 0  # once per change
        ((rcpt, msg),) = [(r, m) for r, m in smtp.inbox.messages]
        assert rcpt == ["ops@example.org"]
        assert "gazette silent" in msg["Subject"]
        text = msg.get_body(("plain",)).get_content()
        assert "ok -> SILENT" in text and "no new article" in text
        # `status` shows it too.
        status = json.loads(run_cli("status", "--format", "json", config=cfg).stdout)
        assert status["outlets"][0]["health"] == "silent"
        # The feed comes back: ok again, and the admins are told so.
        site.publish(2)
        crawl(cfg)
        assert health(cfg)["state"] == "ok"
        assert run_health(App(cfg)).counts["sent"] == 1
        assert "back to ok" in smtp.inbox.messages[-1][1]["Subject"]
        engine = engine_of(cfg)
        with read_session(engine) as s:
            states = [(e.previous, e.state) for e in s.scalars(select(HealthEvent))]
        engine.dispose()
        assert states == [("ok", "silent"), ("silent", "ok")]
    finally:
        smtp.stop()


@pytest.mark.slow
def test_a_redesign_that_drops_the_byline_markup_degrades_the_outlet(
    tmp_path: Path, gazette: tuple[Gazette, SiteServer]
) -> None:
    site, server = gazette
    cfg = gazette_config(tmp_path, server)
    site.publish(4)
    crawl(cfg)
    # What was stored so far becomes last month's baseline.
    engine = engine_of(cfg)
    with engine.begin() as conn:
        for app_id, seen in conn.execute(select(Appearance.id, Appearance.first_seen)).all():
            conn.execute(
                update(Appearance)
                .where(Appearance.id == app_id)
                .values(first_seen=seen - dt.timedelta(days=10))
            )
    site.redesign()
    site.publish(4)
    crawl(cfg)
    row = health(cfg)
    assert row["state"] == "degraded", row
    assert row["author_share"] == 0 and row["author_share_baseline"] == 1
    assert "author share fell to 0%" in str(row["reason"])
    assert row["date_share"] == 1  # dates still there: only the byline went
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("wall", [200, 403])
def test_a_bot_wall_is_a_wall_not_silence(
    tmp_path: Path, gazette: tuple[Gazette, SiteServer], wall: int
) -> None:
    site, server = gazette
    cfg = gazette_config(tmp_path, server)
    site.publish(3)
    crawl(cfg)
    server.bot_wall = wall
    crawl(cfg)
    crawl(cfg)  # as many empty crawls as make "silent"
    row = health(cfg)
    assert row["state"] == "degraded", row
    assert "bot wall" in str(row["reason"]) and row["bot_wall"] >= 1
    engine = engine_of(cfg)
    with read_session(engine) as s:
        errors = s.scalars(select(CrawlRun.errors).order_by(CrawlRun.id.desc())).first()
    engine.dispose()
    assert errors == {"feed_bot_wall": 1} if wall == 200 else {"feed_http_403": 1}


@pytest.mark.slow
def test_a_feed_that_stopped_changing_while_the_sitemap_goes_on_degrades_the_outlet(
    tmp_path: Path, gazette: tuple[Gazette, SiteServer]
) -> None:
    site, server = gazette
    cfg = gazette_config(tmp_path, server, sitemap=True)
    site.publish(4)
    crawl(cfg)
    site.feed_frozen = True
    site.publish(3)  # in the sitemap only
    crawl(cfg)
    assert health(cfg)["state"] == "ok"  # not long enough yet
    # Two days and a bit later (the feed's last change moved back; the sitemap changed "now").
    engine = engine_of(cfg)
    with engine.begin() as conn:
        feed_changed = conn.execute(
            select(Source.last_changed_at).where(Source.kind == "feed")
        ).scalar_one()
        conn.execute(
            update(Source)
            .where(Source.kind == "feed")
            .values(last_changed_at=feed_changed - dt.timedelta(hours=60))
        )
        kinds = {k: n for k, n in conn.execute(select(Source.kind, Source.entries))}
    engine.dispose()
    assert kinds == {"feed": 4, "sitemap": 7}
    row = health(cfg)
    assert row["state"] == "degraded", row
    assert row["stale_sources"] == [f"{server.base}/gazette/rss.xml"]
    assert "has listed the same 4 entries for 2.5 days" in str(row["reason"])


def test_the_volume_rule_compares_last_week_with_the_outlets_own_baseline(
    engine: Engine, tmp_path: Path
) -> None:
    from pipeline.extract import extract_page
    from pipeline.store import FetchInfo, store_page
    from tests.store_worker import outlet_ids, synthetic_page

    outlet = outlet_ids(engine)["synthetic"]
    now = utcnow()
    # Four baseline weeks of 8, 10, 9 and 11 articles, then 2 last week.
    weekly = [2, 8, 10, 9, 11]
    n = 0
    for week, count in enumerate(weekly):
        for k in range(count):
            html, url = synthetic_page(n)
            stored = store_page(engine, outlet, extract_page(html, url), FetchInfo(url))
            when = now - dt.timedelta(days=7 * week + 1, hours=k)
            with engine.begin() as conn:
                conn.execute(
                    update(Appearance)
                    .where(Appearance.article_id == stored.article_id)
                    .values(first_seen=when)
                )
            n += 1
    (h,) = [x for x in assess(engine, HealthConfig(), now) if x.slug == "synthetic"]
    assert h.new_7d == 2 and h.weekly_baseline == 9.5
    assert h.state == "degraded"
    assert "volume: 2 new articles last week" in h.reason
    # The same history with a normal last week is fine.
    calm = HealthConfig(volume_sigmas=10)
    (h2,) = [x for x in assess(engine, calm, now) if x.slug == "synthetic"]
    assert h2.state == "ok", h2.reason


def test_bot_wall_pages_are_recognised_and_articles_are_not() -> None:
    assert bot_wall_reason(CHALLENGE)
    assert bot_wall_reason(
        b"<html><head><title>Attention Required! | Cloudflare</title></head></html>"
    )
    assert bot_wall_reason("<html><head><title>Проверка браузера</title></head></html>".encode())
    assert bot_wall_reason(b"<html><body><div id='px-captcha'></div></body></html>")
    # Marks in any case; the reason names the first one in the page, as the page writes it.
    mixed = b"<html><body><p>Incapsula Incident ID: 42</p><script>var _pxAppId='x'</script>"
    assert bot_wall_reason(mixed) == "anti-bot service mark 'Incapsula Incident ID'"
    article = (
        b"<html><head><title>Why publishers put captcha walls in front of their sites</title>"
        b"</head><body>" + b"<p>Reporting on bot protection and captcha vendors.</p>" * 2000
    )
    assert bot_wall_reason(article) is None  # long: an article about walls is no wall
    assert (
        bot_wall_reason(b"<html><head><title>Talks resume in Geneva</title></head></html>") is None
    )


def test_disabled_outlets_are_not_assessed(engine: Engine) -> None:
    from tests.store_worker import outlet_ids

    outlet_ids(engine)
    with engine.begin() as conn:
        conn.execute(update(Outlet).where(Outlet.slug == "meridian").values(enabled=False))
    slugs = {h.slug for h in assess(engine, HealthConfig())}
    assert "meridian" not in slugs and "synthetic" in slugs
