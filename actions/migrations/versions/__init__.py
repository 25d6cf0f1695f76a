"""Alembic revision scripts; Alembic loads them by path, importing them has no effect."""
