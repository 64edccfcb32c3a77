"""Finding article URLs: feeds (RSS/Atom), sitemaps (index, urlset, gzip, Google News) and
section pages. Pure functions over bytes, so tests call them directly.

Feeds and sitemaps are untrusted XML: a document that declares entities is refused outright
(no billion-laughs, no external entities), and lxml never resolves entities or fetches DTDs.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
from dataclasses import dataclass, field
from typing import Any

import feedparser
from lxml import etree

from pipeline.dates import parse_datetime

ENTITY_DECL_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
DOCTYPE_RE = re.compile(rb"<!DOCTYPE[^>]*\[", re.IGNORECASE)
MAX_GUNZIPPED = 50 * 1024 * 1024


class UnsafeXML(ValueError):
    """The document declares entities: refused."""


class MalformedDocument(ValueError):
    """Not a feed / sitemap we can read."""


@dataclass
class Entry:
    url: str
    published_at: dt.datetime | None = None
    title: str = ""
    authors: list[str] = field(default_factory=list)
    section: str = ""

    def hints(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "authors": self.authors,
            "section": self.section,
        }


def refuse_entities(body: bytes) -> None:
    head = body[:65536]
    if ENTITY_DECL_RE.search(head) or DOCTYPE_RE.search(head):
        raise UnsafeXML("document declares entities (internal DTD subset): refused")


def maybe_gunzip(body: bytes) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
        data = f.read(MAX_GUNZIPPED + 1)
    if len(data) > MAX_GUNZIPPED:
        raise MalformedDocument("gzipped sitemap larger than 50 MB")
    return data


def looks_like_sitemap(body: bytes) -> bool:
    head = body[:2048].lower()
    return b"<urlset" in head or b"<sitemapindex" in head


def parse_feed(body: bytes, url: str, content_type: str = "") -> tuple[list[Entry], str]:
    """Entries of an RSS or Atom feed (feedparser), and a complaint ("" when well-formed).
    A feed with errors but readable entries is used, as browsers and readers do."""
    refuse_entities(body)
    parsed = feedparser.parse(
        body,
        response_headers={
            "content-location": url,
            "content-type": content_type or "application/xml",
        },
    )
    exc = parsed.get("bozo_exception")
    # A feed served as text/html or with a charset the XML declaration contradicts is still fine.
    benign = isinstance(exc, feedparser.NonXMLContentType | feedparser.CharacterEncodingOverride)
    problem = repr(exc) if parsed.bozo and not benign else ""
    if problem and not parsed.entries:
        raise MalformedDocument(f"not a feed: {problem}")
    if not parsed.entries and not parsed.get("version"):
        # An HTML page where the feed was (a redesign, a bot wall): say so, never "no news".
        raise MalformedDocument("not a feed: no RSS or Atom document here")
    out = []
    for e in parsed.entries:
        link = e.get("link") or next(
            (lk.get("href") for lk in e.get("links", []) if lk.get("href")), None
        )
        if not link:
            continue
        when = None
        for key in ("published", "updated", "created"):
            if e.get(key):
                when = parse_datetime(e.get(key))
                if when:
                    break
        authors = [a.get("name", "") for a in e.get("authors", []) if a.get("name")] or (
            [e["author"]] if e.get("author") else []
        )
        tags = [t.get("term", "") for t in e.get("tags", []) if t.get("term")]
        out.append(
            Entry(
                link.strip(), when, (e.get("title") or "").strip(), authors, tags[0] if tags else ""
            )
        )
    return out, problem


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes) -> tuple[str, list[Entry]]:
    """('index', child sitemaps) or ('urlset', article entries). News sitemap dates and titles
    are read from ``news:publication_date`` / ``news:title``; else ``lastmod``."""
    body = maybe_gunzip(body)
    refuse_entities(body)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedDocument(f"not XML: {exc}") from None
    if root is None:
        raise MalformedDocument("empty document")
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        raise MalformedDocument(f"root element <{kind}> is not a sitemap")
    entries = []
    for node in root:
        if _local(node.tag) not in ("sitemap", "url"):
            continue
        fields: dict[str, str] = {}
        for child in node.iter():
            name = _local(child.tag)
            if name in ("loc", "lastmod", "publication_date", "title", "keywords") and child.text:
                fields.setdefault(name, child.text.strip())
        if not fields.get("loc"):
            continue
        when = parse_datetime(fields.get("publication_date")) or parse_datetime(
            fields.get("lastmod")
        )
        entries.append(Entry(fields["loc"], when, fields.get("title", "")))
    return ("index" if kind == "sitemapindex" else "urlset"), entries


PAGINATION_RE = re.compile(
    r"(?:/page/\d+/?$|[?&](?:page|paged|p|start|offset)=\d+$|/\d+/?$)", re.IGNORECASE
)
DEFAULT_ARTICLE_RE = re.compile(
    r"(?:/(?:19|20)\d{2}/\d{1,2}/(?:\d{1,2}/)?[^/]+|[?&]p=\d+$|/[a-z0-9\u0400-\u04ff\u0600-\u06ff%]+(?:-[a-z0-9\u0400-\u04ff\u0600-\u06ff%]+){3,}/?(?:\.html?)?$|/\d{5,}(?:[/-]|\.html?|$))",
    re.IGNORECASE,
)


def is_pagination(url: str) -> bool:
    return bool(PAGINATION_RE.search(url))
