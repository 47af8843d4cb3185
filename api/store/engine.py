"""The database engine: SQLite tuned for concurrent writers and crash safety, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["make_engine"]

#: How long a SQLite writer waits for another's lock before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 30.0


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``, SQLite's file created and configured when it is one.

    SQLite runs in WAL mode (readers never wait for the writer), ``synchronous=FULL`` (a
    committed write survives the process's and the machine's crash), foreign keys on, and
    every transaction begins ``BEGIN IMMEDIATE`` when the engine is used with
    ``execution_options(immediate=True)``: a writer takes the write lock when it starts, so
    two writers queue on the busy timeout instead of one failing with "database is locked"
    when it upgrades a read lock.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///path/to/file.db`` or
        ``postgresql+psycopg://user@host:5432/db``.

    Returns
    -------
    sqlalchemy.Engine
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: object) -> None:
        # pysqlite's own transaction handling issues a plain BEGIN lazily, before the first
        # write; turned off, the "begin" hook below decides how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
