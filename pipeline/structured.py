"""Structured data of a page: JSON-LD (via extruct, ``@graph`` and ``@id`` references resolved),
microdata, and every ``<meta>`` a publisher might use (OpenGraph, ``article:*``, Dublin Core,
Parse.ly, Sailthru, citation_*)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from lxml import html as lhtml

from pipeline.rules import ARTICLE_TYPES

log = logging.getLogger(__name__)


def types_of(node: dict[str, Any]) -> list[str]:
    """A JSON-LD node's @type as a list of bare names (``schema:NewsArticle`` → ``NewsArticle``)."""
    t = node.get("@type", [])
    types = t if isinstance(t, list) else [t]
    return [str(x).rsplit("/", 1)[-1] for x in types]


@dataclass
class Structured:
    article: dict[str, Any] = field(default_factory=dict)  # the main article node
    article_type: str = ""
    webpage: dict[str, Any] = field(default_factory=dict)
    nodes_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    breadcrumbs: list[str] = field(default_factory=list)
    site_names: list[str] = field(default_factory=list)
    microdata: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, list[str]] = field(default_factory=dict)

    def meta_first(self, *names: str) -> str:
        for n in names:
            for v in self.meta.get(n.lower(), []):
                if v.strip():
                    return v.strip()
        return ""

    def meta_all(self, *names: str) -> list[str]:
        return [v.strip() for n in names for v in self.meta.get(n.lower(), []) if v.strip()]

    def resolve(self, value: Any) -> Any:
        """Follow an ``{"@id": ...}`` reference into the graph (Yoast writes authors this way)."""
        if (
            isinstance(value, dict)
            and set(value) <= {"@id"}
            and value.get("@id") in self.nodes_by_id
        ):
            return self.nodes_by_id[value["@id"]]
        return value


def collect_meta(tree: lhtml.HtmlElement) -> dict[str, list[str]]:
    meta: dict[str, list[str]] = {}
    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        content = el.get("content")
        if key and content is not None:
            meta.setdefault(key.strip().lower(), []).append(content)
    return meta


def _flatten(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(items)
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item
        elif isinstance(item, dict):
            if "@graph" in item:
                stack[:0] = item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]]
                if len(item) <= 2:
                    continue
            out.append(item)
    return out


def _jsonld(tree: lhtml.HtmlElement, url: str) -> list[Any]:
    """The JSON-LD items of the page, read from our own parse (extruct's reader, one script at
    a time: a broken script costs only itself, and the HTML is not parsed again)."""
    from extruct.jsonld import JsonLdExtractor  # extruct (0.14 s to import) where it is used

    reader = JsonLdExtractor()
    items: list[Any] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            items += reader.extract_items(script, base_url=url)
            continue
        except Exception as exc:  # invalid JSON, even for extruct's lenient reader
            log.debug("json-ld script unreadable: %s", exc, extra={"url": url})
        raw = (script.text or "").strip().rstrip(";")
        # XHTML habits: the data wrapped in a CDATA section or an HTML comment.
        raw = re.sub(r"^(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)$", "", raw).strip()
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        items += data if isinstance(data, list) else [data]
    return items


def _microdata(tree: lhtml.HtmlElement, url: str) -> dict[str, Any]:
    """The page's first article item in microdata, read from our tree (extruct would otherwise
    parse the page again)."""
    import extruct

    try:
        data = extruct.extract(
            tree, base_url=url, syntaxes=["microdata"], errors="ignore", uniform=True
        )
    except Exception:
        return {}
    for item in data.get("microdata", []):
        if isinstance(item, dict) and any(t in ARTICLE_TYPES for t in types_of(item)):
            return item
    return {}


def extract_structured(tree: lhtml.HtmlElement, url: str) -> Structured:
    st = Structured(meta=collect_meta(tree))
    nodes = _flatten(_jsonld(tree, url))
    st.nodes_by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    ranked: list[tuple[int, dict[str, Any], str]] = []
    for n in nodes:
        types = types_of(n)
        for t in types:
            if t in ARTICLE_TYPES:
                ranked.append((ARTICLE_TYPES.index(t), n, t))
        if "WebPage" in types or any(t.endswith("Page") for t in types):
            st.webpage = st.webpage or n
        if "BreadcrumbList" in types:
            elems = n.get("itemListElement") or []
            for e in sorted(
                (e for e in elems if isinstance(e, dict)), key=lambda e: int(e.get("position") or 0)
            ):
                item = e.get("item")
                name = e.get("name") or (item.get("name") if isinstance(item, dict) else None)
                if isinstance(name, str):
                    st.breadcrumbs.append(name.strip())
        is_site = "WebSite" in types or "Organization" in types or "NewsMediaOrganization" in types
        if is_site and isinstance(n.get("name"), str) and "person" not in str(n.get("@id", "")):
            st.site_names.append(n["name"])
    if ranked:
        ranked.sort(key=lambda r: r[0])
        _, st.article, st.article_type = ranked[0]
        pub = st.resolve(st.article.get("publisher"))
        if isinstance(pub, dict) and isinstance(pub.get("name"), str):
            st.site_names.append(pub["name"])
    elif tree.xpath("//*[@itemscope][@itemtype]"):
        st.microdata = _microdata(tree, url)
    st.site_names += st.meta_all("og:site_name", "application-name", "twitter:site")
    return st


def absolute(url: str, href: str | None) -> str:
    return urljoin(url, href.strip()) if href and href.strip() else ""
