"""Digests through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select, update

from alerts.digest import DigestItem, EntityHit, build_digest
from alerts.run import send_digests
from core.config import Settings
from core.configfile import load_settings
from models import Article, Delivery, Mention, Subscriber, WatchEntity, in_transaction, read_session
from tests.conftest import ingest_samples, run_cli


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def setup(engine: Engine, db_url: str, tmp_path: Path, smtp: SmtpServer) -> tuple[Engine, Settings]:
    cfg = ingest_samples(engine, tmp_path, db_url)
    settings = load_settings(cfg)
    settings.smtp.port = smtp.port
    return engine, settings


def bodies(msg: Message) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def delivered(engine: Engine) -> int:
    with read_session(engine) as s:
        return s.scalar(select(func.count()).select_from(Delivery)) or 0


def test_each_subscriber_gets_one_mail_with_both_parts_and_their_items(
    setup: tuple[Engine, Settings], smtp: SmtpServer
) -> None:
    engine, settings = setup
    result = send_digests(engine, settings)
    assert result.counts["sent"] == 2 and result.failed == 0
    by_rcpt = {rcpts[0]: msg for rcpts, msg in smtp.inbox.messages}
    assert set(by_rcpt) == {"analyst@example.org", "opinion-desk@example.org"}
    text, html = bodies(by_rcpt["analyst@example.org"])
    # Subscribed to Lavrov and Aleppo: English, Arabic and Russian pieces that name them.
    for title in (
        "The road back to Geneva runs through Aleppo",
        "Лавров обсудил с коллегами ситуацию вокруг Алеппо",
        "هدوء حذر في ريف حلب بعد أيام من القصف",
    ):
        assert title in text and title in html
    assert "Water is the next front line" not in text  # mentions neither
    assert "Also published by" in html and "The Levant Rights Observatory" in html  # republication
    assert "<mark" in html and "«" in text
    # In the subscriber's zone (Europe/Berlin): the op-ed went out at 06:30 UTC.
    assert "2024-03-04 07:30 CET" in text and "2024-03-04 07:30 CET" in html
    assert "UTC" not in text
    # Arabic titles and snippets set their own direction.
    arabic_title = html.index("هدوء حذر في ريف حلب")
    assert 'dir="auto"' in html[html.rfind("<div", 0, arabic_title) : arabic_title]
    msg = by_rcpt["analyst@example.org"]
    assert msg["Message-ID"] and msg["Date"] and msg["List-Unsubscribe"]
    assert "Aleppo" in msg["Subject"]
    opinion_text, _ = bodies(by_rcpt["opinion-desk@example.org"])
    assert "Monitors report a fragile calm" not in opinion_text  # opinion only
    assert "The road back to Geneva" in opinion_text


def test_a_second_run_sends_nothing(setup: tuple[Engine, Settings], smtp: SmtpServer) -> None:
    engine, settings = setup
    send_digests(engine, settings)
    n = delivered(engine)
    again = send_digests(engine, settings)
    assert again.counts["sent"] == 0 and len(smtp.inbox.messages) == 2 and delivered(engine) == n


def test_server_down_marks_nothing_then_sends_once_when_it_is_back(
    setup: tuple[Engine, Settings], smtp: SmtpServer
) -> None:
    engine, settings = setup
    smtp.stop()
    down = send_digests(engine, settings)
    assert down.failed == 2 and delivered(engine) == 0
    assert send_digests(engine, settings).counts["skipped"] == 2  # backing off
    in_transaction(
        engine,
        lambda s: s.execute(
            update(Subscriber).values(retry_after=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        ),
    )
    smtp.start()
    up = send_digests(engine, settings)
    assert up.counts["sent"] == 2 and len(smtp.inbox.messages) == 2
    assert send_digests(engine, settings).counts["sent"] == 0


def test_digest_command_sends_at_once_once_the_mail_server_is_fixed(
    setup: tuple[Engine, Settings], smtp: SmtpServer, tmp_path: Path
) -> None:
    engine, settings = setup
    cfg = tmp_path / "mediawatch.toml"
    env = {"MEDIAWATCH_SMTP__PORT": str(smtp.port)}
    smtp.stop()
    down = run_cli("digest", config=cfg, env=env)
    assert down.returncode == 1 and "analyst@example.org: NOT sent" in down.stdout
    assert delivered(engine) == 0
    # The scheduler's run waits out the back-off…
    assert send_digests(engine, settings).counts["skipped"] == 2
    smtp.start()
    # …a person who fixed the server and asks now gets the mail now, and says who got what.
    now = run_cli("digest", config=cfg, env=env)
    assert now.returncode == 0, now.stdout + now.stderr
    assert (
        "analyst@example.org: sent" in now.stdout and "opinion-desk@example.org: sent" in now.stdout
    )
    assert len(smtp.inbox.messages) == 2
    again = run_cli("digest", config=cfg, env=env)
    assert again.returncode == 0 and "nothing new" in again.stdout
    assert len(smtp.inbox.messages) == 2


def test_two_runs_at_once_never_send_an_article_twice(
    setup: tuple[Engine, Settings], smtp: SmtpServer
) -> None:
    engine, settings = setup
    threads = [threading.Thread(target=send_digests, args=(engine, settings)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_rcpt: dict[str, list[str]] = {}
    for rcpts, msg in smtp.inbox.messages:
        per_rcpt.setdefault(rcpts[0], []).append(bodies(msg)[0])
    assert all(len(mails) == 1 for mails in per_rcpt.values()), {
        k: len(v) for k, v in per_rcpt.items()
    }


def test_hostile_titles_are_escaped_and_cannot_inject_headers(
    setup: tuple[Engine, Settings], smtp: SmtpServer
) -> None:
    engine, settings = setup
    with read_session(engine) as s:
        art_id = s.scalar(
            select(Mention.article_id)
            .join(WatchEntity)
            .where(WatchEntity.name == "Aleppo")
            .limit(1)
        )
    evil = "<script>alert('x')</script> Aleppo\r\nBcc: victim@evil.example\r\n\r\nbody"
    in_transaction(
        engine, lambda s: s.execute(update(Article).where(Article.id == art_id).values(title=evil))
    )
    send_digests(engine, settings, only="analyst@example.org")
    ((rcpts, msg),) = smtp.inbox.messages
    assert rcpts == ["analyst@example.org"]
    assert msg["Bcc"] is None and "\n" not in msg["Subject"]
    _text, html = bodies(msg)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_dry_run_writes_previews_and_marks_nothing(
    setup: tuple[Engine, Settings], smtp: SmtpServer, tmp_path: Path
) -> None:
    engine, settings = setup
    out = tmp_path / "preview"
    result = send_digests(engine, settings, dry_run=True, out=out)
    assert result.counts["previews"] == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "analyst_example.org.eml",
        "analyst_example.org.html",
        "opinion-desk_example.org.eml",
        "opinion-desk_example.org.html",
    ]
    assert smtp.inbox.messages == [] and delivered(engine) == 0


def test_build_digest_is_pure_and_nothing_due_means_no_mail() -> None:
    now = dt.datetime(2024, 3, 7, tzinfo=dt.UTC)
    assert build_digest("A", [], now=now) is None
    item = DigestItem(
        1,
        "Title",
        "https://x.example/a",
        "X",
        now,
        ["Jane Roe"],
        True,
        [],
        [EntityHit("Aleppo", "place", "in ⟦Aleppo⟧ today")],
    )
    d1 = build_digest("A", [item], now=now)
    d2 = build_digest("A", [item], now=now)
    assert d1 == d2 and d1 is not None and d1.subject == "mediawatch: 1 new article — Aleppo (1)"
