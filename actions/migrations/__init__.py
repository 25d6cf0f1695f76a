"""Alembic migrations of the action server's store (run through `actions.store.init_db`)."""
