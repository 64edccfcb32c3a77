"""The web view in a real browser: Debian's Chromium driven by Playwright, against `uvicorn`
serving the app on 127.0.0.1. Locally these skip when Chromium is not installed; in CI
(`.ci/run` installs it) they must run.

With MEDIAWATCH_SCREENSHOTS=1 the pages are also saved to docs/screenshots/ (the README shows
them).
"""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from mediawatch.web.app import create_app
from models import Article, WatchEntity, make_engine, read_session
from tests.conftest import ROOT, ingest_samples

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "docs" / "screenshots"
OPED = "The road back to Geneva runs through Aleppo"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run installs the Debian package")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    import uvicorn

    engine = make_engine(sqlite_url)
    ingest_samples(engine, tmp_path, sqlite_url)
    web_engine = make_engine(sqlite_url, read_only=True)
    port = free_port()
    config = uvicorn.Config(
        create_app(web_engine), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", engine
    srv.should_exit = True
    thread.join(timeout=10)
    web_engine.dispose()
    engine.dispose()


@pytest.fixture
def page(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        yield context.new_page()
        context.close()
        browser.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("MEDIAWATCH_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_search_then_open_an_article_shows_who_published_first(
    server: tuple[str, Engine], page: Any
) -> None:
    base, _ = server
    page.goto(base + "/")
    page.fill("#q", "geneva")
    page.check("input[name=opinion]")
    page.click("button[type=submit]")
    page.wait_for_url("**/search?**")
    assert "q=geneva" in page.url and "opinion=1" in page.url  # the URL holds the query
    shot(page, "search")
    page.click(f"text={OPED}")
    page.wait_for_url("**/articles/*")
    rows = page.locator("table.appearances tbody tr")
    assert rows.count() == 2
    original = page.locator("table.appearances tbody tr", has_text="original")
    assert original.count() == 1 and "Daily Meridian" in original.inner_text()
    assert page.locator("article.text mark").count() > 0
    shot(page, "article")


def test_an_entity_page_draws_its_timeline_with_data_points(
    server: tuple[str, Engine], page: Any
) -> None:
    base, engine = server
    with read_session(engine) as s:
        lavrov = s.scalar(select(WatchEntity.id).where(WatchEntity.name == "Sergei Lavrov"))
    page.goto(f"{base}/entities/{lavrov}")
    svg = page.locator("#timeline svg")
    assert svg.count() == 1
    assert "Articles mentioning Sergei Lavrov" in svg.inner_html()
    # One bar per (outlet, day) with articles: the chart holds the data, not just axes.
    bars = page.locator("#timeline svg .bar rect, #timeline svg rect.rect")
    assert bars.count() > 0
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(bars.count())]
    assert max(heights) > 0
    shot(page, "entity")


def test_csv_export_downloads_the_search(server: tuple[str, Engine], page: Any) -> None:
    base, engine = server
    page.goto(base + "/search?actor=Sergei+Lavrov")
    with page.expect_download() as info:
        page.click("text=Download CSV")
    download = info.value
    content = Path(download.path()).read_text("utf-8")
    table = list(csv.reader(io.StringIO(content)))
    assert table[0][:4] == ["id", "published_at", "outlet", "title"]
    with read_session(engine) as s:
        titles = set(s.scalars(select(Article.title)))
    assert {row[3] for row in table[1:]} <= titles and len(table) > 2
