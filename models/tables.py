"""The data model (see docs/schema.md for what each row means)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Outlet(Base):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(String(8), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    feeds: Mapped[list[Any]] = mapped_column(default=list)
    sitemaps: Mapped[list[Any]] = mapped_column(default=list)
    sections: Mapped[list[Any]] = mapped_column(default=list)
    article_patterns: Mapped[list[Any]] = mapped_column(default=list)
    opinion_patterns: Mapped[list[Any]] = mapped_column(default=list)
    selectors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    interval_minutes: Mapped[float] = mapped_column(Float, default=60)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    from_config: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Article(Base):
    """The work itself, however many times and places it was published."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    lead: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    is_opinion: Mapped[bool] = mapped_column(Boolean, default=False)
    opinion_reason: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    modified_at: Mapped[dt.datetime | None]
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    original_appearance_id: Mapped[int | None] = mapped_column(
        ForeignKey("appearances.id", use_alter=True, ondelete="SET NULL")
    )
    # Set by the flag job; NULL means "not matched against the current watchlist yet".
    flagged_at: Mapped[dt.datetime | None] = mapped_column(index=True)

    appearances: Mapped[list[Appearance]] = relationship(
        back_populates="article", foreign_keys="Appearance.article_id"
    )
    # post_update: an article and its original appearance are inserted together (each names the
    # other), so the link is written by an UPDATE after both rows exist.
    original: Mapped[Appearance | None] = relationship(
        foreign_keys=[original_appearance_id], post_update=True
    )
    authors: Mapped[list[ArticleAuthor]] = relationship(
        back_populates="article", order_by="ArticleAuthor.position", cascade="all, delete-orphan"
    )
    mentions: Mapped[list[Mention]] = relationship(back_populates="article")


class LshBand(Base):
    """One LSH band key of an article's MinHash signature: the persistent near-duplicate index."""

    __tablename__ = "lsh_bands"

    # The key leads the primary key: a lookup is a handful of `key IN (...)` index probes.
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Appearance(Base):
    """One publication of an article: an outlet and a canonical URL."""

    __tablename__ = "appearances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[dt.datetime | None]
    # The page's own rel=canonical when it points elsewhere (a syndication partner's original).
    canonical_target: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    html_hash: Mapped[str] = mapped_column(String(64), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    article: Mapped[Article] = relationship(back_populates="appearances", foreign_keys=[article_id])
    outlet: Mapped[Outlet] = relationship()


class Url(Base):
    """Every URL variant ever seen for an appearance (tracking params, AMP, mobile, redirects)."""

    __tablename__ = "urls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    appearance_id: Mapped[int] = mapped_column(
        ForeignKey("appearances.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="variant")
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    is_organization: Mapped[bool] = mapped_column(Boolean, default=False)
    bio: Mapped[str] = mapped_column(Text, default="")
    affiliation: Mapped[str] = mapped_column(String(300), default="")


class ArticleAuthor(Base):
    __tablename__ = "article_authors"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    article: Mapped[Article] = relationship(back_populates="authors")
    author: Mapped[Author] = relationship()


class WatchEntity(Base):
    __tablename__ = "watch_entities"
    __table_args__ = (CheckConstraint("kind IN ('actor', 'place')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    # pipeline.textnorm.lookup_key(name), set by core.sync; compared by search and sync.
    key: Mapped[str] = mapped_column(String(300), default="", server_default="", index=True)
    kind: Mapped[str] = mapped_column(String(10))
    wikidata_id: Mapped[str] = mapped_column(String(20), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    from_config: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the archive was last matched against for this entity (a hash of its aliases).
    applied_hash: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    aliases: Mapped[list[WatchAlias]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", order_by="WatchAlias.id"
    )


class WatchAlias(Base):
    __tablename__ = "watch_aliases"
    __table_args__ = (UniqueConstraint("entity_id", "text", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("watch_entities.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), default="", server_default="", index=True)
    language: Mapped[str] = mapped_column(String(8), default="")
    case_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)

    entity: Mapped[WatchEntity] = relationship(back_populates="aliases")


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("article_id", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("watch_entities.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(Integer, default=0)
    offsets: Mapped[list[Any]] = mapped_column(default=list)
    in_title: Mapped[bool] = mapped_column(Boolean, default=False)
    snippet: Mapped[str] = mapped_column(Text, default="")
    matched: Mapped[str] = mapped_column(String(300), default="")
    matcher_version: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    article: Mapped[Article] = relationship(back_populates="mentions")
    entity: Mapped[WatchEntity] = relationship()


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    schedule: Mapped[str] = mapped_column(String(100), default="0 7 * * *")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    from_config: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Backoff after a failed send: no new attempt before this time.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_after: Mapped[dt.datetime | None]

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan"
    )


class Subscription(Base):
    """What a subscriber wants: one entity, or everything flagged (entity_id NULL)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[int | None] = mapped_column(
        ForeignKey("watch_entities.id", ondelete="CASCADE")
    )
    opinion_only: Mapped[bool] = mapped_column(Boolean, default=False)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    entity: Mapped[WatchEntity | None] = relationship()


class Delivery(Base):
    """An article the SMTP server accepted for a subscriber: never sent to them again."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "article_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    digest_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="sent")
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    message_id: Mapped[str] = mapped_column(String(300), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    pid: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    skipped_known: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    http_statuses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str] = mapped_column(Text, default="")

    outlet: Mapped[Outlet] = relationship()


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class StoreSetting(Base):
    """A setting the stored rows were made with, kept beside them so that a process computing
    them differently notices (pipeline.dedup.ensure_index: how the near-duplicate signatures and
    their LSH band keys were made)."""

    __tablename__ = "store_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Lock(Base):
    """A named lease (one scheduler per database, one digest run per subscriber)."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]


class Source(Base):
    """A feed or sitemap an outlet's crawls read: when its list of entries last changed (a feed
    that stopped changing while the outlet still publishes is a broken feed)."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("outlet_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # feed | sitemap
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    entries: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class HealthEvent(Base):
    """An outlet's health changed (ok / degraded / silent), and why. The latest row per outlet is
    its current state; admins are mailed each row once (health_deliveries)."""

    __tablename__ = "health_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    previous: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    outlet: Mapped[Outlet] = relationship()


class HealthDelivery(Base):
    """A health change the SMTP server accepted for an admin: never sent to them again."""

    __tablename__ = "health_deliveries"
    __table_args__ = (UniqueConstraint("email", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    event_id: Mapped[int] = mapped_column(
        ForeignKey("health_events.id", ondelete="CASCADE"), index=True
    )
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    message_id: Mapped[str] = mapped_column(String(300), default="")


Index("ix_appearances_outlet_published", Appearance.outlet_id, Appearance.published_at)
