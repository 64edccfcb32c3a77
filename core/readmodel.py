"""One read-model of an article, built the same way for search, `show`, the digests and the web
view: its authors in byline order, its mentions most frequent first, and every appearance in the
order the crawler met them, the original marked."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Appearance, Article, ArticleAuthor, Author, Mention, Outlet, WatchEntity


@dataclass(frozen=True)
class AuthorRef:
    id: int
    name: str
    is_organization: bool = False


@dataclass(frozen=True)
class AppearanceView:
    id: int
    outlet: str  # slug
    outlet_name: str
    url: str
    first_seen: dt.datetime
    published_at: dt.datetime | None
    is_original: bool


@dataclass(frozen=True)
class MentionView:
    entity_id: int
    entity: str
    kind: str
    count: int
    in_title: bool
    snippet: str


@dataclass
class ArticleView:
    id: int
    title: str
    lead: str
    language: str
    is_opinion: bool
    opinion_reason: str
    published_at: dt.datetime | None
    modified_at: dt.datetime | None
    first_seen: dt.datetime
    text: str = ""
    authors: list[AuthorRef] = field(default_factory=list)
    appearances: list[AppearanceView] = field(default_factory=list)
    mentions: list[MentionView] = field(default_factory=list)

    @property
    def original(self) -> AppearanceView | None:
        return next((a for a in self.appearances if a.is_original), None) or (
            self.appearances[0] if self.appearances else None
        )

    @property
    def republications(self) -> list[AppearanceView]:
        original = self.original
        return [a for a in self.appearances if original is None or a.id != original.id]

    def contract(self) -> dict[str, Any]:
        """The `search --format json` row (DESIGN.md)."""
        original = self.original
        return {
            "id": self.id,
            "url": original.url if original else "",
            "title": self.title,
            "outlet": original.outlet if original else "",
            "authors": [a.name for a in self.authors],
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "is_opinion": self.is_opinion,
            "language": self.language,
            "entities": [m.entity for m in self.mentions],
            "appearances": [{"outlet": a.outlet, "url": a.url} for a in self.appearances],
        }


def load_articles(
    session: Session,
    ids: list[int],
    *,
    with_text: bool = False,
    entity_ids: set[int] | None = None,
) -> list[ArticleView]:
    """The articles with these ids, in this order (unknown ids are left out). ``entity_ids``
    keeps only the mentions of those entities (a digest shows what the subscriber follows)."""
    if not ids:
        return []
    arts = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
    authors: dict[int, list[AuthorRef]] = defaultdict(list)
    for art_id, author_id, name, is_org in session.execute(
        select(ArticleAuthor.article_id, Author.id, Author.name, Author.is_organization)
        .join(Author, Author.id == ArticleAuthor.author_id)
        .where(ArticleAuthor.article_id.in_(ids))
        .order_by(ArticleAuthor.article_id, ArticleAuthor.position)
    ):
        authors[art_id].append(AuthorRef(author_id, name, is_org))
    mention_q = (
        select(
            Mention.article_id,
            WatchEntity.id,
            WatchEntity.name,
            WatchEntity.kind,
            Mention.count,
            Mention.in_title,
            Mention.snippet,
        )
        .join(WatchEntity, WatchEntity.id == Mention.entity_id)
        .where(Mention.article_id.in_(ids))
        .order_by(Mention.article_id, Mention.count.desc(), WatchEntity.name)
    )
    if entity_ids is not None:
        mention_q = mention_q.where(Mention.entity_id.in_(entity_ids))
    mentions: dict[int, list[MentionView]] = defaultdict(list)
    for art_id, entity_id, name, kind, count, in_title, snippet in session.execute(mention_q):
        mentions[art_id].append(MentionView(entity_id, name, kind, count, in_title, snippet))
    appearances: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            Appearance.article_id,
            Appearance.id,
            Outlet.slug,
            Outlet.name,
            Appearance.url,
            Appearance.first_seen,
            Appearance.published_at,
        )
        .join(Outlet, Outlet.id == Appearance.outlet_id)
        .where(Appearance.article_id.in_(ids))
        .order_by(Appearance.first_seen, Appearance.id)
    ):
        appearances[row.article_id].append(row)
    views = []
    for i in ids:
        a = arts.get(i)
        if a is None:
            continue
        views.append(
            ArticleView(
                id=a.id,
                title=a.title,
                lead=a.lead,
                language=a.language,
                is_opinion=a.is_opinion,
                opinion_reason=a.opinion_reason,
                published_at=a.published_at,
                modified_at=a.modified_at,
                first_seen=a.first_seen,
                text=a.text if with_text else "",
                authors=authors[i],
                mentions=mentions[i],
                appearances=[
                    AppearanceView(
                        id=app.id,
                        outlet=app.slug,
                        outlet_name=app.name,
                        url=app.url,
                        first_seen=app.first_seen,
                        published_at=app.published_at,
                        is_original=app.id == a.original_appearance_id,
                    )
                    for app in appearances[i]
                ],
            )
        )
    return views
