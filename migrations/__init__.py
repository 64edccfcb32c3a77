"""Alembic environment and versions (located through this package, so it works installed)."""

# The newest revision. The CLI compares the database with it on every command without loading
# Alembic (slow to import); tests/test_schema.py checks it is Alembic's one head.
HEAD = "0006"
