"""Alembic environment and versions (located through this package, so it works installed)."""
