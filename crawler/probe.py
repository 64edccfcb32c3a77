"""`mediawatch outlets probe URL`: onboard an outlet from its home page.

Fetches politely (robots.txt obeyed through Protego, our User-Agent, one request at a time with a
pause between them), then:

* feeds: ``<link rel=alternate>`` and feed-like links of the home page (trafilatura's feed
  detection), then the common paths (``feed/``, ``rss.xml``, ``atom.xml``…) when none is linked;
* sitemaps: robots.txt ``Sitemap:`` lines, ``<link rel=sitemap>``, then the common paths
  (``sitemap.xml``, ``sitemap_index.xml``, ``news-sitemap.xml``, ``wp-sitemap.xml``…); an index is
  followed one level; read with the crawler's own parsers (crawler.discovery), so what the probe
  finds is what the crawl will read;
* section pages: home-page links whose path is one short word under the outlet (``/world/``),
  kept when they link to several article URLs;
* a sample of article URLs from all of these, spread over the sections, run through extraction:
  whether authors and dates come out, the language, which ones are op-eds;
* ``article_patterns`` and ``opinion_patterns`` proposed from the URLs seen (dates and numbers
  generalised, the section kept when it matters), checked against the sample;
* anything odd: a bot wall (403/429 or a challenge page), robots.txt forbidding us, no feed and
  no sitemap.

The result is a ready-to-paste ``[[outlets]]`` TOML block and a short report.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.discovery import (
    DEFAULT_ARTICLE_RE,
    MalformedDocument,
    UnsafeXML,
    is_pagination,
    looks_like_sitemap,
    parse_feed,
    parse_sitemap,
)
from pipeline.botwall import bot_wall_reason
from pipeline.rules import DEFAULT_URL_PATTERNS, OPINION_SECTION_RE
from pipeline.urls import canonicalize

FEED_PATHS = ("feed/", "rss.xml", "rss/", "feed.xml", "atom.xml", "index.xml", "rss")
SITEMAP_PATHS = (
    "news-sitemap.xml",
    "sitemap-news.xml",
    "sitemap_index.xml",
    "wp-sitemap.xml",
    "sitemap.xml",
    "sitemap.xml.gz",
)
MAX_BYTES = 5 * 1024 * 1024
SAMPLE = 8
SITEMAP_CHILDREN = 3
WP_POST_RE = re.compile(r"[?&]p=\d+$")
SECTION_RE = re.compile(r"^(?:[\w\u0400-\u04ff\u0600-\u06ff-]{2,30}/){1,2}$", re.UNICODE)


class ProbeError(Exception):
    """The home page could not be fetched at all (name, connection, robots.txt)."""


@dataclass
class Fetched:
    url: str
    status: int
    body: bytes
    content_type: str = ""


@dataclass
class Source:
    kind: str  # feed | sitemap | section
    url: str
    articles: int = 0
    note: str = ""


@dataclass
class Sampled:
    url: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: bool = False
    language: str = ""
    is_opinion: bool = False
    problem: str = ""


@dataclass
class ProbeResult:
    home: str
    name: str = ""
    language: str = ""
    sources: list[Source] = field(default_factory=list)
    samples: list[Sampled] = field(default_factory=list)
    article_patterns: list[str] = field(default_factory=list)
    opinion_patterns: list[str] = field(default_factory=list)
    odd: list[str] = field(default_factory=list)
    requests: int = 0

    def of(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.kind == kind]


class PoliteFetcher:
    """One request at a time, ``delay`` seconds apart, robots.txt obeyed, our User-Agent."""

    def __init__(self, user_agent: str, delay: float = 1.0, timeout: float = 20.0) -> None:
        self.user_agent = user_agent
        self.delay = delay
        self.timeout = timeout
        self.robots: dict[str, Any] = {}
        self.sitemaps_in_robots: list[str] = []
        self.count = 0
        self._last = 0.0

    def _raw(self, url: str) -> Fetched:
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.count += 1
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                body = resp.read(MAX_BYTES)
                return Fetched(
                    resp.geturl(), resp.status, body, resp.headers.get("Content-Type", "")
                )
        except urllib.error.HTTPError as exc:
            return Fetched(url, exc.code, exc.read(MAX_BYTES) if exc.fp else b"")
        finally:
            self._last = time.monotonic()

    def allowed(self, url: str) -> bool:
        from protego import Protego

        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            try:
                got = self._raw(f"{origin}/robots.txt")
                text = got.body.decode("utf-8", "replace") if got.status == 200 else ""
            except (urllib.error.URLError, OSError, ValueError):
                text = ""
            self.robots[origin] = Protego.parse(text)
            self.sitemaps_in_robots += list(self.robots[origin].sitemaps)
        return bool(self.robots[origin].can_fetch(url, self.user_agent))

    def get(self, url: str) -> Fetched | None:
        """The response, or None when robots.txt forbids the URL or the host cannot be reached."""
        if not self.allowed(url):
            return None
        try:
            return self._raw(url)
        except (urllib.error.URLError, OSError, ValueError):
            return None


def normalise_home(url: str) -> str:
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _under(url: str, home: str) -> bool:
    """Same host and port as the home page, and under its path (an outlet served from a
    folder of a shared host owns that folder only)."""
    a, h = urlsplit(url), urlsplit(home)
    return a.netloc.lower() == h.netloc.lower() and a.path.startswith(h.path)


def _links(body: bytes, base: str) -> list[tuple[str, str]]:
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(body)
    except (ValueError, Exception):
        return []
    out = []
    for a in tree.iter("a"):
        href = a.get("href")
        if href and not href.startswith(("#", "mailto:", "javascript:")):
            out.append((urljoin(base, href.strip()), (a.text_content() or "").strip()))
    return out


def _meta(body: bytes) -> tuple[str, str, list[str]]:
    """The site's name (og:site_name, else <title>), <html lang>, and <link rel=sitemap>."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(body)
    except (ValueError, Exception):
        return "", "", []
    site = tree.xpath("string(//meta[@property='og:site_name']/@content)").strip()
    title = tree.xpath("string(//title)").strip()
    name = site or re.split(r"\s+[|\-–—:]\s+", title)[0].strip()
    lang = tree.xpath("string(/html/@lang)").strip().split("-")[0].lower()
    sitemaps = [s for s in tree.xpath("//link[@rel='sitemap']/@href") if s]
    return name, lang, sitemaps


def _feed_candidates(home: Fetched, home_url: str) -> list[str]:
    from trafilatura.feeds import FeedParameters, determine_feed

    host = urlsplit(home_url).netloc
    params = FeedParameters(home_url, host, home_url)
    return determine_feed(home.body.decode("utf-8", "replace"), params)


def _below(url: str, home: str) -> str:
    """The URL's path below the outlet's own (``world/2024/a-story/`` under ``/news/``)."""
    path = urlsplit(url).path
    prefix = urlsplit(home).path
    return path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")


def _first_folder(url: str, home: str) -> str:
    return _below(url, home).strip("/").split("/")[0]


def _rest(url: str, home: str) -> tuple[str, bool]:
    """The URL's path below the outlet's, without a trailing ``amp/`` (and whether it had it)."""
    rest = _below(url, home)
    amp = rest.endswith("/amp/") or rest.endswith("/amp")
    if amp:
        rest = rest[: rest.rindex("/amp")] + "/"
    return rest, amp


def _folders(url: str, home: str) -> set[str]:
    """The named folders of an article URL: not numbers, not the article's own slug."""
    rest, _ = _rest(url, home)
    parts = [p for p in rest.split("/") if p]
    return {p for p in parts[:-1] if not p.isdigit()}


def _path_pattern(url: str, home: str, sections: Counter[str]) -> str:
    """A regular expression for this article URL's shape: numbers generalised, the slug
    generalised, the first segment kept when several sections share the URL shape."""
    parts = urlsplit(url)
    prefix = urlsplit(home).path
    rest, amp = _rest(url, home)
    segments = rest.split("/")
    last = max((i for i, seg in enumerate(segments) if seg), default=-1)
    out = []
    for i, seg in enumerate(segments):
        if seg == "":
            out.append("")
        elif re.fullmatch(r"(19|20)\d{2}", seg):
            out.append(r"\d{4}")
        elif re.fullmatch(r"\d{1,2}", seg):
            out.append(r"\d{2}" if len(seg) == 2 else r"\d{1,2}")
        elif re.fullmatch(r"\d+", seg):
            out.append(r"\d+")
        elif i == last:
            ext = re.search(r"\.(html?|php|aspx?)$", seg)
            stem = seg[: ext.start()] if ext else seg
            word = r"\d+" if stem.isdigit() else r"[^/]+"
            out.append(word + (re.escape(ext.group(0)) if ext else ""))
        else:
            out.append(r"\w+" if len(sections) > 1 else re.escape(seg))
    pattern = "/".join(out) + ("(amp/)?" if amp else "")
    query = ""
    if parts.query:
        key = parts.query.split("=", 1)[0]
        query = rf"\?{re.escape(key)}=\d+" if re.fullmatch(r"[^=]+=\d+", parts.query) else ""
    return (
        "/"
        + re.escape(prefix.strip("/"))
        + ("/" if prefix.strip("/") else "")
        + pattern
        + query
        + "$"
    )


def propose_article_patterns(urls: list[str], home: str) -> list[str]:
    """The URL shapes that cover the article URLs seen, most common first (at most 3, each
    covering at least a tenth of them)."""
    sections: Counter[str] = Counter()
    for u in urls:
        first = _first_folder(u, home)
        if first and not first.isdigit():
            sections[first] += 1
    shapes: Counter[str] = Counter()
    amp: set[str] = set()  # shapes also seen with an AMP variant
    for u in urls:
        shape = _path_pattern(u, home, sections)
        if "(amp/)?" in shape:
            shape = shape.replace("(amp/)?", "")
            amp.add(shape)
        shapes[shape] += 1
    keep = [
        p.replace("/$", "/(amp/)?$") if p in amp else p
        for p, n in shapes.most_common(3)
        if n >= max(1, len(urls) // 10)
    ]
    return [p.replace(r"\-", "-").replace(r"\_", "_") for p in keep]


def propose_opinion_patterns(samples: list[Sampled], urls: list[str], home: str) -> list[str]:
    """Path segments that mean opinion: those of the sampled articles extraction found to be
    op-eds (and no plain news), and any segment with an opinion name in our languages."""
    segments_of = {u: _folders(u, home) for u in urls}
    opinion_segments: Counter[str] = Counter()
    news_segments: set[str] = set()
    for s in samples:
        segs = segments_of.get(s.url, set())
        if s.is_opinion:
            opinion_segments.update(segs)
        elif not s.problem:
            news_segments |= segs
    patterns = [f"/{seg}/" for seg, _ in opinion_segments.most_common() if seg not in news_segments]
    named = {
        seg
        for segs in segments_of.values()
        for seg in segs
        if OPINION_SECTION_RE.match(seg.replace("-", " "))
        or any(re.search(p, f"/{seg}/", re.IGNORECASE) for p in DEFAULT_URL_PATTERNS)
    }
    patterns += [f"/{seg}/" for seg in sorted(named) if f"/{seg}/" not in patterns]
    return patterns[:3]


def _spread(urls: list[str], home: str, n: int) -> list[str]:
    """Up to ``n`` URLs, taken in turn from each first path segment (every section sampled)."""
    groups: dict[str, list[str]] = {}
    for u in urls:
        groups.setdefault(_first_folder(u, home), []).append(u)
    out: list[str] = []
    while len(out) < n and any(groups.values()):
        for key in list(groups):
            if groups[key] and len(out) < n:
                out.append(groups[key].pop(0))
    return out


def probe(home_url: str, fetcher: PoliteFetcher, *, sample: int = SAMPLE) -> ProbeResult:
    from pipeline.extract import extract_page

    home_url = normalise_home(home_url)
    result = ProbeResult(home=home_url)
    home = fetcher.get(home_url)
    if home is None:
        if not fetcher.allowed(home_url):
            raise ProbeError(f"robots.txt of {home_url} forbids us the home page")
        raise ProbeError(f"cannot reach {home_url}")
    if home.status in (403, 429) or bot_wall_reason(home.body, home.status):
        why = bot_wall_reason(home.body, home.status) or f"HTTP {home.status}"
        result.odd.append(f"bot wall at the home page ({why}): the crawler will likely be refused")
    elif home.status >= 400:
        raise ProbeError(f"{home_url} answered HTTP {home.status}")
    result.name, result.language, linked_sitemaps = _meta(home.body)
    articles: dict[str, str] = {}  # url -> where it was found

    def add_articles(urls: list[str], via: str, *, listed: bool = True) -> int:
        """Article-like URLs of this outlet. ``listed``: from a feed or sitemap, which list
        articles (WordPress's ``?p=123`` included); links of a page may be pagination."""
        n = 0
        for u in map(canonicalize, urls):
            if not _under(u, home_url) or not DEFAULT_ARTICLE_RE.search(u):
                continue
            if not listed and is_pagination(u) and not WP_POST_RE.search(u):
                continue
            articles.setdefault(u, via)
            n += 1
        return n

    # Feeds.
    feeds = [u for u in _feed_candidates(home, home_url) if _under(u, home_url)]
    tried = set()
    for url in feeds or [urljoin(home_url, p) for p in FEED_PATHS]:
        if url in tried:
            continue
        tried.add(url)
        got = fetcher.get(url)
        if got is None or got.status != 200 or looks_like_sitemap(got.body):
            continue
        try:
            entries, _ = parse_feed(got.body, got.url, got.content_type)
        except (UnsafeXML, MalformedDocument):
            continue
        found = add_articles([urljoin(got.url, e.url) for e in entries], url)
        result.sources.append(Source("feed", url, found, f"{len(entries)} entries"))
        if not feeds and result.of("feed"):
            break  # one common path that works is enough
    # Sitemaps: those robots.txt and the home page name, else the first common path that
    # answers (a news sitemap first: it lists what is new, which is what a crawl wants).
    named = [
        urljoin(home_url, u)
        for u in fetcher.sitemaps_in_robots + linked_sitemaps
        if _under(urljoin(home_url, u), home_url)
    ]
    for url in dict.fromkeys(named or [urljoin(home_url, p) for p in SITEMAP_PATHS]):
        source = _read_sitemap(fetcher, url, add_articles)
        if source is not None:
            result.sources.append(source)
            if not named:
                break
    # Section pages: one-word paths under the outlet that link to several articles.
    links = _links(home.body, home.url)
    add_articles([u for u, _ in links], home_url, listed=False)
    seen_sections: set[str] = set()
    for url, _text in links:
        if (
            not _under(url, home_url)
            or not SECTION_RE.match(_below(url, home_url))
            or url in seen_sections
        ):
            continue
        seen_sections.add(url)
        if len(seen_sections) > 6:
            break
        got = fetcher.get(url)
        if got is None or got.status != 200:
            continue
        found = add_articles([u for u, _ in _links(got.body, got.url)], url, listed=False)
        if found >= 2:
            result.sources.append(Source("section", url, found, ""))
    if not result.of("feed") and not result.of("sitemap"):
        result.odd.append("no feed and no sitemap found: only section pages will be crawled")
    # Sample and extract.
    for url in _spread(list(articles), home_url, sample):
        got = fetcher.get(url)
        s = Sampled(url)
        if got is None:
            s.problem = "forbidden by robots.txt or unreachable"
        elif got.status in (403, 429) or bot_wall_reason(got.body, got.status):
            s.problem = "bot wall"
        elif got.status != 200:
            s.problem = f"HTTP {got.status}"
        else:
            page = extract_page(got.body, got.url, content_type=got.content_type)
            s.title = page.title
            s.authors = [a.name for a in page.authors if not a.is_organization]
            s.published = page.published_at is not None
            s.language = page.language
            s.is_opinion = page.is_opinion
            if not page.is_article:
                s.problem = f"not an article ({page.page_type})"
        result.samples.append(s)
    if sum(1 for s in result.samples if s.problem == "bot wall") >= 2:
        result.odd.append("bot wall on article pages")
    good = [s for s in result.samples if not s.problem]
    langs = Counter(s.language for s in good if s.language)
    if langs:
        result.language = langs.most_common(1)[0][0]
    failed = {s.url for s in result.samples if s.problem}
    article_urls = [u for u in articles if u not in failed]
    result.article_patterns = propose_article_patterns(article_urls, home_url)
    result.opinion_patterns = propose_opinion_patterns(result.samples, article_urls, home_url)
    if good and not any(s.authors for s in good):
        result.odd.append("no author on any sampled article: set author_selector")
    if good and not any(s.published for s in good):
        result.odd.append("no date on any sampled article: set date_selector")
    result.requests = fetcher.count
    return result


def _read_sitemap(fetcher: PoliteFetcher, url: str, add_articles: Any) -> Source | None:
    got = fetcher.get(url)
    if got is None or got.status != 200:
        return None
    try:
        kind, entries = parse_sitemap(got.body)
    except (UnsafeXML, MalformedDocument):
        return None
    if kind == "urlset":
        found = add_articles([urljoin(got.url, e.url) for e in entries], url)
        news = ", a news sitemap" if any(e.title for e in entries) else ""
        return Source("sitemap", url, found, f"{len(entries)} URLs{news}")
    found = 0
    for child in entries[:SITEMAP_CHILDREN]:
        sub = fetcher.get(urljoin(got.url, child.url))
        if sub is None or sub.status != 200:
            continue
        try:
            _, sub_entries = parse_sitemap(sub.body)
        except (UnsafeXML, MalformedDocument):
            continue
        found += add_articles([urljoin(sub.url, e.url) for e in sub_entries], url)
    return Source("sitemap", url, found, f"index of {len(entries)} sitemaps")


def slug_for(home_url: str) -> str:
    parts = urlsplit(normalise_home(home_url))
    host = (parts.hostname or "outlet").removeprefix("www.")
    path = parts.path.strip("/").split("/")[0] if parts.path.strip("/") else ""
    base = path or host.split(".")[0]
    slug = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    return slug or "outlet"


def _toml_str(value: str) -> str:
    # TOML literal strings take regular expressions as they are; basic strings otherwise.
    if "'" not in value and "\n" not in value and "\\" in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def toml_block(result: ProbeResult, slug: str) -> str:
    lines = [
        "[[outlets]]",
        f"slug = {_toml_str(slug)}",
        f"name = {_toml_str(result.name or slug)}",
        f"url = {_toml_str(result.home)}",
    ]
    if result.language:
        lines.append(f"language = {_toml_str(result.language)}")
    for key, kind in (("feeds", "feed"), ("sitemaps", "sitemap"), ("sections", "section")):
        urls = [s.url for s in result.of(kind) if s.articles or kind != "section"]
        if urls:
            lines.append(f"{key} = {_toml_list(urls)}")
    if result.article_patterns:
        lines.append(f"article_patterns = {_toml_list(result.article_patterns)}")
    if result.opinion_patterns:
        lines.append(f"opinion_patterns = {_toml_list(result.opinion_patterns)}")
    return "\n".join(lines) + "\n"


def report(result: ProbeResult) -> list[str]:
    out = [f"probed {result.home} ({result.requests} requests)"]
    for src in result.sources:
        note = f" ({src.note})" if src.note else ""
        out.append(f"  {src.kind:8} {src.url}: {src.articles} article URLs{note}")
    good = [p for p in result.samples if not p.problem]
    if result.samples:
        out.append(
            f"  sampled {len(result.samples)} articles: {len(good)} extracted, "
            f"authors on {sum(1 for p in good if p.authors)}, dates on "
            f"{sum(1 for p in good if p.published)}, op-eds {sum(1 for p in good if p.is_opinion)}"
        )
        for p in result.samples:
            what = p.problem or (
                f"{p.title[:60]!r} by {', '.join(p.authors) or 'no author'}"
                f"{'' if p.published else ', no date'}{', op-ed' if p.is_opinion else ''}"
            )
            out.append(f"    {p.url}: {what}")
    if result.language:
        out.append(f"  language: {result.language}")
    for o in result.odd:
        out.append(f"  ! {o}")
    return out
