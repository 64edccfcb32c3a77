"""full-text search and the analysts' SQL views

SQLite: an FTS5 table over articles (title, lead, text; unicode61 with diacritics removed) kept in
sync by triggers. PostgreSQL: a stored generated tsvector column (title weighted A, lead B, text) with a GIN index.
Views on both: v_articles, v_appearances, v_mentions (docs/analysts.md).

Note for later migrations: a batch ALTER of `articles` on SQLite recreates the table and drops
the FTS triggers; re-create them (see _sqlite_fts) after such a change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, lead, text, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, lead, text) VALUES (new.id, new.title, new.lead, new.text);
    END""",
    """CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, text) VALUES ('delete', old.id, old.title, old.lead, old.text);
    END""",
    """CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, lead, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, text) VALUES ('delete', old.id, old.title, old.lead, old.text);
        INSERT INTO articles_fts(rowid, title, lead, text) VALUES (new.id, new.title, new.lead, new.text);
    END""",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]
PG_FTS = [
    # Stored, so ranking reads it instead of re-parsing every matching text.
    """ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple'::regconfig, coalesce(lead, '')), 'B') ||
        to_tsvector('simple'::regconfig, coalesce(text, ''))) STORED""",
    "CREATE INDEX articles_fts_gin ON articles USING GIN (search_vector)",
]


def _authors_agg(dialect: str) -> str:
    if dialect == "postgresql":
        return """(SELECT string_agg(au.name, ', ' ORDER BY aa.position) FROM article_authors aa
                   JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = a.id)"""
    return """(SELECT group_concat(name, ', ') FROM (SELECT au.name AS name FROM article_authors aa
                   JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = a.id ORDER BY aa.position))"""


def views(dialect: str) -> list[str]:
    return [
        f"""CREATE VIEW v_articles AS
        SELECT a.id AS article_id, a.title, a.lead, a.language, a.is_opinion, a.opinion_reason,
               a.published_at, a.modified_at, a.first_seen, a.last_seen, a.word_count,
               o.slug AS outlet, o.name AS outlet_name, ap.url AS url,
               {_authors_agg(dialect)} AS authors,
               (SELECT count(*) FROM appearances x WHERE x.article_id = a.id) AS appearances,
               (SELECT count(*) FROM mentions m WHERE m.article_id = a.id) AS entities
        FROM articles a
        LEFT JOIN appearances ap ON ap.id = a.original_appearance_id
        LEFT JOIN outlets o ON o.id = ap.outlet_id""",
        """CREATE VIEW v_appearances AS
        SELECT ap.id AS appearance_id, ap.article_id, o.slug AS outlet, o.name AS outlet_name,
               o.country AS outlet_country, ap.url, ap.title, ap.section, ap.published_at,
               ap.first_seen, ap.last_seen,
               CASE WHEN a.original_appearance_id = ap.id THEN 1 ELSE 0 END AS is_original
        FROM appearances ap
        JOIN articles a ON a.id = ap.article_id
        JOIN outlets o ON o.id = ap.outlet_id""",
        """CREATE VIEW v_mentions AS
        SELECT m.article_id, e.id AS entity_id, e.name AS entity, e.kind, m.count, m.in_title,
               m.snippet, m.matched, o.slug AS outlet, a.published_at, a.first_seen, a.is_opinion,
               a.language, a.title
        FROM mentions m
        JOIN watch_entities e ON e.id = m.entity_id
        JOIN articles a ON a.id = m.article_id
        LEFT JOIN appearances ap ON ap.id = a.original_appearance_id
        LEFT JOIN outlets o ON o.id = ap.outlet_id""",
    ]


# Search orders by this expression; an index on it lets "newest first" stop after LIMIT rows.
WHEN_INDEX = "CREATE INDEX ix_articles_when ON articles (coalesce(published_at, first_seen))"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_FTS if dialect == "sqlite" else PG_FTS:
        op.execute(stmt)
    op.execute(WHEN_INDEX)
    for stmt in views(dialect):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP INDEX IF EXISTS ix_articles_when")
    for view in ("v_mentions", "v_appearances", "v_articles"):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    if dialect == "sqlite":
        for trig in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    else:
        op.execute("DROP INDEX IF EXISTS articles_fts_gin")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
