"""The store's schema migrations (Alembic): apply them, and tell whether they are current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

__all__ = ["current_revision", "head_revision", "is_current", "upgrade"]

_SCRIPTS = Path(__file__).with_name("migrations")

#: The PostgreSQL advisory lock the migrations hold (any constant the database's other users
#: do not take).
_LOCK_KEY = 71_152_026


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` to ``revision`` (default: the newest).

    The migration holds a lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level
    advisory lock), so two servers starting at once apply it once.
    """
    config = _config()
    with engine.execution_options(immediate=True).begin() as connection:
        if connection.dialect.name == "postgresql":
            # transactional DDL alone lets two servers both see an empty database and both
            # create its tables: the second waits on this lock, then finds them made
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    """Return the newest revision the code knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (``None``: not migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Tell whether the database is at the code's newest revision."""
    return current_revision(engine) == head_revision()
