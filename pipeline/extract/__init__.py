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

from lxml import etree
from lxml import html as lhtml

from pipeline import bylines
from pipeline.authors import merge_authors, parse_byline
from pipeline.encoding import decode_html
from pipeline.extract.author_cascade import meta_authors, structured_authors
from pipeline.extract.date_cascade import pick_dates
from pipeline.extract.model import Extracted, FeedHints, OutletRules, css_xpath, text_of
from pipeline.extract.page_type import PageShape, decide_page_type
from pipeline.extract.text import (
    ELEMENT_CLASSES,
    body_text,
    pick_section,
    pick_title,
    site_names,
    strip_site_suffix,
    trafilatura_author,
)
from pipeline.language import choose_language
from pipeline.opinion import opinion_reason
from pipeline.rules import DATED_BYLINE_RE
from pipeline.structured import absolute, extract_structured
from pipeline.urls import canonicalize, is_amp, is_foreign, strip_amp


def _html_parser() -> etree.HTMLParser:
    """lxml.html's parser, with the element classes chosen in C (see ``ELEMENT_CLASSES``)."""
    parser = etree.HTMLParser()
    parser.set_element_class_lookup(ELEMENT_CLASSES)
    return parser


HTML_PARSER = _html_parser()


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
        tree = (
            lhtml.document_fromstring(html_text, parser=HTML_PARSER) if html_text.strip() else None
        )
    except (etree.ParserError, ValueError):
        tree = None
    if tree is None:
        result.page_type = "empty"
        return result
    # As trafilatura's parser leaves them out: the body is extracted from this tree (see
    # pipeline.extract.text.body_text), not from a second parse of the page.
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for bad in tree.xpath("//script[not(@type='application/ld+json')] | //style | //noscript"):
        bad.drop_tree()
    shape = PageShape.of(tree)

    st = extract_structured(tree, url)
    sites = site_names(st, outlet, url)
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

    result.sources["title"], result.title = pick_title(st, tree, sites, hints)
    body_source, text = body_text(tree, url, outlet)
    result.sources["text"] = body_source
    lines = [ln for ln in text.split("\n") if ln.strip()]

    # Authors.
    bio = bylines.bio_authors(lines, sites)
    bio_keys = {a.key for a in bio}
    lone_idx = bylines.lone_name_lines(lines, bio_keys)
    lone = [a for i in lone_idx for a in parse_byline(lines[i], site_names=sites)]
    selector_xpath = css_xpath(outlet.author_selector) if outlet.author_selector else None
    cascade = [
        ("json-ld", structured_authors(st, sites)),
        ("meta", meta_authors(st, sites)),
        ("byline", bylines.dom_bylines(tree, sites)),
        ("short-byline", bylines.short_bylines(tree, sites)),
        ("text-byline", bylines.text_bylines(lines, sites)),
        ("lone-name", lone),
        ("bio", bio),
        ("mailto", bylines.mailto_bylines(tree, sites)),
        ("attribute", bylines.attribute_bylines(tree, sites)),
        ("selector", bylines.dom_bylines(tree, sites, selector_xpath) if selector_xpath else []),
        ("trafilatura", []),
        ("feed", [a for h in hints.authors for a in parse_byline(h, site_names=sites)]),
    ]
    if selector_xpath:  # an outlet's own selector is there because the generic rules fail it
        cascade.insert(2, next(c for c in cascade if c[0] == "selector"))
        cascade.pop(next(i for i, c in enumerate(cascade) if c[0] == "selector" and i > 2))
    editors = bylines.editor_names(html_text)
    if editors:
        cascade = [(name, bylines.without_editors(group, editors)) for name, group in cascade]
    # trafilatura's metadata search is costly: it runs only when every rule before it came up
    # empty, judged once editors are removed (rules that found only the page's editor found
    # nothing, as before this search was made lazy).
    at = next(i for i, (name, _) in enumerate(cascade) if name == "trafilatura")
    if not any(group for _, group in cascade[:at]):
        found = parse_byline(trafilatura_author(tree), site_names=sites)
        cascade[at] = ("trafilatura", bylines.without_editors(found, editors))
    result.sources["authors"] = next((name for name, group in cascade if group), "")
    result.authors = merge_authors(*(group for _, group in cascade))
    # A lone name line is a byline, not prose; nor is a repeat of the headline or a "By" line.
    drop = set(lone_idx)
    for i, ln in enumerate(lines[:3]):
        if ln.casefold() == result.title.casefold() or (
            (bylines.BYLINE_LINE_RE.match(ln) or DATED_BYLINE_RE.match(ln)) and len(ln) < 120
        ):
            drop.add(i)
    lines = [ln for i, ln in enumerate(lines) if i not in drop]
    result.text = "\n".join(lines)

    (
        result.sources["published_at"],
        result.published_at,
        result.modified_at,
        result.published_day,
    ) = pick_dates(st, tree, url, outlet, hints, html_text, fetched_at, lines[0] if lines else "")
    declared = [
        tree.get("lang") or "",
        text_of(st.article.get("inLanguage")),
        st.meta_first("og:locale", "content-language", "language", "dc.language"),
    ]
    result.language = choose_language(declared, result.text, outlet.language)
    result.section = pick_section(st, tree, hints)
    result.lead = st.meta_first("og:description", "description", "twitter:description") or text_of(
        st.article.get("description")
    )
    if not result.lead and lines:
        result.lead = lines[0][:500]

    schema_types = [st.article_type] if st.article_type else []
    result.opinion_reason = opinion_reason(
        schema_types=schema_types,
        sections=[result.section, *st.breadcrumbs, *st.meta_all("article:tag")],
        url=result.canonical_url,
        outlet_patterns=outlet.opinion_patterns,
        disclaimer=bylines.has_disclaimer(result.text),
        author_bio=bool(bio),
    )
    result.is_opinion = bool(result.opinion_reason)
    result.page_type = decide_page_type(st, tree, url, result, shape)
    return result


def html_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


__all__ = [
    "Extracted",
    "FeedHints",
    "OutletRules",
    "css_xpath",
    "extract_page",
    "html_hash",
    "strip_site_suffix",
]
