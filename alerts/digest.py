"""Building a digest: a pure function from due items to subject, plain text and HTML."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from pipeline.flag import MARK_CLOSE, MARK_OPEN


@dataclass
class EntityHit:
    name: str
    kind: str
    snippet: str
    count: int = 1


@dataclass
class DigestItem:
    article_id: int
    title: str
    url: str
    outlet: str
    published_at: dt.datetime | None
    authors: list[str] = field(default_factory=list)
    is_opinion: bool = False
    also: list[tuple[str, str]] = field(
        default_factory=list
    )  # (outlet name, url) of republications
    entities: list[EntityHit] = field(default_factory=list)


@dataclass
class Digest:
    subject: str
    text: str
    html: str
    article_ids: list[int]


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marked_html"] = marked_html
    env.filters["marked_text"] = lambda s: s.replace(MARK_OPEN, "«").replace(MARK_CLOSE, "»")
    return env


def marked_html(snippet: str) -> Markup:
    """Escape the snippet, then turn the match markers into <mark>."""
    safe = str(escape(snippet))
    return Markup(
        safe.replace(MARK_OPEN, '<mark style="background:#fff3a0;padding:0 2px">').replace(
            MARK_CLOSE, "</mark>"
        )
    )


def one_line(text: str) -> str:
    """No CR/LF or other control characters: header-safe and list-safe."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


ENV = _env()


def group_by_entity(
    items: list[DigestItem],
) -> OrderedDict[str, list[tuple[DigestItem, EntityHit]]]:
    groups: dict[str, list[tuple[DigestItem, EntityHit]]] = {}
    for item in items:
        for hit in item.entities:
            groups.setdefault(hit.name, []).append((item, hit))
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].casefold()))
    return OrderedDict(ordered)


def local_time(when: dt.datetime, timezone: str) -> str:
    """'2024-03-04 07:30 CET': a time as the subscriber reads it."""
    local = when.astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or timezone)


def build_digest(
    subscriber_name: str,
    items: list[DigestItem],
    *,
    now: dt.datetime,
    opinion_only: bool = False,
    timezone: str = "UTC",
) -> Digest | None:
    """The digest for these items, or None when there is nothing to send. Times are shown in
    the subscriber's ``timezone``; every title and snippet carries its own direction (Arabic
    reads right to left beside English)."""
    if not items:
        return None
    items = [
        DigestItem(**{**item.__dict__, "title": one_line(item.title) or "(untitled)"})
        for item in items
    ]
    groups = group_by_entity(items)
    top = ", ".join(f"{name} ({len(hits)})" for name, hits in list(groups.items())[:3])
    n = len(items)
    subject = one_line(
        f"mediawatch: {n} new article{'s' if n != 1 else ''}" + (f" — {top}" if top else "")
    )
    ctx = {
        "name": subscriber_name,
        "items": items,
        "groups": groups,
        "now": now,
        "subject": subject,
        "opinion_only": opinion_only,
        "count": n,
        "when": lambda t: local_time(t, timezone),
    }
    return Digest(
        subject=subject,
        text=ENV.get_template("digest.txt.j2").render(ctx),
        html=ENV.get_template("digest.html.j2").render(ctx),
        article_ids=[i.article_id for i in items],
    )
