"""Alembic migrations of the review store (run by :func:`luodi.review.store.migrate`)."""
