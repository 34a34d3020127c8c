"""Alembic migrations: the only way the schema is made (``carbon-market db upgrade``)."""
