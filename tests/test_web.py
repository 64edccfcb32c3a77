"""The analysts' web view over HTTP (Starlette's TestClient), on both dialects: every page, the
exports in the CLI's shapes, hostile input, authentication."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from core.readmodel import load_articles
from mediawatch.web.app import create_app
from mediawatch.web.auth import WebAuth, hash_password
from models import Article, Author, Outlet, WatchEntity, make_engine, read_session
from tests.conftest import ingest_samples, run_cli
from tests.test_search import SEARCH_KEYS

OPED = "The road back to Geneva runs through Aleppo"


@pytest.fixture
def data(engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    ingest_samples(engine, tmp_path, db_url)
    return engine


@pytest.fixture
def client(data: Engine, db_url: str) -> Iterator[TestClient]:
    web_engine = make_engine(db_url, read_only=True)
    with TestClient(create_app(web_engine)) as c:
        yield c
    web_engine.dispose()


def ids(engine: Engine) -> dict[str, int]:
    with read_session(engine) as s:
        oped = s.scalar(select(Article.id).where(Article.title == OPED))
        lavrov = s.scalar(select(WatchEntity.id).where(WatchEntity.name == "Sergei Lavrov"))
        author = s.scalar(select(Author.id).where(Author.name == "Lena Marchetti"))
    assert oped and lavrov and author
    return {"oped": oped, "lavrov": lavrov, "author": author}


def test_home_lists_the_watchlist_outlets_and_latest(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Sergei Lavrov" in page.text and "meridian" in page.text
    assert 'href="/articles/' in page.text


def test_search_page_filters_like_the_cli_and_paginates(client: TestClient) -> None:
    page = client.get("/search", params={"actor": "лавров", "place": "حلب"})
    assert page.status_code == 200
    assert "Лавров обсудил с коллегами ситуацию вокруг Алеппо" in page.text
    assert "Water is the next front line" not in page.text
    opinion = client.get("/search", params={"q": "geneva", "opinion": "1"})
    assert OPED in opinion.text and "1 article" in opinion.text
    everything = client.get("/search")
    assert "10 articles" in everything.text
    unknown = client.get("/search", params={"actor": "Lavrof"})
    assert "closest: Sergei Lavrov" in unknown.text


def test_exports_have_the_clis_columns_and_keys(client: TestClient, data: Engine) -> None:
    params = {"actor": "Sergei Lavrov"}
    rows = client.get("/search.json", params=params).json()
    assert rows and set(rows[0]) >= SEARCH_KEYS
    exported = client.get("/search.csv", params=params)
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0][:4] == ["id", "published_at", "outlet", "title"]
    assert {r["id"] for r in rows} == {int(r[0]) for r in table[1:]}


def test_article_page_shows_the_republication_story_and_highlights(
    client: TestClient, data: Engine
) -> None:
    page = client.get(f"/articles/{ids(data)['oped']}")
    assert page.status_code == 200
    assert "The Levant Rights Observatory" in page.text and "Daily Meridian" in page.text
    assert page.text.count("original</span>") == 1 and "republished" in page.text
    assert "<mark" in page.text
    assert f'href="/authors/{ids(data)["author"]}"' in page.text
    assert client.get("/articles/999999").status_code == 404
    assert client.get("/articles/not-a-number").status_code == 404


def test_entity_outlet_and_author_pages_have_their_charts(client: TestClient, data: Engine) -> None:
    known = ids(data)
    entity = client.get(f"/entities/{known['lavrov']}")
    assert entity.status_code == 200
    assert "<svg" in entity.text and "Articles mentioning Sergei Lavrov" in entity.text
    assert "Mentioned with" in entity.text and "op-ed share" in entity.text
    outlet = client.get("/outlets/meridian")
    assert outlet.status_code == 200 and "with an author" in outlet.text
    author = client.get(f"/authors/{known['author']}")
    assert author.status_code == 200 and OPED in author.text
    assert client.get("/outlets/nope").status_code == 404
    assert client.get("/entities/0").status_code == 404


def test_healthz(client: TestClient) -> None:
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.json()["database"] == "ok"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '" onmouseover="x',
        "'; DROP TABLE articles; --",
        'NEAR("a" "b") OR * AND ( ',
        "\x00\x01",
    ],
)
def test_hostile_input_is_harmless_and_escaped(
    client: TestClient, data: Engine, hostile: str
) -> None:
    for params in ({"q": hostile}, {"actor": hostile, "outlet": hostile, "author": hostile}):
        page = client.get("/search", params=params)
        assert page.status_code in (200, 400)
        assert "<script>alert(1)</script>" not in page.text
        assert client.get("/search.json", params=params).status_code in (200, 400)
    with read_session(data) as s:
        assert s.scalar(select(Article.id).limit(1)) is not None


def test_the_web_connection_cannot_write(data: Engine, db_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    web_engine = make_engine(db_url, read_only=True)
    with pytest.raises(DBAPIError), web_engine.begin() as conn:
        conn.execute(text("DELETE FROM articles"))
    web_engine.dispose()
    with read_session(data) as s:
        assert s.scalar(select(Article.id).limit(1)) is not None


def test_login_is_required_when_users_are_configured(data: Engine, db_url: str) -> None:
    auth = WebAuth(users={"ana": hash_password("correct horse")})
    web_engine = make_engine(db_url, read_only=True)
    with TestClient(create_app(web_engine, auth, secret_key="k" * 32)) as c:
        first = c.get("/search", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        assert c.get("/healthz").status_code == 200
        form = c.get("/login").text
        token = form.split('name="csrf" value="')[1].split('"')[0]
        bad = c.post("/login", data={"user": "ana", "password": "wrong", "csrf": token})
        assert bad.status_code == 401
        no_csrf = c.post("/login", data={"user": "ana", "password": "correct horse"})
        assert no_csrf.status_code == 401
        token = c.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
        good = c.post(
            "/login",
            data={
                "user": "ana",
                "password": "correct horse",
                "csrf": token,
                "next": "//evil.example/",
            },
            follow_redirects=False,
        )
        assert good.status_code == 303 and good.headers["location"] == "/"
        assert c.get("/search").status_code == 200
    proxied = TestClient(create_app(web_engine, WebAuth(proxy_header="X-Remote-User")))
    assert proxied.get("/search", follow_redirects=False).status_code == 303
    assert proxied.get("/search", headers={"X-Remote-User": "ana"}).status_code == 200
    web_engine.dispose()


def test_the_read_model_is_the_same_for_web_and_cli(data: Engine, tmp_path: Path) -> None:
    known = ids(data)
    with read_session(data) as s:
        (view,) = load_articles(s, [known["oped"]])
    shown = json.loads(
        run_cli(
            "show", str(known["oped"]), "--format", "json", config=tmp_path / "mediawatch.toml"
        ).stdout
    )
    assert [a["url"] for a in shown["appearances"]] == [a.url for a in view.appearances]
    with read_session(data) as s:
        slugs = set(s.scalars(select(Outlet.slug)))
    assert {a.outlet for a in view.appearances} <= slugs


def test_mediawatch_web_serves_and_refuses_the_network_without_a_login(
    data: Engine, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.test_browser import free_port

    cfg = tmp_path / "mediawatch.toml"
    exposed = run_cli("web", "--host", "0.0.0.0", config=cfg)
    assert exposed.returncode == 2 and "without a login" in exposed.stderr
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediawatch.cli", "--config", str(cfg), "web", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert '"database":"ok"' in body.replace(" ", "")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/search?q=geneva", timeout=5) as r:
            assert OPED in r.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
