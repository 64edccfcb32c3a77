"""Is this page one article, and if not, why: error page, listing, not-article, too short.
Decided from markup and structure, so it works in any language."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import html as lhtml

from pipeline.extract.model import Extracted
from pipeline.rules import (
    CJK_RE,
    ERROR_TITLE_RE,
    LISTING_LINK_DENSITY,
    LISTING_MIN_TEASERS,
    MIN_ARTICLE_CHARS,
    MIN_PROSE_WITHOUT_SIGNALS,
    NON_ARTICLE_PATH_RE,
    PROSE_PARAGRAPH_CHARS,
    STRUCTURED_AUTHOR_SOURCES,
    STRUCTURED_DATE_SOURCES,
    VISIBLE_DATE_SOURCES,
)
from pipeline.structured import Structured


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

        # Everything inside the chrome, the chrome included: one set lookup per element asked.
        covered = {d for c in chrome for d in c.iter()}

        def in_chrome(el: lhtml.HtmlElement) -> bool:
            return el in covered

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


def text_length(text: str) -> int:
    """Length in Latin-alphabet terms: a Chinese, Japanese or Korean character carries about
    what three letters do, so a 150-character Chinese story is not "too short"."""
    return len(text) + 2 * len(CJK_RE.findall(text))


def decide_page_type(
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
    if text_length(text) < MIN_ARTICLE_CHARS:
        return "too-short"
    return "article"
