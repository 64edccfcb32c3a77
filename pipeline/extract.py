"""One fetched page → article fields. Pure: no database, no Scrapy.

The cascade, for every field, first answer that passes the checks wins:

1. structured data: JSON-LD (article node of the ``@graph``, ``@id`` references followed),
   microdata, OpenGraph / ``article:*`` / Dublin Core / Parse.ly / Sailthru meta, ``rel=author``;
2. bylines in the page: byline elements, a "By …" line, a lone name line under the headline,
   the author bio that closes an op-ed;
3. per-outlet selectors from the config (``author_selector``, ``date_selector``, ``body_selector``);
4. trafilatura: the article text, and its metadata as the last fallback;
5. feed hints (title, date, author the feed or sitemap gave) when the page has nothing.

Authors are checked as people (see pipeline.authors); dates must be plausible (after 1990, not
more than a day in the future) and are converted to UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from cssselect import GenericTranslator
from lxml import etree
from lxml import html as lhtml

from pipeline import bylines, dates
from pipeline.authors import AuthorName, clean_author, merge_authors, nfc_spaces, parse_byline
from pipeline.encoding import decode_html
from pipeline.language import choose_language
from pipeline.opinion import opinion_reason
from pipeline.structured import Structured, absolute, extract_structured, types_of
from pipeline.urls import canonicalize, is_amp, is_foreign, strip_amp

TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|«|»|·|•|/)\s+")
# An error page says so in words; a bare number ("500 killed as floods hit the delta") or the word
# "error" in a headline is not enough.
ERROR_TITLE_RE = re.compile(
    r"\b(?:error|erreur|fehler|ошибка)\s*(?:404|410|500|503)\b"
    r"|\b(?:404|410|500|503)\b\s*[-–:|]?\s*(?:error|not found|page not found|gone|internal server error|service unavailable)\b"
    r"|\bpage not found\b|^\s*not found\b|\bpage (?:can'?t|cannot|could not) be found\b"
    r"|страница не найдена|الصفحة غير موجودة|^\s*خطأ",
    re.IGNORECASE,
)
NON_ARTICLE_PATH_RE = re.compile(
    r"/(?:tag|tags|category|categories|author|authors|topics?|search|page/\d+|about(?:-us)?|contact(?:-us)?|"
    r"privacy(?:-policy)?|terms|subscribe|login|archive|feed|newsletters?)(?:/|$)",
    re.IGNORECASE,
)
MIN_ARTICLE_CHARS = 300
# Page-type signals (PageShape): thresholds in one place.
PROSE_PARAGRAPH_CHARS = 150
LISTING_MIN_TEASERS = 4
LISTING_LINK_DENSITY = 0.5
MIN_PROSE_WITHOUT_SIGNALS = 5


@dataclass
class OutletRules:
    """What extraction needs to know about the outlet a page came from (all optional)."""

    name: str = ""
    url: str = ""
    language: str = ""
    opinion_patterns: list[str] = field(default_factory=list)
    author_selector: str = ""
    date_selector: str = ""
    body_selector: str = ""
    # Home URLs of the other configured outlets: a rel=canonical under one of them makes this
    # page a republication even when both outlets share a host.
    other_outlet_urls: list[str] = field(default_factory=list)


@dataclass
class FeedHints:
    title: str = ""
    published_at: dt.datetime | None = None
    authors: list[str] = field(default_factory=list)
    section: str = ""


@dataclass
class Extracted:
    url: str
    canonical_url: str
    title: str = ""
    lead: str = ""
    text: str = ""
    authors: list[AuthorName] = field(default_factory=list)
    published_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    language: str = ""
    section: str = ""
    is_opinion: bool = False
    opinion_reason: str = ""
    page_type: str = "article"  # or why it is not one: "listing", "error-page", "too-short", ...
    canonical_target: str = ""  # rel=canonical on another site: the syndication original
    url_variants: list[str] = field(default_factory=list)
    site_name: str = ""
    encoding: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # field → which rule gave it

    @property
    def is_article(self) -> bool:
        return self.page_type == "article"

    def contract_dict(self) -> dict[str, Any]:
        """The `mediawatch extract --json` object (DESIGN.md)."""
        return {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "authors": [a.name for a in self.authors],
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "modified_at": self.modified_at.isoformat() if self.modified_at else None,
            "language": self.language,
            "section": self.section,
            "is_opinion": self.is_opinion,
            "text": self.text,
        }


def css_xpath(selector: str) -> str:
    return GenericTranslator().css_to_xpath(selector)


def _str(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | dict)), "")
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return nfc_spaces(value) if isinstance(value, str) else ""


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """'Talks resume - Example Daily' → 'Talks resume' when 'Example Daily' is the site."""
    title = nfc_spaces(title)
    parts = TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    sites = {s.casefold() for s in site_names if s}

    def is_site(part: str) -> bool:
        p = part.casefold().strip()
        return p in sites or any(p and (p in s or s in p) for s in sites if len(s) > 3)

    kept = list(parts)
    while len(kept) > 1 and is_site(kept[-1]):
        kept.pop()
    while len(kept) > 1 and is_site(kept[0]):
        kept.pop(0)
    if len(kept) == len(parts):
        return title
    start = title.find(kept[0])
    end = title.rfind(kept[-1]) + len(kept[-1])
    return title[start:end]


def _site_names(st: Structured, outlet: OutletRules, url: str) -> list[str]:
    names = [*st.site_names, outlet.name]
    host = urlsplit(outlet.url or url).hostname or ""
    names.append(re.sub(r"^www\.", "", host))
    core = re.sub(r"^www\.", "", host).split(".")[0]
    if len(core) > 3:
        names.append(core)
    return [nfc_spaces(n) for n in names if n and n.strip()]


def _title(
    st: Structured, tree: lhtml.HtmlElement, sites: list[str], hints: FeedHints
) -> tuple[str, str]:
    h1s = [nfc_spaces(h.text_content()) for h in tree.xpath("//article//h1 | //main//h1 | //h1")]
    h1 = next((h for h in h1s if 3 < len(h) < 400), "")
    candidates = [
        ("json-ld", _str(st.article.get("headline")) or _str(st.article.get("name"))),
        ("og:title", st.meta_first("og:title", "twitter:title", "parsely-title", "dc.title")),
        ("title", nfc_spaces(tree.findtext(".//title") or "")),
    ]
    if h1:
        for _, cand in candidates:
            if cand and (h1.casefold() in cand.casefold() or cand.casefold() in h1.casefold()):
                return "h1", h1
    for source, cand in candidates:
        if cand:
            return source, strip_site_suffix(cand, sites)
    if h1:
        return "h1", h1
    return ("feed", hints.title) if hints.title else ("", "")


def _body(
    html_text: str, tree: lhtml.HtmlElement, url: str, outlet: OutletRules
) -> tuple[str, str, dict[str, Any]]:
    meta: dict[str, Any] = {}
    if outlet.body_selector:
        nodes = tree.xpath(css_xpath(outlet.body_selector))
        if nodes:
            paras = [
                nfc_spaces(p.text_content())
                for n in nodes
                for p in n.xpath(".//p|.//h2|.//h3|.//blockquote|.//li")
            ]
            text = "\n".join(p for p in paras if p)
            if text:
                return "selector", text, meta
    doc = trafilatura.bare_extraction(
        html_text,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_formatting=False,
        deduplicate=False,
    )
    if doc is not None:
        meta = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
        text = (meta.get("text") or "").strip()
        if text:
            return (
                "trafilatura",
                "\n".join(nfc_spaces(ln) for ln in text.splitlines() if ln.strip()),
                meta,
            )
    paras = [
        nfc_spaces(p.text_content())
        for p in tree.xpath("//article//p | //main//p") or tree.xpath("//p")
    ]
    return "paragraphs", "\n".join(p for p in paras if len(p) > 1), meta


ORGANIZATION_TYPES = frozenset(
    {"Organization", "NewsMediaOrganization", "Corporation", "GovernmentOrganization", "NGO"}
)


def _names_site(name: str, sites: list[str]) -> bool:
    folded = name.casefold()
    return any(folded == s.casefold() or (len(s) > 3 and s.casefold() in folded) for s in sites)


def _authors_structured(st: Structured, sites: list[str]) -> list[AuthorName]:
    raw = st.article.get("author") or st.article.get("creator") or st.microdata.get("author")
    items = raw if isinstance(raw, list) else [raw] if raw else []
    out: list[AuthorName] = []
    for item in items:
        node = st.resolve(item)
        if isinstance(node, str):
            out += parse_byline(node, site_names=sites)
        elif isinstance(node, dict):
            name = _str(node.get("name"))
            if not name:
                continue
            if ORGANIZATION_TYPES.intersection(types_of(node)):
                # An organisation author is kept unless it is the site itself.
                cand = clean_author(name, site_names=sites)
                if cand is not None:
                    out.append(AuthorName(cand.name, True))
                elif not _names_site(name, sites):
                    out.append(AuthorName(nfc_spaces(name), True))
            else:
                out += parse_byline(name, site_names=sites)
    return out


def _authors_meta(st: Structured, sites: list[str]) -> list[AuthorName]:
    values = st.meta_all(
        "author",
        "article:author",
        "parsely-author",
        "sailthru.author",
        "dc.creator",
        "dcterms.creator",
        "byl",
        "citation_author",
        "twitter:creator:name",
    )
    out: list[AuthorName] = []
    for v in values:
        if v.startswith(("http://", "https://", "@")):
            continue
        out += parse_byline(v, site_names=sites)
    return merge_authors(out) if out else []


def _dates(
    st: Structured,
    tree: lhtml.HtmlElement,
    url: str,
    outlet: OutletRules,
    hints: FeedHints,
    html_text: str,
    fetched_at: dt.datetime,
) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    p = dates.parse_datetime
    time_el = tree.xpath("(//article//time[@datetime] | //time[@datetime])[1]/@datetime")
    selector_dates = []
    if outlet.date_selector:
        for el in tree.xpath(css_xpath(outlet.date_selector)):
            selector_dates.append(
                p(el.get("datetime") or el.get("content") or el.text_content(), fuzzy=True)
            )
    dateline = [
        p(nfc_spaces(el.text_content()), fuzzy=True)
        for el in tree.xpath(
            "//*[contains(@class,'dateline') or contains(@class,'entry-date') or contains(@class,'post-date') or contains(@class,'published') or contains(@class,'article-date')][not(*)]"
        )[:3]
        if 4 < len(el.text_content().strip()) < 80
    ]
    candidates: list[tuple[str, dt.datetime | None]] = [
        (
            "json-ld",
            p(_str(st.article.get("datePublished")) or _str(st.article.get("dateCreated"))),
        ),
        ("json-ld:webpage", p(_str(st.webpage.get("datePublished")))),
        (
            "meta",
            p(
                st.meta_first(
                    "article:published_time",
                    "og:published_time",
                    "og:article:published_time",
                    "parsely-pub-date",
                    "sailthru.date",
                    "dc.date.issued",
                    "dcterms.issued",
                    "dcterms.created",
                    "dc.date",
                    "date",
                    "pubdate",
                    "publish-date",
                    "publish_date",
                    "publication_date",
                    "citation_publication_date",
                    "datepublished",
                )
            ),
        ),
        ("microdata", p(_str(st.microdata.get("datePublished")))),
        ("time", p(time_el[0]) if time_el else None),
        *[("selector", d) for d in selector_dates],
        *[("dateline", d) for d in dateline],
        ("url", dates.date_from_url(url)),
        ("feed", hints.published_at),
    ]
    source, published = dates.first_plausible(candidates, fetched_at)
    if published is None:
        from htmldate import find_date

        try:
            # Markup and URL only: free-text search mistakes "© 2024" in a footer for a date.
            found = find_date(html_text, url=url, original_date=True, extensive_search=False)
        except Exception:
            found = None
        source, published = dates.first_plausible([("htmldate", p(found))], fetched_at)
    _, modified = dates.first_plausible(
        [
            ("json-ld", p(_str(st.article.get("dateModified")))),
            (
                "meta",
                p(
                    st.meta_first(
                        "article:modified_time",
                        "og:updated_time",
                        "dcterms.modified",
                        "last-modified",
                        "datemodified",
                    )
                ),
            ),
        ],
        fetched_at,
    )
    if modified is not None and published is not None and modified < published:
        modified = None
    return source, published, modified


def _section(st: Structured, tree: lhtml.HtmlElement, hints: FeedHints) -> str:
    candidates = [
        st.meta_first("article:section", "parsely-section", "section", "og:article:section"),
        _str(st.article.get("articleSection")),
        st.breadcrumbs[-2] if len(st.breadcrumbs) >= 2 else "",
        nfc_spaces(
            " ".join(tree.xpath("(//a[@rel='category tag'] | //a[@rel='tag category'])[1]//text()"))
        ),
        hints.section,
    ]
    return next((c for c in candidates if c), "")


@dataclass(frozen=True)
class PageShape:
    """Language-independent signals of what a page is, measured on its main region (navigation,
    header, footer and sidebars removed)."""

    chars: int  # visible text
    link_density: float  # share of that text inside links
    prose_paragraphs: int  # paragraphs of running text (long, few links)
    teasers: int  # repeated blocks of a linked heading (a listing's entries)

    @classmethod
    def of(cls, tree: lhtml.HtmlElement) -> PageShape:
        body = tree.find("body")
        root = body if body is not None else tree
        chrome = set(
            root.xpath(
                ".//nav | .//header | .//footer | .//aside"
                " | .//*[@role='navigation' or @role='banner' or @role='contentinfo']"
            )
        )

        def in_chrome(el: lhtml.HtmlElement) -> bool:
            return any(a in chrome for a in el.iterancestors()) or el in chrome

        def text_len(el: lhtml.HtmlElement) -> int:
            data = sum(len(" ".join((sc.text or "").split())) for sc in el.iter("script"))
            return len(" ".join(el.text_content().split())) - data

        total = text_len(root) - sum(text_len(c) for c in chrome if not in_chrome(c.getparent()))
        links = sum(text_len(a) for a in root.iter("a") if not in_chrome(a))
        prose = 0
        for p in root.iter("p"):
            if in_chrome(p):
                continue
            n = text_len(p)
            linked = sum(text_len(a) for a in p.iter("a"))
            if n >= PROSE_PARAGRAPH_CHARS and linked < 0.3 * n:
                prose += 1
        teasers = sum(
            1
            for h in root.xpath(".//h2 | .//h3 | .//h4")
            if h.xpath(".//a[@href]") and not in_chrome(h)
        )
        total = max(total, 1)
        return cls(total, min(links / total, 1.0), prose, teasers)


STRUCTURED_DATE_SOURCES = frozenset({"json-ld", "json-ld:webpage", "meta", "microdata", "url"})
STRUCTURED_AUTHOR_SOURCES = frozenset({"json-ld", "meta"})
VISIBLE_DATE_SOURCES = frozenset({"time", "dateline", "selector"})


def article_evidence(og_type: str, result: Extracted, shape: PageShape) -> int:
    """How many independent signs say "one article": article markup, a publication date in
    markup or the URL, authors in markup, a visible date with a visible byline, long prose."""
    sources = result.sources
    return sum(
        (
            og_type == "article",
            sources.get("published_at") in STRUCTURED_DATE_SOURCES,
            bool(result.authors) and sources.get("authors") in STRUCTURED_AUTHOR_SOURCES,
            sources.get("published_at") in VISIBLE_DATE_SOURCES and bool(result.authors),
            len(result.text) >= 1500 and shape.prose_paragraphs >= 3,
        )
    )


def _page_type(
    st: Structured, tree: lhtml.HtmlElement, url: str, result: Extracted, shape: PageShape
) -> str:
    """Article or not, and if not, why. Markup and structure decide, not the page's words: a
    Russian staff page or an Arabic section index is caught like an English "About us"."""
    title, text = result.title, result.text
    if ERROR_TITLE_RE.search(title) and len(text) < 1500:
        return "error-page"
    if st.article:
        return "article" if text else "empty"
    og_type = st.meta_first("og:type").lower()
    path = urlsplit(url).path
    if NON_ARTICLE_PATH_RE.search(path) or path in ("", "/"):
        return "listing"
    evidence = article_evidence(og_type, result, shape)
    looks_listed = (
        shape.teasers >= LISTING_MIN_TEASERS and shape.teasers > shape.prose_paragraphs
    ) or shape.link_density > LISTING_LINK_DENSITY
    if looks_listed and evidence == 0:
        return "listing"
    if og_type in ("website", "profile") and len(text) < 1500 and evidence == 0:
        return "listing"
    # No article markup, no date and no byline together, and little running text: an about,
    # contact or staff page, in whatever language.
    if (
        og_type != "article"
        and result.published_at is None
        and not result.authors
        and shape.prose_paragraphs < MIN_PROSE_WITHOUT_SIGNALS
    ):
        return "not-article"
    if len(text) < MIN_ARTICLE_CHARS:
        return "too-short"
    return "article"


def extract_page(
    page: bytes | str,
    url: str,
    *,
    outlet: OutletRules | None = None,
    hints: FeedHints | None = None,
    fetched_at: dt.datetime | None = None,
    content_type: str | None = None,
) -> Extracted:
    """Extract the article fields of one page (see the module docstring for the cascade)."""
    outlet = outlet or OutletRules()
    hints = hints or FeedHints()
    fetched_at = fetched_at or dt.datetime.now(dt.UTC)
    encoding = "unicode"
    if isinstance(page, bytes):
        encoding, html_text = decode_html(page, content_type)
    else:
        html_text = page
    result = Extracted(url=url, canonical_url=canonicalize(url), encoding=encoding)
    try:
        tree = lhtml.document_fromstring(html_text) if html_text.strip() else None
    except (etree.ParserError, ValueError):
        tree = None
    if tree is None:
        result.page_type = "empty"
        return result
    for bad in tree.xpath("//script[not(@type='application/ld+json')] | //style | //noscript"):
        bad.drop_tree()
    shape = PageShape.of(tree)

    st = extract_structured(tree, html_text, url)
    sites = _site_names(st, outlet, url)
    result.site_name = st.site_names[0] if st.site_names else outlet.name

    # Canonical URL: same-site rel=canonical / og:url; another site's (another host or port, or
    # another configured outlet's part of a shared host) is the syndication source: the page stays
    # under its own URL, a republication.
    canon = absolute(url, (tree.xpath("//link[@rel='canonical']/@href") or [""])[0]) or absolute(
        url, st.meta_first("og:url")
    )
    if canon and not is_foreign(canon, url, outlet.url, outlet.other_outlet_urls):
        result.canonical_url = canonicalize(canon)
    elif canon:
        result.canonical_target = canonicalize(canon)
        result.canonical_url = canonicalize(strip_amp(url) if is_amp(url) else url)
    elif is_amp(url):
        result.canonical_url = strip_amp(url)
    result.url_variants = sorted({canonicalize(url), result.canonical_url} - {""})

    result.sources["title"], result.title = _title(st, tree, sites, hints)
    body_source, text, traf_meta = _body(html_text, tree, url, outlet)
    result.sources["text"] = body_source
    lines = [ln for ln in text.split("\n") if ln.strip()]

    # Authors.
    bio = bylines.bio_authors(lines, sites)
    bio_keys = {a.key for a in bio}
    lone_idx = bylines.lone_name_lines(lines, bio_keys)
    lone = [a for i in lone_idx for a in parse_byline(lines[i], site_names=sites)]
    selector_xpath = css_xpath(outlet.author_selector) if outlet.author_selector else None
    cascade = [
        ("json-ld", _authors_structured(st, sites)),
        ("meta", _authors_meta(st, sites)),
        ("byline", bylines.dom_bylines(tree, sites)),
        ("text-byline", bylines.text_bylines(lines, sites)),
        ("lone-name", lone),
        ("bio", bio),
        ("selector", bylines.dom_bylines(tree, sites, selector_xpath) if selector_xpath else []),
        ("trafilatura", parse_byline(traf_meta.get("author") or "", site_names=sites)),
        ("feed", [a for h in hints.authors for a in parse_byline(h, site_names=sites)]),
    ]
    if selector_xpath:  # an outlet's own selector is there because the generic rules fail it
        cascade.insert(2, cascade.pop(6))
    result.sources["authors"] = next((name for name, group in cascade if group), "")
    result.authors = merge_authors(*(group for _, group in cascade))
    # A lone name line is a byline, not prose; nor is a repeat of the headline or a "By" line.
    drop = set(lone_idx)
    for i, ln in enumerate(lines[:3]):
        if ln.casefold() == result.title.casefold() or (
            bylines.BYLINE_LINE_RE.match(ln) and len(ln) < 120
        ):
            drop.add(i)
    lines = [ln for i, ln in enumerate(lines) if i not in drop]
    result.text = "\n".join(lines)

    result.sources["published_at"], result.published_at, result.modified_at = _dates(
        st, tree, url, outlet, hints, html_text, fetched_at
    )
    declared = [
        tree.get("lang") or "",
        _str(st.article.get("inLanguage")),
        st.meta_first("og:locale", "content-language", "language", "dc.language"),
    ]
    result.language = choose_language(declared, result.text, outlet.language)
    result.section = _section(st, tree, hints)
    result.lead = st.meta_first("og:description", "description", "twitter:description") or _str(
        st.article.get("description")
    )
    if not result.lead and lines:
        result.lead = lines[0][:500]

    schema_types = [st.article_type] if st.article_type else []
    result.opinion_reason = opinion_reason(
        schema_types=schema_types,
        sections=[result.section, *st.breadcrumbs, *st.meta_all("article:tag")[:0]],
        url=result.canonical_url,
        outlet_patterns=outlet.opinion_patterns,
        disclaimer=bylines.has_disclaimer(result.text),
        author_bio=bool(bio),
    )
    result.is_opinion = bool(result.opinion_reason)
    result.page_type = _page_type(st, tree, url, result, shape)
    return result


def html_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
