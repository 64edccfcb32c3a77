"""What realistic multi-outlet crawls must get right: republications across outlets in any crawl
order, every URL spelling met, and non-article pages that match the article patterns.

Real `mediawatch crawl` processes against fixture sites served on 127.0.0.1, two of them on two
ports of one host (two ports are two sites); assertions on the stored rows and on what the
servers were asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from mediawatch.siteserver import SiteServer
from models import Appearance, Article, CrawlRun, Outlet, Url, make_engine, read_session
from pipeline.extract import OutletRules, extract_page
from tests.conftest import run_cli

pytestmark = pytest.mark.slow
FIXTURE_SITES = Path(__file__).parent / "fixtures" / "sites"
ORIGIN_PAGE = "/2024/05/14/water-talks/"
REPOST_PAGE = "/opinion/2024/05/16/water-talks-reposted/"


@pytest.fixture(scope="module")
def syndication() -> Iterator[tuple[SiteServer, SiteServer]]:
    """The original's site and a republisher's site: one host, two ports."""
    with (
        SiteServer(FIXTURE_SITES / "syndication" / "origin") as origin,
        SiteServer(FIXTURE_SITES / "syndication" / "reposter") as reposter,
    ):
        reposter.substitutions["ORIGIN"] = origin.base
        yield origin, reposter


def syndication_config(directory: Path, db_url: str, origin: str, reposter: str) -> Path:
    return outlets_config(
        directory,
        db_url,
        f"""
[[outlets]]
slug = "origin"
name = "The Origin Ledger"
url = "{origin}/"
feeds = ["{origin}/feed.xml"]
article_patterns = ['/\\d{{4}}/\\d{{2}}/\\d{{2}}/[^/]+/$']

[[outlets]]
slug = "reposter"
name = "Basin Watch"
url = "{reposter}/"
feeds = ["{reposter}/feed.xml"]
article_patterns = ['/opinion/\\d{{4}}/']
opinion_patterns = ['/opinion/']
""",
    )


def outlets_config(directory: Path, db_url: str, outlets: str) -> Path:
    """A config with these [[outlets]], no age limit (the fixture articles are from 2024), and
    the database initialised."""
    path = directory / "mediawatch.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[crawl]\nmax_article_age_days = 0\n{outlets}', "utf-8"
    )
    assert run_cli("init", config=path).returncode == 0
    return path


def crawl(cfg: Path, *slugs: str) -> None:
    result = run_cli("crawl", *slugs, config=cfg)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("order", ["original-first", "republication-first", "together"])
@pytest.mark.parametrize("db", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)])
def test_republication_on_another_port_is_its_own_appearance_of_one_article(
    tmp_path: Path,
    syndication: tuple[SiteServer, SiteServer],
    request: pytest.FixtureRequest,
    order: str,
    db: str,
) -> None:
    origin, reposter = syndication
    cfg = syndication_config(tmp_path, request.getfixturevalue(db), origin.base, reposter.base)
    origin.reset()
    if order == "original-first":
        crawl(cfg, "origin")
        crawl(cfg, "reposter")
    elif order == "republication-first":
        crawl(cfg, "reposter")
        crawl(cfg, "origin")
    else:
        crawl(cfg, "origin", "reposter")

    # The original outlet fetched its own page: the republication never made it "known".
    assert origin.hits(ORIGIN_PAGE) == 1
    engine = make_engine(request.getfixturevalue(db))
    with read_session(engine) as s:
        arts = list(s.scalars(select(Article)))
        assert len(arts) == 1
        art = arts[0]
        apps = {
            slug: (app_id, url)
            for slug, app_id, url in s.execute(
                select(Outlet.slug, Appearance.id, Appearance.url).join(
                    Outlet, Outlet.id == Appearance.outlet_id
                )
            )
        }
        url_owner = dict(
            s.execute(
                select(Url.url, Outlet.slug)
                .join(Appearance, Appearance.id == Url.appearance_id)
                .join(Outlet, Outlet.id == Appearance.outlet_id)
            ).all()
        )
    assert set(apps) == {"origin", "reposter"}
    assert apps["origin"][1] == origin.base + ORIGIN_PAGE
    assert apps["reposter"][1] == reposter.base + REPOST_PAGE
    assert art.original_appearance_id == apps["origin"][0]
    # No spelling of the original's URL is filed under the republisher.
    assert url_owner[origin.base + ORIGIN_PAGE] == "origin"
    assert all(owner == "reposter" for u, owner in url_owner.items() if u.startswith(reposter.base))
    # Whoever came first, the work is the original's: its title, its author, not the
    # republisher's "originally published by" line.
    assert art.title == "Shared rivers need shared rules, not more dams"
    assert "originally published" not in art.text
    assert "Every summer the same map" in art.text
    engine.dispose()


def test_a_canonical_under_another_outlets_url_on_a_shared_host_is_a_republication() -> None:
    base = "http://news.example"
    html = FIXTURE_SITES / "syndication" / "reposter" / REPOST_PAGE.strip("/") / "index.html"
    body = html.read_bytes().replace(b"{{ORIGIN}}", f"{base}/ledger".encode())
    body = body.replace(b"{{BASE}}", f"{base}/watch".encode())
    url = f"{base}/watch{REPOST_PAGE}"
    own = OutletRules(name="Basin Watch", url=f"{base}/watch/")
    shared = OutletRules(
        name="Basin Watch", url=f"{base}/watch/", other_outlet_urls=[f"{base}/ledger/"]
    )
    # Without knowing the other outlet, a same-host canonical is the page's own spelling…
    assert extract_page(body, url, outlet=own).canonical_url == f"{base}/ledger{ORIGIN_PAGE}"
    # …knowing it, the page keeps its own URL and points at the original.
    page = extract_page(body, url, outlet=shared)
    assert page.canonical_url == url
    assert page.canonical_target == f"{base}/ledger{ORIGIN_PAGE}"


def test_every_url_spelling_met_is_recorded(
    tmp_path: Path, syndication: tuple[SiteServer, SiteServer], sqlite_url: str
) -> None:
    origin, reposter = syndication
    cfg = syndication_config(tmp_path, sqlite_url, origin.base, reposter.base)
    crawl(cfg, "origin")
    engine = make_engine(sqlite_url)
    with read_session(engine) as s:
        urls = dict(s.execute(select(Url.url, Url.kind)).all())
    feed_spelling = origin.base + ORIGIN_PAGE + "?utm_source=rss&utm_medium=rss"
    assert urls[feed_spelling] == "discovered"
    assert urls[origin.base + ORIGIN_PAGE] == "canonical"
    # Known under any spelling: the next crawl asks for nothing again.
    origin.reset()
    crawl(cfg, "origin")
    assert origin.hits(ORIGIN_PAGE) == 0


@pytest.fixture(scope="module")
def mixed_site() -> Iterator[SiteServer]:
    with SiteServer(FIXTURE_SITES / "mixed") as server:
        yield server


def dropped(engine: Engine) -> dict[str, int]:
    with read_session(engine) as s:
        run = s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run is not None
        return dict(run.dropped)


@pytest.mark.parametrize("db", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)])
def test_non_article_pages_matching_the_patterns_are_dropped_in_any_language(
    tmp_path: Path, mixed_site: SiteServer, request: pytest.FixtureRequest, db: str
) -> None:
    db_url = request.getfixturevalue(db)
    cfg = outlets_config(
        tmp_path,
        db_url,
        f"""
[[outlets]]
slug = "harbour"
name = "Harbour Post"
url = "{mixed_site.base}/"
sitemaps = ["{mixed_site.base}/sitemap.xml"]
article_patterns = ['/(en|ru|ar)/']
""",
    )
    crawl(cfg, "harbour")
    engine = make_engine(db_url)
    with read_session(engine) as s:
        stored = set(s.scalars(select(Appearance.url)))
    base = mixed_site.base
    assert stored == {
        f"{base}/en/2024/06/03/port-strike-ends/",
        f"{base}/ru/2024/06/04/zasuha-na-yuge/",
        f"{base}/ar/2024/06/05/mufawadat-al-miyah/",
    }
    # Five pages were fetched and refused, each with its reason counted on the run.
    reasons = dropped(engine)
    assert reasons.get("listing", 0) + reasons.get("not-article", 0) == 5, reasons
    assert reasons.get("not-article") == 1  # the Russian staff page: no date, byline or markup
    # URLs never fetched are explained on the run too.
    assert reasons.get("not_article_url") == 1  # the shop page
    engine.dispose()


@pytest.mark.parametrize(
    ("path", "kind"),
    [("ru/redakciya/", "not-article"), ("ar/qism/siyasa/", "listing")],
)
def test_non_article_signals_do_not_depend_on_english_words(path: str, kind: str) -> None:
    body = (FIXTURE_SITES / "mixed" / path / "index.html").read_bytes()
    body = body.replace(b"{{BASE}}", b"http://harbour.example")
    # A URL with no telltale word in it: only the page's structure can tell.
    page = extract_page(body, "http://harbour.example/ru/stranica-7/")
    assert page.page_type == kind
