"""Store one extracted page: one transaction, deduplicated, with provenance.

Outcomes: ``new`` (a new article), ``duplicate`` (a new appearance of a known article: another
URL or another outlet), ``updated`` (a known page whose text or dates changed), ``unchanged``.

Races between crawl processes are decided by unique constraints (``appearances.url``,
``urls.url``, ``articles.content_hash``, ``authors.key``) with INSERT … ON CONFLICT, and by
:func:`models.in_transaction` re-running the whole page when a concurrent writer won. Deciding
that a page is a *new* article takes a lock (SQLite: the write lock every writer takes;
PostgreSQL: a transaction advisory lock), so two processes cannot both create the same article
from near-identical texts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.orm import Session

from models import (
    Appearance,
    Article,
    ArticleAuthor,
    Author,
    LshBand,
    Url,
    in_transaction,
    insert_ignore,
    utcnow,
)
from pipeline.authors import AuthorName
from pipeline.dedup import Fingerprint, band_keys, find_near_duplicate, known_appearance
from pipeline.extract import Extracted
from pipeline.urls import canonicalize, is_amp, is_mobile

NEW_ARTICLE_LOCK = 0x6D6577  # PostgreSQL advisory lock id for "create an article"


@dataclass
class FetchInfo:
    requested_url: str
    final_url: str = ""
    redirect_urls: list[str] = field(default_factory=list)
    seen_urls: list[str] = field(default_factory=list)  # spellings discovery met (feed, sitemap)
    # The canonical forms of requested_url, final_url and redirect_urls, computed once where the
    # URLs came in (the spider); left empty, store_page computes them.
    canonical_urls: set[str] = field(default_factory=set)
    status: int = 200
    etag: str = ""
    last_modified: str = ""
    html_hash: str = ""
    fetched_at: dt.datetime = field(default_factory=utcnow)


@dataclass
class StoreResult:
    status: str
    article_id: int
    appearance_id: int


def author_ids(session: Session, authors: list[AuthorName]) -> list[int]:
    ids = []
    for a in authors:
        insert_ignore(
            session,
            Author,
            {"key": a.key, "name": a.name, "is_organization": a.is_organization, "bio": a.bio},
            ["key"],
        )
        row = session.scalars(select(Author).where(Author.key == a.key)).one()
        if a.bio and not row.bio:
            row.bio = a.bio
        ids.append(row.id)
    return ids


def set_article_authors(
    session: Session, article: Article, authors: list[AuthorName], *, fresh: bool = False
) -> None:
    """``fresh``: the article was created in this transaction and has no authors yet (no need
    to read or delete any: two round trips fewer per new article)."""
    ids = list(dict.fromkeys(author_ids(session, authors)))
    if not fresh:
        if [aa.author_id for aa in article.authors] == ids:
            return
        session.execute(delete(ArticleAuthor).where(ArticleAuthor.article_id == article.id))
        session.expire(article, ["authors"])
    for pos, aid in enumerate(ids):
        session.add(ArticleAuthor(article_id=article.id, author_id=aid, position=pos))


def _set_text(
    session: Session,
    art: Article,
    page: Extracted,
    fp: Fingerprint,
    threshold: float,
    *,
    fresh: bool = False,
) -> None:
    """Give ``art`` this page's text and its LSH bands (``fresh``: a new article, which has no
    bands to delete)."""
    art.title = page.title
    art.lead = page.lead
    art.text = page.text
    art.language = page.language
    art.is_opinion = page.is_opinion
    art.opinion_reason = page.opinion_reason
    art.published_at = page.published_at or art.published_at
    art.modified_at = page.modified_at
    art.content_hash = fp.content_hash
    art.minhash = fp.signature
    art.word_count = fp.words
    art.flagged_at = None
    art.updated_at = utcnow()
    session.flush()
    if not fresh:
        session.execute(delete(LshBand).where(LshBand.article_id == art.id))
    if fp.signature is not None:
        session.execute(
            insert(LshBand),
            [
                {"band": b, "key": k, "article_id": art.id}
                for b, k in band_keys(fp.signature, threshold)
            ],
        )


def choose_original(session: Session, article: Article) -> None:
    """The original appearance: the one the others' rel=canonical points to, else the earliest."""
    apps = list(session.scalars(select(Appearance).where(Appearance.article_id == article.id)))
    if not apps:
        return
    targets = {a.canonical_target for a in apps if a.canonical_target}
    by_url = (
        {u.url: u.appearance_id for u in session.scalars(select(Url).where(Url.url.in_(targets)))}
        if targets
        else {}
    )
    pointed = [a for a in apps if a.url in targets or a.id in by_url.values()]
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    pool = pointed or apps
    original = min(pool, key=lambda a: (a.published_at or far_future, a.first_seen, a.id))
    if article.original_appearance_id != original.id:
        article.original_appearance_id = original.id
        if original.published_at:
            article.published_at = original.published_at


def url_kind(url: str, canonical: str, fetch: FetchInfo, redirects: set[str]) -> str:
    """How the crawler met this spelling of a page (``urls.kind``): ``canonical``, ``redirect``
    (``redirects``: the redirect URLs as met and canonicalised), ``amp``, ``mobile``,
    ``discovered`` (as a feed, sitemap or section page spelled it, e.g. with tracking
    parameters) or ``variant``."""
    if url == canonical:
        return "canonical"
    if url in redirects:
        return "redirect"
    if is_amp(url):
        return "amp"
    if is_mobile(url):
        return "mobile"
    if url in fetch.seen_urls:
        return "discovered"
    return "variant"


def _add_variants(
    session: Session, appearance_id: int, variants: set[str], canonical: str, fetch: FetchInfo
) -> None:
    redirects = {*fetch.redirect_urls, *(canonicalize(u) for u in fetch.redirect_urls)}
    for v in sorted(variants):
        kind = url_kind(v, canonical, fetch, redirects)
        insert_ignore(
            session,
            Url,
            {
                "url": v,
                "appearance_id": appearance_id,
                "kind": kind,
                "first_seen": fetch.fetched_at,
            },
            ["url"],
        )


def store_page(
    engine: Engine, outlet_id: int, page: Extracted, fetch: FetchInfo, *, threshold: float = 0.7
) -> StoreResult:
    """Store one page in one transaction (retried whole if the database was busy)."""
    fp = Fingerprint.of(page.text)
    met = [u for u in [fetch.requested_url, fetch.final_url, *fetch.redirect_urls] if u]
    canonical_met = fetch.canonical_urls or {canonicalize(u) for u in met}
    canonical = page.canonical_url or canonicalize(fetch.final_url or fetch.requested_url)
    variants = {*canonical_met, *page.url_variants, canonical}
    # The spellings actually met (tracking parameters and all) are provenance too.
    variants |= {u.split("#")[0] for u in [*met, *fetch.seen_urls] if u}

    def work(session: Session) -> StoreResult:
        known = known_appearance(session, variants)
        if known is not None:
            return _refresh(session, known, page, fetch, fp, variants, canonical, threshold)
        if session.get_bind().dialect.name == "postgresql":
            # Concurrent crawls must not both create the same article: an unknown page takes the
            # lock first, then looks again (another writer may have stored it meanwhile).
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": NEW_ARTICLE_LOCK})
            known = known_appearance(session, variants)
            if known is not None:
                return _refresh(session, known, page, fetch, fp, variants, canonical, threshold)
        art = _match_existing(session, fp, threshold, outlet_id)
        status = "duplicate"
        if art is None:
            status = "new"
            art = Article(
                content_hash=fp.content_hash,
                first_seen=fetch.fetched_at,
                last_seen=fetch.fetched_at,
            )
            session.add(art)
            _set_text(session, art, page, fp, threshold, fresh=True)
        app = Appearance(
            article_id=art.id,
            outlet_id=outlet_id,
            url=canonical,
            title=page.title,
            section=page.section,
            published_at=page.published_at,
            canonical_target=page.canonical_target,
            fetched_at=fetch.fetched_at,
            first_seen=fetch.fetched_at,
            last_seen=fetch.fetched_at,
            etag=fetch.etag,
            last_modified=fetch.last_modified,
            html_hash=fetch.html_hash,
            content_hash=fp.content_hash,
        )
        session.add(app)
        session.flush()  # a concurrent insert of the same URL fails here → retried as "known"
        _add_variants(session, app.id, variants, canonical, fetch)
        art.last_seen = fetch.fetched_at
        if status == "new":
            art.original_appearance_id = app.id
            set_article_authors(session, art, page.authors, fresh=True)
        else:
            before = art.original_appearance_id
            choose_original(session, art)
            if art.original_appearance_id == app.id != before:
                # The original arrived after a republication: the work is the original's text,
                # title and authors, not the republisher's ("first published by …") version.
                _adopt_text(session, art, page, fp, threshold)
            elif not art.authors and page.authors:
                set_article_authors(session, art, page.authors)
        return StoreResult(status, art.id, app.id)

    return in_transaction(engine, work, what=f"store {canonical}")


def _adopt_text(
    session: Session, art: Article, page: Extracted, fp: Fingerprint, threshold: float
) -> None:
    """Give ``art`` this page's text, title and authors (unless another article has this exact
    text: the content hash is unique)."""
    taken = session.scalar(
        select(Article.id).where(Article.content_hash == fp.content_hash, Article.id != art.id)
    )
    if taken is not None:
        return
    _set_text(session, art, page, fp, threshold)
    if page.authors:
        set_article_authors(session, art, page.authors)


def _match_existing(
    session: Session, fp: Fingerprint, threshold: float, outlet_id: int
) -> Article | None:
    if fp.exact_ok:
        art = session.scalars(
            select(Article).where(Article.content_hash == fp.content_hash)
        ).first()
        if art is not None:
            return art
    near = find_near_duplicate(session, fp, threshold, outlet_id)
    return session.get(Article, near) if near is not None else None


def _refresh(
    session: Session,
    app: Appearance,
    page: Extracted,
    fetch: FetchInfo,
    fp: Fingerprint,
    variants: set[str],
    canonical: str,
    threshold: float,
) -> StoreResult:
    app.last_seen = fetch.fetched_at
    app.fetched_at = fetch.fetched_at
    app.etag = fetch.etag or app.etag
    app.last_modified = fetch.last_modified or app.last_modified
    app.html_hash = fetch.html_hash or app.html_hash
    _add_variants(session, app.id, variants, app.url, fetch)
    art = session.get(Article, app.article_id)
    assert art is not None
    art.last_seen = fetch.fetched_at
    is_original = art.original_appearance_id in (None, app.id)
    # A newer modified date counts for the original only: republications carry their own dates.
    newer = (
        is_original
        and page.modified_at is not None
        and (art.modified_at is None or page.modified_at > art.modified_at)
    )
    if app.content_hash == fp.content_hash and not newer:
        return StoreResult("unchanged", art.id, app.id)
    app.content_hash = fp.content_hash
    app.title = page.title
    app.published_at = page.published_at or app.published_at
    if is_original:
        _adopt_text(session, art, page, fp, threshold)
    return StoreResult("updated", art.id, app.id)


def mark_unchanged(engine: Engine, canonical_url: str, fetched_at: dt.datetime) -> bool:
    """A 304 for a known URL (its canonical form): only the last-seen times move."""

    def work(session: Session) -> bool:
        app = known_appearance(session, {canonical_url})
        if app is None:
            return False
        app.last_seen = fetched_at
        art = session.get(Article, app.article_id)
        if art is not None:
            art.last_seen = fetched_at
        return True

    return in_transaction(engine, work, what=f"304 {canonical_url}")
