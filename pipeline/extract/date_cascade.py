"""The publication and modification dates: structured data, meta, <time>, per-outlet
selector, datelines, the URL, the feed, then htmldate on markup only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lxml import etree
from lxml import html as lhtml

from pipeline import dates
from pipeline.authors import (
    nfc_spaces,
)
from pipeline.extract.model import FeedHints, OutletRules, css_xpath, text_of
from pipeline.rules import PUBLISHED_FIELDS, REVISION_WINDOW, TEXT_DATELINE_RE
from pipeline.structured import Structured

# Dateline elements (``dateline_elements``): leaves whose class names a dateline, an entry's or a
# post's date (WordPress's "entry-date published updated" included), or a publication.
DATELINE_CLASSES = ("dateline", "entry-date", "post-date", "article-date")
# Then, when those give nothing (``date_class_elements``): any leaf whose class or itemprop names a
# date or a timestamp ("date", "story-date", "article__date", "timestamp", itemprop=datePublished)
# — not one naming an update or a modification (the first publication is wanted), not one in a
# list, an aside, the navigation, the footer, a link or a teaser (one of several <article>s,
# without the headline: related articles carry their own dates), and only with a year in it (a
# bare "March 18" in a widget would take the fetch year).
DATE_LOWER = str.maketrans("DATE", "date")
UPDATE_LOWER = str.maketrans("UPDATEMODIF", "updatemodif")
UPDATE_WORDS = ("update", "modif")
NOT_DATELINE_ANCESTORS = frozenset({"li", "aside", "nav", "footer", "a"})
DATES_WANTED = 3  # datelines read, in document order


def _leaf(el: lhtml.HtmlElement) -> bool:
    return next(el.iterchildren(etree.Element), None) is None


def dateline_elements(tree: lhtml.HtmlElement) -> list[lhtml.HtmlElement]:
    """The first ``DATES_WANTED`` dateline leaves, in document order."""
    found = []
    for el in tree.iter(etree.Element):
        cls = el.get("class")
        if cls is None or not (
            ("date" in cls and any(c in cls for c in DATELINE_CLASSES)) or "published" in cls
        ):
            continue
        if _leaf(el):
            found.append(el)
            if len(found) == DATES_WANTED:
                break
    return found


def date_class_elements(tree: lhtml.HtmlElement) -> list[lhtml.HtmlElement]:
    """The first ``DATES_WANTED`` leaves whose class or itemprop names a date, outside lists,
    asides, navigation, footers, links and teasers, in document order."""
    found: list[lhtml.HtmlElement] = []
    articles: int | None = None
    for el in tree.iter(etree.Element):
        cls = el.get("class")
        named = cls is not None and (
            ("date" in cls.lower() and "date" in cls.translate(DATE_LOWER)) or "timestamp" in cls
        )
        if not (named or el.get("itemprop") == "datePublished"):
            continue
        revised = cls is not None and any(w in cls.translate(UPDATE_LOWER) for w in UPDATE_WORDS)
        if revised or not _leaf(el):
            continue
        for anc in el.iterancestors():
            if anc.tag in NOT_DATELINE_ANCESTORS:
                break
            if anc.tag == "article" and anc.find(".//h1") is None:
                if articles is None:
                    articles = sum(1 for _ in tree.iter("article"))
                if articles > 1:
                    break
        else:
            found.append(el)
            if len(found) == DATES_WANTED:
                break
    return found


YEAR_RE = re.compile(r"(?:19|20)\d\d|[١۱][٩۹][٠-٩۰-۹]{2}|[٢۲][٠۰][٠-٩۰-۹]{2}")


def pick_dates(
    st: Structured,
    tree: lhtml.HtmlElement,
    url: str,
    outlet: OutletRules,
    hints: FeedHints,
    html_text: str,
    fetched_at: dt.datetime,
    first_line: str = "",
) -> tuple[str, dt.datetime | None, dt.datetime | None, dt.date | None]:
    """(the rule that gave the publication date, published and modified in UTC, the publication's
    calendar day in the publisher's own time zone as the page gave it)."""

    def p(value: object, **kw: Any) -> dt.datetime | None:
        # In the publisher's own offset until the choice is made: its calendar day is kept.
        return dates.parse_datetime(value, utc=False, **kw)

    # Visible dates are read in the page's language (day/month order, month names) and a date
    # without a year takes the fetch year.
    language = (tree.get("lang") or outlet.language or "").strip()

    def visible(text: str) -> dt.datetime | None:
        return p(text, fuzzy=True, language=language, reference=fetched_at)

    time_el = tree.xpath("(//time[@datetime])[1]/@datetime")
    selector_dates = []
    if outlet.date_selector:
        for el in tree.xpath(css_xpath(outlet.date_selector)):
            selector_dates.append(
                visible(el.get("datetime") or el.get("content") or el.text_content())
            )
    dateline = [
        visible(nfc_spaces(el.text_content()))
        for el in dateline_elements(tree)
        if 4 < len(el.text_content().strip()) < 80
    ]
    if not any(dateline):
        dateline = [
            visible(nfc_spaces(el.text_content()))
            for el in date_class_elements(tree)
            if 4 < len(el.text_content().strip()) < 80 and YEAR_RE.search(el.text_content())
        ]
    opening = TEXT_DATELINE_RE.match(first_line[:80])
    text_dateline = (
        visible(opening.group("date"))
        if opening and YEAR_RE.search(opening.group("date"))
        else None
    )
    candidates: list[tuple[str, dt.datetime | None]] = [
        (
            "json-ld",
            p(text_of(st.article.get("datePublished")) or text_of(st.article.get("dateCreated"))),
        ),
        ("json-ld:webpage", p(text_of(st.webpage.get("datePublished")))),
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
                    "publishdate",
                    "publication_date",
                    "citation_publication_date",
                    "datepublished",
                )
            ),
        ),
        ("microdata", p(text_of(st.microdata.get("datePublished")))),
        ("time", p(time_el[0]) if time_el else None),
        *[("selector", d) for d in selector_dates],
        *[("dateline", d) for d in dateline],
        ("text-dateline", text_dateline),
        ("url", dates.date_from_url(url)),
        ("feed", hints.published_at),
    ]
    source, published = dates.first_plausible(candidates, fetched_at)
    if source in PUBLISHED_FIELDS and published is not None:
        earlier: list[tuple[str, dt.datetime]] = [
            (s, v)
            for s, v in candidates
            if s in PUBLISHED_FIELDS
            and v is not None
            and dates.plausible(v, fetched_at)
            and published - REVISION_WINDOW < v < published
        ]
        if earlier:
            source, published = min(earlier, key=lambda c: c[1])
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
            ("json-ld", p(text_of(st.article.get("dateModified")))),
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
    # A page is not published after we fetched it: the day of slack that plausible() allows for
    # clocks and time zones never shows as a future date.
    if published is not None and published > fetched_at:
        published = fetched_at
    if modified is not None and published is not None and modified < published:
        modified = None
    local_day = None
    if published is not None:
        # The calendar day where the publisher is: the chosen instant in its own offset, or in
        # the offset another field gives the same instant ("…T01:18Z" and "…T17:18-08:00").
        same = [
            v
            for _, v in candidates
            if v is not None
            and abs(v - published) < dt.timedelta(minutes=1)
            and v.utcoffset() not in (None, dt.timedelta(0))
        ]
        local_day = (same[0] if same else published).date()
    return (
        source,
        published and published.astimezone(dt.UTC),
        modified and modified.astimezone(dt.UTC),
        local_day,
    )
