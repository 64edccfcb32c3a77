"""Store extracted pages: one transaction per batch of pages, deduplicated, with provenance.

Outcomes per page: ``new`` (a new article), ``duplicate`` (a new appearance of a known article:
another URL or another outlet), ``updated`` (a known page whose text or dates changed),
``unchanged``.

A batch is stored with one statement per kind of question and row, not one per page: the
known URLs of every page in one query, the exact and near duplicates (content hashes, LSH bands)
in one query each, then the new articles, appearances, URL spellings, bands and authors each in
one multi-row statement. Pages of one batch can be the same work (a republication crawled in the
same minute): the batch keeps its own index of what it has stored so far. Rarer paths (a
republication whose original must be chosen again, a changed text) still ask per page.

Races between crawl processes are decided by unique constraints (``appearances.url``,
``urls.url``, ``articles.content_hash``, ``authors.key``) with INSERT … ON CONFLICT, and by
:func:`models.in_transaction` re-running the whole batch when a concurrent writer won. Deciding
that a page is a *new* article takes a lock (SQLite: the write lock every writer takes;
PostgreSQL: a transaction advisory lock), so two processes cannot both create the same article
from near-identical texts. A batch that fails for another reason is stored again page by page,
so one bad page never loses the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert, inspect, select, text
from sqlalchemy.orm import Session, selectinload

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
from pipeline.dedup import band_rows, ensure_index, first_near, known_appearances, rank_near
from pipeline.extract import Extracted
from pipeline.fingerprint import Fingerprint
from pipeline.urls import canonicalize, is_amp, is_mobile

log = logging.getLogger(__name__)

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


@dataclass
class _Page:
    """One page of a batch, with what store needs of it computed once (outside the
    transaction, so a retry does not compute it again)."""

    page: Extracted
    fetch: FetchInfo
    fp: Fingerprint
    canonical: str
    variants: set[str]
    keys: list[tuple[int, int]]

    @classmethod
    def of(
        cls, page: Extracted, fetch: FetchInfo, threshold: float, fp: Fingerprint | None = None
    ) -> _Page:
        fp = fp or Fingerprint.of(page.text, threshold)
        met = [u for u in [fetch.requested_url, fetch.final_url, *fetch.redirect_urls] if u]
        canonical_met = fetch.canonical_urls or {canonicalize(u) for u in met}
        canonical = page.canonical_url or canonicalize(fetch.final_url or fetch.requested_url)
        variants = {*canonical_met, *page.url_variants, canonical}
        # The spellings actually met (tracking parameters and all) are provenance too.
        variants |= {u.split("#")[0] for u in [*met, *fetch.seen_urls] if u}
        return cls(page, fetch, fp, canonical, variants, fp.band_keys(threshold))


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


class _Batch:
    """The state of one batch transaction: what the database knew when it began (fetched in a
    few set queries) and what the batch has added since, plus the rows still to write."""

    def __init__(self, session: Session, outlet_id: int, pages: list[_Page], threshold: float):
        self.session = session
        self.outlet_id = outlet_id
        self.threshold = threshold
        if session.get_bind().dialect.name == "postgresql":
            # Concurrent crawls must not both create the same article: the batch takes the lock
            # before it looks (another writer may be storing the same work right now).
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": NEW_ARTICLE_LOCK})
        # The index this batch reads and adds to is made as this process makes it (with the
        # bands' shape from the pages' fingerprints, made in the extraction workers).
        shapes = (p.fp.shape for p in pages if p.fp.threshold == threshold and p.fp.shape)
        ensure_index(session, threshold, next(shapes, None))
        self.by_url = known_appearances(session, {u for p in pages for u in p.variants})
        unknown = [p for p in pages if not any(u in self.by_url for u in p.variants)]
        hashes = sorted({p.fp.content_hash for p in unknown if p.fp.exact_ok})
        # With their appearances and authors, which a duplicate page reads (its article's
        # original, whether the outlet has it, whether it has authors): one query each for the
        # batch rather than one each per duplicate page.
        self.by_hash: dict[str, Article] = (
            {
                a.content_hash: a
                for a in session.scalars(
                    select(Article)
                    .where(Article.content_hash.in_(hashes))
                    .options(selectinload(Article.appearances), selectinload(Article.authors))
                )
            }
            if hashes
            else {}
        )
        # The LSH bands matching any unknown page, with their articles' signatures.
        self.bands: dict[tuple[int, int], list[int | Article]] = {}
        self.signatures: dict[int | Article, bytes] = {}
        wanted = sorted({k for p in unknown for _, k in p.keys})
        for art_id, band, key, sig in band_rows(session, wanted) if wanted else []:
            if sig is not None:
                self.bands.setdefault((band, key), []).append(art_id)
                self.signatures[art_id] = sig
        # Stored URLs → their appearance's id (None: no such URL), for the canonical targets
        # of the batch's pages and of the articles they may duplicate, looked up at once.
        self.owners: dict[str, int | None] = {}
        self.look_up_owners(
            {p.page.canonical_target for p in pages if p.page.canonical_target}
            | {
                app.canonical_target
                for art in self.by_hash.values()
                for app in art.appearances
                if app.canonical_target
            }
        )
        # stored articles whose bands are deleted (their text changed), and articles whose
        # bands are to be (re)written, with their band keys: both written at the end
        self.stale_bands: set[int] = set()
        self.new_bands: dict[Article, list[tuple[int, int]]] = {}
        self.new_urls: list[tuple[Appearance, str, str, dt.datetime]] = []
        self.new_authors: dict[Article, tuple[list[AuthorName], bool]] = {}

    # --- finding what a page is ---------------------------------------------------------------

    def known(self, p: _Page) -> Appearance | None:
        for u in sorted(p.variants):
            if u in self.by_url:
                return self.by_url[u]
        return None

    def match(self, p: _Page) -> Article | None:
        """The stored (or batch-stored) article this unknown page is an exact or near copy of."""
        if p.fp.exact_ok and p.fp.content_hash in self.by_hash:
            return self.by_hash[p.fp.content_hash]
        if p.fp.signature is None:
            return None
        ranked = rank_near(p.fp.signature, p.keys, self.bands, self.signatures, self.threshold)
        near = first_near(ranked, self.threshold, lambda c: self._on_outlet(self._article(c)))
        return self._article(near) if near is not None else None

    def _article(self, cand: int | Article) -> Article:
        """A candidate as an article: one the batch made, or a stored one by its id."""
        if isinstance(cand, Article):
            return cand
        art = self.session.get(Article, cand)
        assert art is not None  # its bands were just read joined to it, in this transaction
        return art

    def _on_outlet(self, art: Article) -> bool:
        """Whether this outlet already publishes ``art`` (one outlet rarely republishes itself;
        its pages share templates, so a near copy on the same outlet needs the stricter bar)."""
        if art.id is None or "appearances" not in inspect(art).unloaded:  # in memory already
            return any(a.outlet_id == self.outlet_id for a in art.appearances)
        return (
            self.session.scalar(
                select(Appearance.id)
                .where(Appearance.article_id == art.id, Appearance.outlet_id == self.outlet_id)
                .limit(1)
            )
            is not None
        )

    # --- what the batch adds ------------------------------------------------------------------

    def remember(self, art: Article, p: _Page) -> None:
        """Index a text the batch gave ``art``, for the pages after it."""
        if p.fp.exact_ok:
            self.by_hash[p.fp.content_hash] = art
        if p.fp.signature is not None:
            self.signatures[art] = p.fp.signature
            for bk in p.keys:
                self.bands.setdefault(bk, []).append(art)

    def set_text(self, art: Article, p: _Page, *, fresh: bool = False) -> None:
        """Give ``art`` this page's text; its LSH bands are written at the end (``fresh``: a new
        article, which has no bands to delete)."""
        page, fp = p.page, p.fp
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
        if not fresh and art.id is not None:
            self.stale_bands.add(art.id)
        self.new_bands.pop(art, None)
        if fp.signature is not None:
            self.new_bands[art] = p.keys
        self.remember(art, p)

    def add_variants(self, app: Appearance, p: _Page, canonical: str) -> None:
        redirects = {*p.fetch.redirect_urls, *(canonicalize(u) for u in p.fetch.redirect_urls)}
        for v in sorted(p.variants):
            if v not in self.by_url:
                self.by_url[v] = app
                self.new_urls.append(
                    (app, v, url_kind(v, canonical, p.fetch, redirects), p.fetch.fetched_at)
                )

    def set_authors(self, art: Article, authors: list[AuthorName], *, fresh: bool = False) -> None:
        """``fresh``: the article was created in this batch and has no authors yet."""
        self.new_authors[art] = (
            authors,
            fresh or (art in self.new_authors and self.new_authors[art][1]),
        )

    def has_authors(self, art: Article) -> bool:
        return art in self.new_authors or (art.id is not None and bool(art.authors))

    # --- one page -----------------------------------------------------------------------------

    def store(self, p: _Page) -> tuple[str, Article, Appearance]:
        known = self.known(p)
        if known is not None:
            status, art = self.refresh(known, p)
            return status, art, known
        page, fetch = p.page, p.fetch
        found = self.match(p)
        status = "new" if found is None else "duplicate"
        art = found or self.new_article(p)
        app = Appearance(
            article=art,
            outlet_id=self.outlet_id,
            url=p.canonical,
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
            content_hash=p.fp.content_hash,
        )
        self.session.add(app)
        self.add_variants(app, p, p.canonical)
        art.last_seen = fetch.fetched_at
        if status == "new":
            art.original = app
            self.set_authors(art, page.authors, fresh=True)
        else:
            before = art.original
            self.choose_original(art)
            if art.original is app and before is not app:
                # The original arrived after a republication: the work is the original's text,
                # title and authors, not the republisher's ("first published by …") version.
                self.adopt_text(art, p)
            elif not self.has_authors(art) and page.authors:
                self.set_authors(art, page.authors)
        return status, art, app

    def new_article(self, p: _Page) -> Article:
        art = Article(
            content_hash=p.fp.content_hash,
            first_seen=p.fetch.fetched_at,
            last_seen=p.fetch.fetched_at,
        )
        self.session.add(art)
        self.set_text(art, p, fresh=True)
        return art

    def look_up_owners(self, urls: Iterable[str]) -> None:
        """Which stored appearance has each of these URLs (``owners``): one query for those
        not looked up yet. The batch's own URLs are written at its end (``by_url`` has them), so
        what the database says stays true for the batch, and the query need not flush it first."""
        missing = sorted(set(urls) - self.owners.keys())
        if not missing:
            return
        self.owners.update(dict.fromkeys(missing))
        with self.session.no_autoflush:
            found = self.session.execute(
                select(Url.url, Url.appearance_id).where(Url.url.in_(missing))
            )
            self.owners.update((url, owner) for url, owner in found)

    def choose_original(self, art: Article) -> None:
        """The original appearance: the one the others' rel=canonical points to, else the
        earliest."""
        apps = list(art.appearances)  # the stored ones and those the batch added
        if not apps:
            return
        targets = {a.canonical_target for a in apps if a.canonical_target}
        self.look_up_owners(targets)  # one query for the targets not looked up yet
        pointed_ids = {self.owners[t] for t in targets}
        pointed = [
            a
            for a in apps
            if a.url in targets
            or (a.id is not None and a.id in pointed_ids)
            or any(self.by_url.get(t) is a for t in targets)
        ]
        far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
        pool = pointed or apps
        original = min(
            pool,
            key=lambda a: (a.published_at or far_future, a.first_seen, a.id or 1 << 62),
        )
        if art.original is not original:
            art.original = original
            if original.published_at:
                art.published_at = original.published_at

    def adopt_text(self, art: Article, p: _Page) -> None:
        """Give ``art`` this page's text, title and authors (unless another article has this
        exact text: the content hash is unique)."""
        other = self.by_hash.get(p.fp.content_hash)
        if other is not None and other is not art:
            return
        if other is None:
            taken = self.session.scalar(
                select(Article.id).where(
                    Article.content_hash == p.fp.content_hash,
                    *([Article.id != art.id] if art.id is not None else []),
                )
            )
            if taken is not None:
                return
        self.set_text(art, p)
        if p.page.authors:
            self.set_authors(art, p.page.authors)

    def refresh(self, app: Appearance, p: _Page) -> tuple[str, Article]:
        page, fetch = p.page, p.fetch
        app.last_seen = fetch.fetched_at
        app.fetched_at = fetch.fetched_at
        app.etag = fetch.etag or app.etag
        app.last_modified = fetch.last_modified or app.last_modified
        app.html_hash = fetch.html_hash or app.html_hash
        self.add_variants(app, p, app.url)
        art = app.article
        art.last_seen = fetch.fetched_at
        if "original" in art.__dict__:  # set in this batch: the ids may not exist yet
            is_original = art.original is None or art.original is app
        else:
            is_original = art.original_appearance_id in (None, app.id)
        # A newer modified date counts for the original only: republications carry their own
        # dates.
        newer = (
            is_original
            and page.modified_at is not None
            and (art.modified_at is None or page.modified_at > art.modified_at)
        )
        if app.content_hash == p.fp.content_hash and not newer:
            return "unchanged", art
        app.content_hash = p.fp.content_hash
        app.title = page.title
        app.published_at = page.published_at or app.published_at
        if is_original:
            self.adopt_text(art, p)
        return "updated", art

    # --- the writes ---------------------------------------------------------------------------

    def write(self) -> None:
        """Write the rows that need the ids of the batch's new articles and appearances: one
        multi-row statement per table."""
        session = self.session
        session.flush()
        if self.stale_bands:
            session.execute(
                delete(LshBand)
                .where(LshBand.article_id.in_(sorted(self.stale_bands)))
                .execution_options(synchronize_session=False)
            )
        if self.new_bands:
            session.execute(
                insert(LshBand),
                [
                    {"band": b, "key": k, "article_id": art.id}
                    for art, keys in self.new_bands.items()
                    for b, k in keys
                ],
            )
        if self.new_urls:
            insert_ignore(
                session,
                Url,
                [
                    {"url": u, "appearance_id": app.id, "kind": kind, "first_seen": seen}
                    for app, u, kind, seen in self.new_urls
                ],
                ["url"],
            )
        if self.new_authors:
            self._write_authors()
        session.flush()

    def _write_authors(self) -> None:
        session = self.session
        rows: dict[str, Author] = {}
        names = {a.key: a for authors, _ in self.new_authors.values() for a in authors}
        if names:
            insert_ignore(
                session,
                Author,
                [
                    {
                        "key": a.key,
                        "name": a.name,
                        "is_organization": a.is_organization,
                        "bio": a.bio,
                    }
                    for a in names.values()
                ],
                ["key"],
            )
            rows = {
                r.key: r
                for r in session.scalars(select(Author).where(Author.key.in_(sorted(names))))
            }
            for key, a in names.items():
                if a.bio and not rows[key].bio:
                    rows[key].bio = a.bio
        for art, (authors, fresh) in self.new_authors.items():
            ids = list(dict.fromkeys(rows[a.key].id for a in authors)) if authors else []
            if not fresh:
                if [aa.author_id for aa in art.authors] == ids:
                    continue
                session.execute(delete(ArticleAuthor).where(ArticleAuthor.article_id == art.id))
                session.expire(art, ["authors"])
            for pos, aid in enumerate(ids):
                session.add(ArticleAuthor(article_id=art.id, author_id=aid, position=pos))


def store_pages(
    engine: Engine,
    outlet_id: int,
    items: list[tuple[Extracted, FetchInfo]],
    *,
    threshold: float = 0.7,
    fingerprints: list[Fingerprint | None] | None = None,
) -> list[StoreResult | Exception]:
    """Store a batch of pages in one transaction (retried whole if the database was busy or a
    concurrent writer won a race). If the batch fails for another reason, each page is stored
    again on its own: the page at fault gets its exception in the result, the others are
    stored. ``fingerprints``: the pages' text fingerprints, when they were computed beforehand
    (in the extraction workers); computed here otherwise."""
    if not items:
        return []
    fps = fingerprints or [None] * len(items)
    pages = [
        _Page.of(page, fetch, threshold, fp) for (page, fetch), fp in zip(items, fps, strict=True)
    ]

    def work(session: Session) -> list[StoreResult]:
        batch = _Batch(session, outlet_id, pages, threshold)
        done = [batch.store(p) for p in pages]
        batch.write()
        return [StoreResult(status, art.id, app.id) for status, art, app in done]

    what = f"store {pages[0].canonical}" + (f" and {len(pages) - 1} more" if len(pages) > 1 else "")
    try:
        return list(in_transaction(engine, work, what=what))
    except Exception:
        if len(items) == 1:
            raise
        log.warning("%s: the batch failed, storing its pages one by one", what, exc_info=True)
    out: list[StoreResult | Exception] = []
    for item, p in zip(items, pages, strict=True):
        try:
            out.append(
                store_pages(engine, outlet_id, [item], threshold=threshold, fingerprints=[p.fp])[0]
            )
        except Exception as exc:
            out.append(exc)
    return out


def store_page(
    engine: Engine, outlet_id: int, page: Extracted, fetch: FetchInfo, *, threshold: float = 0.7
) -> StoreResult:
    """Store one page in one transaction (retried whole if the database was busy)."""
    result = store_pages(engine, outlet_id, [(page, fetch)], threshold=threshold)[0]
    if isinstance(result, Exception):
        raise result
    return result


def mark_unchanged(engine: Engine, canonical_url: str, fetched_at: dt.datetime) -> bool:
    """A 304 for a known URL (its canonical form): only the last-seen times move."""

    def work(session: Session) -> bool:
        app = known_appearances(session, {canonical_url}).get(canonical_url)
        if app is None:
            return False
        app.last_seen = fetched_at
        app.article.last_seen = fetched_at
        return True

    return in_transaction(engine, work, what=f"304 {canonical_url}")


__all__ = [
    "FetchInfo",
    "StoreResult",
    "mark_unchanged",
    "store_page",
    "store_pages",
    "url_kind",
]
