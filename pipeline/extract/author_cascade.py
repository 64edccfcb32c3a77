"""Authors from structured data (JSON-LD, microdata) and meta tags; the in-page bylines are
in pipeline.bylines. The cascade's order is in extract_page."""

from __future__ import annotations

from pipeline.authors import (
    AuthorName,
    clean_author,
    merge_authors,
    names_site,
    nfc_spaces,
    parse_byline,
)
from pipeline.extract.model import text_of
from pipeline.rules import (
    ORGANIZATION_TYPES,
)
from pipeline.structured import Structured, types_of


def structured_authors(st: Structured, sites: list[str]) -> list[AuthorName]:
    raw = st.article.get("author") or st.article.get("creator") or st.microdata.get("author")
    items = raw if isinstance(raw, list) else [raw] if raw else []
    out: list[AuthorName] = []
    for item in items:
        node = st.resolve(item)
        if isinstance(node, str):
            out += parse_byline(node, site_names=sites)
        elif isinstance(node, dict):
            name = text_of(node.get("name"))
            if not name:
                continue
            if ORGANIZATION_TYPES.intersection(types_of(node)):
                # An organisation author is kept unless it is the site itself.
                cand = clean_author(name, site_names=sites)
                if cand is not None:
                    out.append(AuthorName(cand.name, True))
                elif not names_site(name, sites):
                    out.append(AuthorName(nfc_spaces(name), True))
            elif "Person" in types_of(node):
                # Typed as a person: a personal site's own name is its author's name.
                out += parse_byline(name)
            else:
                out += parse_byline(name, site_names=sites)
    return out


def meta_authors(st: Structured, sites: list[str]) -> list[AuthorName]:
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
