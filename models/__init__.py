"""SQLAlchemy 2 models and the engine/session factory."""

from models.base import Base, UTCDateTime, utcnow
from models.engine import in_transaction, make_engine, read_session, session_factory, writer
from models.tables import (
    Appearance,
    Article,
    ArticleAuthor,
    Author,
    CrawlRun,
    Delivery,
    JobRun,
    Lock,
    LshBand,
    Mention,
    Outlet,
    Subscriber,
    Subscription,
    Url,
    WatchAlias,
    WatchEntity,
)

__all__ = [
    "Appearance",
    "Article",
    "ArticleAuthor",
    "Author",
    "Base",
    "CrawlRun",
    "Delivery",
    "JobRun",
    "Lock",
    "LshBand",
    "Mention",
    "Outlet",
    "Subscriber",
    "Subscription",
    "UTCDateTime",
    "Url",
    "WatchAlias",
    "WatchEntity",
    "in_transaction",
    "make_engine",
    "read_session",
    "session_factory",
    "utcnow",
    "writer",
]
