"""Shared fixtures: real SQLite and PostgreSQL databases, the sample-site server, config builders.

PostgreSQL: one migrated template database per test session, and a fresh copy of it for every
test that asks (CREATE DATABASE … TEMPLATE is fast). Locally those tests skip when the server is
unreachable; with CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from core import db
from mediawatch.siteserver import SiteServer
from models import make_engine

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "mediawatch" / "demo" / "sites"
DEMO_CONFIG = ROOT / "mediawatch" / "demo" / "mediawatch.toml.in"
PG_ADMIN = os.environ.get("MEDIAWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SAMPLE_BASE = "http://sample.test"


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)


def _sa_url(dbname: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{dbname}"


@pytest.fixture(autouse=True, scope="session")
def matcher_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compiled watchlists go to a folder of this test run, not the user's ~/.cache."""
    os.environ["MEDIAWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("matcher-cache"))
    yield
    os.environ.pop("MEDIAWATCH_CACHE_DIR", None)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        conn = _pg_admin()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN} in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    name = f"mw_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_sa_url(name))
    db.upgrade(engine)
    engine.dispose()
    yield name
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    name = f"mw_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _sa_url(name)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mw.db'}"
    engine = make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each dialect."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    yield e
    e.dispose()


@pytest.fixture(scope="session")
def sites() -> Iterator[SiteServer]:
    with SiteServer(SITES, slow_seconds=4) as server:
        yield server


def write_config(
    directory: Path, base: str, db_url: str | None = None, extra: str = "", **crawl: object
) -> Path:
    """The demo config pointed at ``base`` (and ``db_url``), with [crawl] keys overridden."""
    text = DEMO_CONFIG.read_text("utf-8").replace("{{BASE}}", base)
    if db_url:
        text = text.replace('url = "sqlite:///mediawatch.db"', f'url = "{db_url}"')
    for key, value in crawl.items():
        rendered = (
            str(value).lower()
            if isinstance(value, bool)
            else repr(value)
            if isinstance(value, str)
            else str(value)
        )
        line = f"{key} = {rendered}"
        if re.search(rf"^{key} = .*$", text, flags=re.M):
            text = re.sub(rf"^{key} = .*$", line.replace("\\", "\\\\"), text, count=1, flags=re.M)
        else:
            text = text.replace("[crawl]\n", f"[crawl]\n{line}\n", 1)
    path = directory / "mediawatch.toml"
    path.write_text(text + "\n" + extra, "utf-8")
    return path


def run_cli(
    *args: str, config: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mediawatch.cli"]
    if config is not None:
        cmd += ["--config", str(config)]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MEDIAWATCH_CONFIG", None)
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=str(config.parent) if config else None,
    )


def sample_page(rel: str) -> tuple[bytes, str]:
    """A sample-site file with its base URL filled in, and its URL on the sample host."""
    body = (SITES / rel).read_bytes().replace(b"{{BASE}}", SAMPLE_BASE.encode())
    url = f"{SAMPLE_BASE}/{rel}".removesuffix("index.html")
    if "/p/" in rel:
        site, pid = rel.split("/p/")
        url = f"{SAMPLE_BASE}/{site}/?p={pid.removesuffix('.html')}"
    return body, url


SAMPLE_PAGES = [
    ("meridian", "meridian/opinion/2024/03/04/the-road-back-to-geneva/amp/index.html"),
    ("meridian", "meridian/world/2024/03/05/monitors-report-calm-in-idlib/index.html"),
    ("meridian", "meridian/world/2024/03/06/ministers-meet-in-tehran/index.html"),
    ("observatory", "observatory/p/101.html"),
    ("observatory", "observatory/p/102.html"),
    ("observatory", "observatory/p/103.html"),
    ("observatory", "observatory/p/104.html"),
    ("alwatan", "alwatan/araa/2024/03/05/article-1.html"),
    ("alwatan", "alwatan/news/2024/03/06/article-2.html"),
    ("vesti", "vesti/mnenie/2024/03/05/pochemu-moskve-nevygodna-vojna.html"),
    ("vesti", "vesti/news/2024/03/06/lavrov-obsudil-situaciyu.html"),
]


def ingest_samples(engine: Engine, tmp_path: Path, db_url: str, *, flag_them: bool = True) -> Path:
    """Sync the demo config and store the sample pages directly (no crawl), then flag them."""
    from sqlalchemy import select

    from core.configfile import load_settings
    from core.flagging import flag
    from core.sync import sync_config
    from models import Outlet, read_session
    from pipeline.extract import extract_page
    from pipeline.store import FetchInfo, store_page

    cfg = write_config(tmp_path, SAMPLE_BASE, db_url)
    sync_config(engine, load_settings(cfg))
    with read_session(engine) as s:
        ids = dict(s.execute(select(Outlet.slug, Outlet.id)).all())
    headers = {
        "alwatan/news/2024/03/06/article-2.html": "text/html; charset=iso-8859-1",
        "vesti/news/2024/03/06/lavrov-obsudil-situaciyu.html": "text/html; charset=utf-8",
    }
    for slug, rel in SAMPLE_PAGES:
        body, url = sample_page(rel)
        store_page(
            engine,
            ids[slug],
            extract_page(body, url, content_type=headers.get(rel)),
            FetchInfo(url),
        )
    if flag_them:
        flag(engine)
    return cfg
