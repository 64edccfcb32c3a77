"""Feed and sitemap parsing on their own (the crawl tests exercise them through the spider)."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest

from crawler.discovery import (
    MalformedDocument,
    UnsafeXML,
    is_pagination,
    looks_like_sitemap,
    parse_feed,
    parse_sitemap,
)

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Harbour Post</title>
<item><title>Dockworkers end strike</title><link>https://harbour.example/2024/06/03/strike/?utm_source=rss</link>
<dc:creator>Sam Okafor</dc:creator><pubDate>Mon, 03 Jun 2024 11:00:00 +0200</pubDate><category>Labour</category></item>
<item><title>No link here</title><guid isPermaLink="false">x-1</guid></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Вести Востока</title>
<entry><title>Лавров обсудил ситуацию</title><link rel="alternate" href="https://vesti.example/news/1.html"/>
<author><name>Ирина Соколова</name></author><updated>2024-03-06T14:00:00+03:00</updated></entry>
</feed>""".encode()

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://daily.example/opinion/2024/03/04/geneva/</loc><lastmod>2024-03-10T00:00:00Z</lastmod>
<news:news><news:publication_date>2024-03-04T07:30:00+01:00</news:publication_date><news:title>The road back</news:title></news:news></url>
<url><lastmod>2024-03-10T00:00:00Z</lastmod></url>
<url><loc>https://daily.example/world/2024/03/05/idlib/</loc><lastmod>2024-03-05</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://daily.example/post-sitemap.xml</loc><lastmod>2024-03-06T10:00:00Z</lastmod></sitemap>
</sitemapindex>"""


def test_rss_entries_keep_link_date_author_and_section() -> None:
    entries, problem = parse_feed(RSS, "https://harbour.example/feed/")
    assert problem == ""
    (entry,) = entries  # the item without a link is skipped
    assert entry.url == "https://harbour.example/2024/06/03/strike/?utm_source=rss"
    assert entry.published_at == dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC)
    assert entry.authors == ["Sam Okafor"] and entry.section == "Labour"
    assert entry.hints()["title"] == "Dockworkers end strike"


def test_atom_entries_in_cyrillic_with_their_offsets() -> None:
    (entry,) = parse_feed(ATOM, "https://vesti.example/atom.xml")[0]
    assert entry.url == "https://vesti.example/news/1.html"
    assert entry.authors == ["Ирина Соколова"]
    assert entry.published_at == dt.datetime(2024, 3, 6, 11, 0, tzinfo=dt.UTC)


def test_a_news_sitemap_gives_publication_dates_before_lastmod() -> None:
    kind, entries = parse_sitemap(NEWS_SITEMAP)
    assert kind == "urlset" and len(entries) == 2  # the <url> without <loc> is skipped
    oped, news = entries
    assert oped.published_at == dt.datetime(2024, 3, 4, 6, 30, tzinfo=dt.UTC)
    assert oped.title == "The road back"
    assert news.published_at == dt.datetime(2024, 3, 5, tzinfo=dt.UTC)


def test_sitemap_indexes_and_gzip() -> None:
    kind, entries = parse_sitemap(gzip.compress(INDEX))
    assert kind == "index" and entries[0].url == "https://daily.example/post-sitemap.xml"
    assert looks_like_sitemap(INDEX) and looks_like_sitemap(NEWS_SITEMAP)
    assert not looks_like_sitemap(RSS)


@pytest.mark.parametrize("parse", [lambda b: parse_feed(b, "https://x.example/"), parse_sitemap])
def test_entity_declarations_are_refused(parse: object) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>'
    with pytest.raises(UnsafeXML):
        parse(bomb)  # type: ignore[operator]


def test_what_is_not_a_feed_or_sitemap_is_malformed() -> None:
    with pytest.raises(MalformedDocument):
        parse_feed(b"<html><body>Not a feed</body></html>", "https://x.example/")
    with pytest.raises(MalformedDocument):
        parse_sitemap(b"<html><body>Not a sitemap</body></html>")
    with pytest.raises(MalformedDocument):
        parse_sitemap(b"")


@pytest.mark.parametrize(
    ("url", "paged"),
    [
        ("https://x.example/category/opinion/page/2/", True),
        ("https://x.example/opinion/?page=3", True),
        ("https://x.example/2024/03/05/talks-resume/", False),
    ],
)
def test_pagination_links(url: str, paged: bool) -> None:
    assert is_pagination(url) is paged
