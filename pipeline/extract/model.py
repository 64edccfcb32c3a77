"""What extraction takes and gives: the outlet's rules, feed hints, the extracted fields."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cssselect import GenericTranslator

from pipeline.authors import (
    AuthorName,
    nfc_spaces,
)


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
    # The publication's calendar day where its publisher is (the page's own offset): 23:30 in
    # Moscow is the day before in UTC, and an analyst reads the outlet's date.
    published_day: dt.date | None = None
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


def text_of(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | dict)), "")
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return nfc_spaces(value) if isinstance(value, str) else ""
