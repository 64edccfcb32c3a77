"""`mediawatch outlets probe`: a WordPress-like site, a news-sitemap site, an Arabic and a Russian
site (the sample sites, served on loopback), each yielding a config that crawls the right
articles; a bot wall and robots.txt said out loud."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import OutletConfig
from crawler.probe import Sampled, propose_article_patterns, propose_opinion_patterns
from mediawatch.siteserver import SiteServer
from models import Appearance, Outlet, make_engine, read_session
from tests.conftest import run_cli, write_config

# site → (feeds, sitemaps, language, opinion patterns)
EXPECTED = {
    "observatory": (["feed/"], ["sitemap_index.xml"], "en", []),
    "meridian": ([], ["news-sitemap.xml"], "en", ["/opinion/"]),
    "alwatan": (["rss.xml"], [], "ar", ["/araa/"]),
    "vesti": ([], ["sitemap.xml"], "ru", ["/mnenie/"]),
}


def stored_urls(db: Path, slug: str) -> set[str]:
    engine = make_engine(f"sqlite:///{db}")
    try:
        with read_session(engine) as s:
            return set(s.scalars(select(Appearance.url).join(Outlet).where(Outlet.slug == slug)))
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("site", sorted(EXPECTED))
def test_probe_proposes_a_block_that_crawls_the_same_articles_as_the_hand_written_one(
    site: str, sites: SiteServer, tmp_path: Path
) -> None:
    home = f"{sites.base}/{site}/"
    cfg = tmp_path / "mediawatch.toml"
    # The sample articles are from 2024: no age limit, as in the demo config.
    cfg.write_text(
        '[database]\nurl = "sqlite:///probed.db"\n[crawl]\nmax_article_age_days = 0\n', "utf-8"
    )
    done = run_cli("outlets", "probe", home, "--delay", "0", config=cfg)
    assert done.returncode == 0, done.stderr
    # The block alone on stdout (`>> mediawatch.toml` works), the report on stderr.
    block = tomllib.loads(done.stdout)["outlets"][0]
    outlet = OutletConfig(**block)
    assert "[[outlets]]" not in done.stderr and "probed" in done.stderr
    feeds, sitemaps, language, opinion = EXPECTED[site]
    assert outlet.feeds == [home + f for f in feeds]
    assert outlet.sitemaps == [home + s for s in sitemaps]
    assert outlet.language == language
    assert outlet.opinion_patterns == opinion
    assert outlet.slug == site
    assert "authors on" in done.stderr

    # --add: appended to the config and synced; its crawl stores what the hand-written
    # demo config's crawl of the same outlet stores.
    assert run_cli("init", config=cfg).returncode == 0
    added = run_cli("outlets", "probe", home, "--delay", "0", "--add", "probed", config=cfg)
    assert added.returncode == 0, added.stderr
    assert "added [[outlets]] probed" in added.stderr and added.stdout == ""
    crawl = run_cli("crawl", "probed", config=cfg)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    ref_dir = tmp_path / "reference"
    ref_dir.mkdir()
    ref = write_config(ref_dir, sites.base)
    assert run_cli("init", config=ref).returncode == 0
    assert run_cli("crawl", site, config=ref).returncode == 0
    got = stored_urls(tmp_path / "probed.db", "probed")
    assert got and got == stored_urls(ref_dir / "mediawatch.db", site)
    # A second --add of the same slug is refused, and the config is left as it was.
    before = cfg.read_text("utf-8")
    again = run_cli("outlets", "probe", home, "--delay", "0", "--add", "probed", config=cfg)
    assert again.returncode == 2 and "already" in again.stderr
    assert cfg.read_text("utf-8") == before


def test_probe_says_when_a_bot_wall_answers(tmp_path: Path) -> None:
    root = tmp_path / "walled"
    root.mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (root / "index.html").write_text("<html><body>never served</body></html>")
    server = SiteServer(root).start()
    server.bot_wall = 403
    try:
        cfg = tmp_path / "mediawatch.toml"
        cfg.write_text('[database]\nurl = "sqlite:///x.db"\n', "utf-8")
        done = run_cli("outlets", "probe", server.base, "--delay", "0", config=cfg)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "bot wall at the home page" in done.stderr
    assert "no feed and no sitemap" in done.stderr


def test_probe_obeys_robots_txt(tmp_path: Path) -> None:
    root = tmp_path / "private"
    root.mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    (root / "index.html").write_text("<html><body>home</body></html>")
    cfg = tmp_path / "mediawatch.toml"
    cfg.write_text('[database]\nurl = "sqlite:///x.db"\n', "utf-8")
    with SiteServer(root) as server:
        done = run_cli("outlets", "probe", server.base, "--delay", "0", config=cfg)
        assert server.counts["/"] == 0 and server.counts["/robots.txt"] == 1
    assert done.returncode == 2
    assert "robots.txt" in done.stderr and "forbids" in done.stderr


def test_article_patterns_generalise_dates_numbers_and_amp() -> None:
    home = "https://news.example/"
    urls = [
        "https://news.example/world/2024/03/05/a-story/",
        "https://news.example/world/2024/03/06/another-story/amp/",
        "https://news.example/opinion/2024/03/04/a-column/",
        "https://news.example/sport/2023/12/31/a-match/",
    ]
    (pattern,) = propose_article_patterns(urls, home)
    assert pattern == r"/\w+/\d{4}/\d{2}/\d{2}/[^/]+/(amp/)?$"
    assert all(re.search(pattern, u) for u in urls)
    assert not re.search(pattern, "https://news.example/world/")
    ids = ["https://ru.example/news/12345.html", "https://ru.example/news/67890.html"]
    assert propose_article_patterns(ids, "https://ru.example/") == [r"/news/\d+\.html$"]


def test_opinion_patterns_come_from_the_sections_of_op_eds_and_opinion_names() -> None:
    home = "https://news.example/"
    urls = [
        "https://news.example/views/2024/03/05/a-column/",
        "https://news.example/world/2024/03/06/a-report/",
        "https://news.example/kommentarii/2024/03/06/zametka/",
    ]
    samples = [
        Sampled(urls[0], is_opinion=True),
        Sampled(urls[1], is_opinion=False),
        Sampled(urls[2], is_opinion=True),
    ]
    assert propose_opinion_patterns(samples, urls, home) == ["/views/", "/kommentarii/"]
    # A folder shared by op-eds and news says nothing.
    mixed = [Sampled(urls[1], is_opinion=True), Sampled(urls[1].replace("a-report", "b"))]
    assert propose_opinion_patterns(mixed, [urls[1], urls[1].replace("a-report", "b")], home) == []
