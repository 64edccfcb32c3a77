"""Title, body text and section: headline vs og:title vs <title>, site suffixes, the body
from an outlet selector or trafilatura."""

from __future__ import annotations

import html
import logging
import re
from functools import cache
from types import ModuleType
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lhtml

from pipeline.authors import (
    names_site,
    nfc_spaces,
)
from pipeline.extract.model import FeedHints, OutletRules, css_xpath, text_of
from pipeline.rules import (
    CJK_RE,
    TITLE_SEPARATORS,
)
from pipeline.structured import Structured

log = logging.getLogger(__name__)

# lxml.html's element classes, chosen in C: lxml.html's own choice is a Python call for every
# element Python code touches (~7% of an extraction, ours and trafilatura's trees together) and
# differs only in giving form fields classes of their own, which neither reads.
ELEMENT_CLASSES = etree.ElementDefaultClassLookup(
    element=lhtml.HtmlElement,
    comment=lhtml.HtmlComment,
    pi=lhtml.HtmlProcessingInstruction,
    entity=lhtml.HtmlEntity,
)


@cache
def load_trafilatura() -> ModuleType:
    """trafilatura, imported where it is used (a crawl process whose workers extract never loads
    it), its HTML parser given ``ELEMENT_CLASSES``: the same output, ~5% faster."""
    import trafilatura
    from trafilatura import utils

    utils.HTML_PARSER.set_element_class_lookup(ELEMENT_CLASSES)
    return trafilatura


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """'Talks resume - Example Daily' → 'Talks resume' when 'Example Daily' is the site."""
    title = nfc_spaces(title)
    parts = TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    kept = list(parts)
    while len(kept) > 1 and names_site(kept[-1], site_names):
        kept.pop()
    while len(kept) > 1 and names_site(kept[0], site_names):
        kept.pop(0)
    if len(kept) == len(parts):
        return title
    start = title.find(kept[0])
    end = title.rfind(kept[-1]) + len(kept[-1])
    return title[start:end]


def strip_cjk_suffix(title: str) -> str:
    """'标题_频道_网站' → '标题': Chinese, Japanese and Korean sites join the channel and the site
    name to the headline with underscores and no spaces; the headline is the first and longest
    part."""
    if "_" not in title or not CJK_RE.search(title):
        return title
    parts = [p.strip() for p in title.split("_") if p.strip()]
    if len(parts) > 1 and len(parts[0]) == max(len(p) for p in parts):
        return parts[0]
    return title


def _visible_headline(tree: lhtml.HtmlElement, h1: str, others: list[str]) -> str:
    """The <h1> as the headline: inside the article, or the page's only <h1> when it shares
    words with the share titles (a lone <h1> over a page may also be a section's label)."""
    if not h1 or len(h1.split()) < 3:
        return ""
    in_article = [nfc_spaces(h.text_content()) for h in tree.xpath("//article//h1 | //main//h1")]
    if h1 in in_article:
        return h1
    if len(tree.xpath("//h1")) != 1:
        return ""
    words = set(re.findall(r"\w{4,}", h1.casefold()))
    shared = max((len(words & set(re.findall(r"\w{4,}", o.casefold()))) for o in others), default=0)
    return h1 if shared >= 2 else ""


def _same_headline(h1: str, candidate: str) -> bool:
    """The heading is the headline the candidate carries: equal, or one inside the other with
    the heading at least half of it (a blog's name in <h1> is inside "Blog: Post title" too,
    but is the smaller part of it)."""
    a, b = h1.casefold(), candidate.casefold()
    return a == b or b in a or (a in b and len(a) * 2 >= len(b))


def site_names(st: Structured, outlet: OutletRules, url: str) -> list[str]:
    names = [*st.site_names, outlet.name]
    host = urlsplit(outlet.url or url).hostname or ""
    names.append(re.sub(r"^www\.", "", host))  # names_site also matches its first label
    return [nfc_spaces(n) for n in names if n and n.strip()]


def unescape_once(text: str) -> str:
    """Titles from JSON-LD and meta are sometimes escaped twice (``&amp;quot;`` arrives as
    ``&quot;``): decode what is left, once."""
    return html.unescape(text) if "&" in text and ";" in text else text


def pick_title(
    st: Structured, tree: lhtml.HtmlElement, sites: list[str], hints: FeedHints
) -> tuple[str, str]:
    h1s = [nfc_spaces(h.text_content()) for h in tree.xpath("//article//h1 | //main//h1 | //h1")]
    # A heading that is the site's own name (a blog's masthead in <h1>) is not the headline:
    # a known site name, or the last part of a "Headline | Site" <title>.
    title_text = nfc_spaces(tree.findtext(".//title") or "")
    parts = TITLE_SEPARATORS.split(title_text)
    masthead = {parts[-1].casefold()} if len(parts) > 1 else set()
    h1 = next(
        (
            h
            for h in h1s
            if 3 < len(h) < 400 and not names_site(h, sites) and h.casefold() not in masthead
        ),
        "",
    )
    candidates = [
        (source, unescape_once(value))
        for source, value in (
            ("json-ld", text_of(st.article.get("headline")) or text_of(st.article.get("name"))),
            ("og:title", st.meta_first("og:title", "twitter:title", "parsely-title", "dc.title")),
            ("title", title_text),
        )
    ]
    if h1:
        for _, cand in candidates:
            if cand and _same_headline(h1, cand):
                return "h1", h1
    # "Headline | Section | Site" where the page shows the headline as a heading: that part.
    headings = {
        nfc_spaces(h.text_content()).casefold()
        for h in tree.xpath("//h1 | //h2 | //article//h3 | //main//h3")
    }
    for _, cand in candidates:
        first = TITLE_SEPARATORS.split(cand)[0] if cand else ""
        if first and first != cand and first.casefold() in headings:
            return "heading", first
    # The page's own headline in view, when the share titles say something else (og:title and
    # <title> are often rewritten for social media and search): an <h1> inside the article, or
    # the page's only <h1>, of a few words. The JSON-LD headline, written for the article, stays
    # first.
    json_ld = candidates[0][1]
    visible = _visible_headline(tree, h1, [c for _, c in candidates if c])
    if visible and not json_ld:
        return "h1", visible
    for source, cand in candidates:
        if cand:
            return source, strip_cjk_suffix(strip_site_suffix(cand, sites))
    if h1:
        return "h1", h1
    return ("feed", hints.title) if hints.title else ("", "")


def body_text(tree: lhtml.HtmlElement, url: str, outlet: OutletRules) -> tuple[str, str]:
    """The body: the outlet's ``body_selector``, else trafilatura's extraction, else the
    paragraphs. trafilatura works on a copy of our tree, not on a parse of its own (~3 ms a
    page, ~7% of an extraction here), with the same text on every page of both test sets."""
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
                return "selector", text
    doc = load_trafilatura().bare_extraction(
        tree,  # copied by trafilatura, which changes what it works on
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=False,
        include_formatting=False,
        deduplicate=False,
    )
    text = (getattr(doc, "text", None) or "").strip()  # a Document (None: nothing found)
    if text:
        return "trafilatura", "\n".join(nfc_spaces(ln) for ln in text.splitlines() if ln.strip())
    paras = [
        nfc_spaces(p.text_content())
        for p in tree.xpath("//article//p | //main//p") or tree.xpath("//p")
    ]
    return "paragraphs", "\n".join(p for p in paras if len(p) > 1)


def trafilatura_author(tree: lhtml.HtmlElement) -> str:
    """trafilatura's author, the last resort before the feed's, for a page where nothing else
    named one: the author steps of its metadata extraction (``extract_metadata``: the meta tags,
    where a one-word author does not count, then JSON-LD, then its byline search), as it cleans
    them. Not the whole extraction: its date, site name, categories, tags and licence, which go
    unused here, were about half of its time."""
    from trafilatura.metadata import examine_meta, extract_author, extract_meta_json
    from trafilatura.utils import line_processing

    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # as trafilatura: a JSON-LD its reader cannot take leaves the meta tags'
        log.debug("trafilatura's JSON-LD reader failed", exc_info=True)
    author = meta.author or extract_author(tree)
    return (line_processing(html.unescape(author)) or "") if author else ""


def pick_section(st: Structured, tree: lhtml.HtmlElement, hints: FeedHints) -> str:
    candidates = [
        st.meta_first("article:section", "parsely-section", "section", "og:article:section"),
        text_of(st.article.get("articleSection")),
        st.breadcrumbs[-2] if len(st.breadcrumbs) >= 2 else "",
        nfc_spaces(
            " ".join(tree.xpath("(//a[@rel='category tag'] | //a[@rel='tag category'])[1]//text()"))
        ),
        hints.section,
    ]
    return next((c for c in candidates if c), "")
