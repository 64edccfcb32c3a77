"""Bylines where structured data is silent: byline elements, "By …" lines, a lone name line,
and the author bio at the end of an op-ed ("Maria Roe is a columnist …")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree
from lxml import html as lhtml

from pipeline.authors import AuthorName, looks_like_person, parse_byline
from pipeline.rules import (
    AUTHOR_ATTRIBUTES,
    BIO_RE,
    BIO_RE_AR,
    BIO_RE_ROMANCE,
    BIO_RE_RU,
    BYLINE_AUTHOR_CLASSES,
    BYLINE_CLASS_PARTS,
    BYLINE_ID_PARTS,
    BYLINE_LINE_RE,
    BYLINE_START_RE,
    CJK_RE,
    DATED_BYLINE_RE,
    DISCLAIMER_RE,
    EDITOR_CREDIT_RE,
    FOREIGN_ANCESTORS,
    SHORT_BYLINE_CHARS,
)


def _foreign(el: lhtml.HtmlElement) -> bool:
    for anc in el.iterancestors():
        if anc.tag == "footer" and next(anc.iterancestors("article"), None) is not None:
            continue  # an <article>'s own footer ("Posted by …"), not the page's
        if anc.tag in ("nav", "footer", "aside"):
            return True
        marker = f"{anc.get('class', '')} {anc.get('id', '')}"
        if marker.strip() and FOREIGN_ANCESTORS.search(marker):
            return True
    return False


XML_SPACE_RE = re.compile(r"[ \t\r\n]+")


def _byline_like(el: lhtml.HtmlElement) -> bool:
    attrs = el.attrib
    if not attrs:
        return False
    if attrs.get("rel") == "author" or attrs.get("itemprop") == "author":
        return True
    cls = attrs.get("class")
    if cls is not None:
        if "author" in cls and (
            "author" in XML_SPACE_RE.split(cls) or any(c in cls for c in BYLINE_AUTHOR_CLASSES)
        ):
            return True
        if any(part in cls for part in BYLINE_CLASS_PARTS):
            return True
    ident = attrs.get("id")
    return ident is not None and any(part in ident for part in BYLINE_ID_PARTS)


def byline_elements(tree: lhtml.HtmlElement) -> list[lhtml.HtmlElement]:
    """The page's byline-like elements (see BYLINE_AUTHOR_CLASSES), in document order. One
    Python pass over the elements: twice as fast as the XPath query it replaces (a test keeps
    them equal), whose string tests libxml2 runs slowly."""
    return [el for el in tree.iter(etree.Element) if _byline_like(el)]


def dom_bylines(
    tree: lhtml.HtmlElement, site_names: Iterable[str], selector_xpath: str | None = None
) -> list[AuthorName]:
    """Authors from byline-like elements, first match in document order wins."""
    sites = list(site_names)
    elements = tree.xpath(selector_xpath) if selector_xpath else byline_elements(tree)
    for el in elements:
        if not isinstance(el, lhtml.HtmlElement) or (selector_xpath is None and _foreign(el)):
            continue
        # The innermost element carries the name; containers repeat it with dates and icons.
        if selector_xpath is None and el.xpath(
            ".//*[@rel='author' or @itemprop='name' or contains(@class, 'author')]"
        ):
            continue
        text = el.text_content()
        if el.get("content") and not text.strip():
            text = el.get("content", "")
        names = parse_byline(text, site_names=sites)
        if names:
            return names
    return []


def opens_like_byline(text: str) -> bool:
    r"""Could ``text`` be a byline line (BYLINE_LINE_RE or DATED_BYLINE_RE)? Its first word says
    no for most texts, and is cheap to look at (a case-insensitive pattern that begins with
    ``\s*`` is slow on long texts: the white space is stripped first)."""
    return BYLINE_START_RE.match(text.lstrip()[:24]) is not None


def short_bylines(tree: lhtml.HtmlElement, site_names: Iterable[str]) -> list[AuthorName]:
    """A short element whose whole text is a byline ("Posted by Alon Zakai.", "Von Ben
    Schwan", "Par A, B et C"), outside navigation, teasers and comments; first one wins."""
    sites = list(site_names)
    for el in tree.iter("p", "span", "div", "small", "em", "address", "li", "td"):
        raw = el.text_content()
        if not opens_like_byline(raw):
            continue  # most elements: not worth normalising
        text = " ".join(raw.split())
        if not text or len(text) > SHORT_BYLINE_CHARS:
            continue
        dated = DATED_BYLINE_RE.match(text)  # "On 6/13/2018 by …"
        if dated:
            text = dated.group("byline")
        if not BYLINE_LINE_RE.match(text) or _foreign(el):
            continue
        # An explicit byline line: one-word credits (handles, pen names) count here.
        names = parse_byline(text.rstrip("."), site_names=sites, single_word=True)
        if names:
            return names
    return []


def mailto_bylines(tree: lhtml.HtmlElement, site_names: Iterable[str]) -> list[AuthorName]:
    """The author's initials linked to their address with the name as the link's title, as
    news sites sign the end of a report ("(<a href="mailto:…" title="Ben Roe">bro</a>)")."""
    sites = list(site_names)
    for a in tree.xpath("//a[starts-with(@href, 'mailto:')][@title]"):
        if len(a.text_content().strip()) > 6 or _foreign(a):
            continue
        names = parse_byline(a.get("title", ""), site_names=sites)
        if len(names) == 1 and not names[0].is_organization:
            return names
    return []


ANY_AUTHOR_ATTRIBUTE = "boolean(//*[" + " or ".join(f"@{a}" for a in AUTHOR_ATTRIBUTES) + "])"


def attribute_bylines(tree: lhtml.HtmlElement, site_names: Iterable[str]) -> list[AuthorName]:
    """An author named in a data attribute (``data-author="…"``, analytics data layers)."""
    sites = list(site_names)
    if not tree.xpath(ANY_AUTHOR_ATTRIBUTE):  # one pass over the page for the usual answer
        return []
    for attr in AUTHOR_ATTRIBUTES:
        for value in tree.xpath(f"//*[@{attr}]/@{attr}")[:3]:
            names = parse_byline(str(value), site_names=sites)
            if names:
                return names
    return []


def text_bylines(lines: list[str], site_names: Iterable[str]) -> list[AuthorName]:
    """A "By Jane Roe" line near the top of the text."""
    for line in lines[:8]:
        if BYLINE_LINE_RE.match(line) and len(line) < 120:
            names = parse_byline(line, site_names=site_names)
            if names:
                return names
    return []


def is_name_line(line: str) -> bool:
    line = line.strip()
    return (
        3 < len(line) < 60
        and not CJK_RE.search(line)  # a short CJK line is as likely a phrase as a name
        and not line.endswith((".", ":", "?", "!", "»", '"'))
        and looks_like_person(line)
    )


def lone_name_lines(lines: list[str], bio_names: set[str]) -> list[int]:
    """Indexes of lines that are only a person's name: near the top (a byline without "By"),
    or anywhere when the same person's bio closes the text (a reposted op-ed, as in the seed)."""
    from pipeline.textnorm import author_key

    hits = []
    for i, line in enumerate(lines):
        if not is_name_line(line):
            continue
        if author_key(line) in bio_names or i < 3:
            hits.append(i)
    return hits


def bio_authors(lines: list[str], site_names: Iterable[str]) -> list[AuthorName]:
    """Authors named by a bio in the last paragraphs ("X is a senior fellow at …")."""
    found: list[AuthorName] = []
    tail = [ln.strip() for ln in lines[-3:] if ln.strip() and len(ln) < 700]
    for line in tail:
        line_c = re.sub(r"^[_\-–—*=\s]+", "", line)
        for rx in (BIO_RE, BIO_RE_ROMANCE, BIO_RE_RU, BIO_RE_AR):
            m = rx.match(line_c)
            if m:
                names = parse_byline(m.group("name"), site_names=site_names)
                if len(names) == 1 and not names[0].is_organization:
                    found.append(AuthorName(names[0].name, False, bio=line_c[:1000]))
                break
    return found


def editor_names(html_text: str) -> set[str]:
    """Names the page credits as its editors ("责任编辑：…"): whatever else names them, they are
    not the authors."""
    if "编辑" not in html_text and "編輯" not in html_text:  # in every label; a fast test first
        return set()
    return {m.group(1) for m in EDITOR_CREDIT_RE.finditer(html_text)}


def without_editors(authors: list[AuthorName], editors: set[str]) -> list[AuthorName]:
    return [a for a in authors if not any(e in a.name for e in editors)]


def has_disclaimer(text: str) -> bool:
    return bool(DISCLAIMER_RE.search(text[-3000:]) or DISCLAIMER_RE.search(text[:1500]))
