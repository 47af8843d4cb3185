"""The store's tables: tenants and their keys, cases and their versions, settlements, sweeps.

A case's versions and its settlements are append-only: an update adds a version, a deletion
marks the case deleted, and a settlement's row is never rewritten (its audit record included).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "Base",
    "CaseRow",
    "CaseVersion",
    "IdempotencyRecord",
    "SettlementRow",
    "SweepRow",
    "SweepScenario",
    "Tenant",
]

# SQLite has no BIGINT autoincrement: an INTEGER PRIMARY KEY is its rowid, 64-bit already.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """The declarative base of every table."""

    type_annotation_map = {dt.datetime: DateTime(timezone=True)}  # noqa: RUF012


class Tenant(Base):
    """A client organisation; everything stored belongs to one."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime]


class ApiKey(Base):
    """An API key, kept as a salted hash: the key itself is shown once and never stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    digest: Mapped[bytes] = mapped_column(LargeBinary(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class CaseRow(Base):
    """A stored case: its current version; ``seq`` orders the listing (the cursor)."""

    __tablename__ = "cases"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    version: Mapped[int] = mapped_column(Integer)
    case_key: Mapped[str] = mapped_column(String(200))  # the document's own ``id``
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    deleted_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_cases_tenant_seq", "tenant_id", "seq"),)


class CaseVersion(Base):
    """One version of a case's document, exactly as it was accepted (JSON text)."""

    __tablename__ = "case_versions"

    case_seq: Mapped[int] = mapped_column(ForeignKey("cases.seq"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical document
    created_at: Mapped[dt.datetime]
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))


class SettlementRow(Base):
    """A stored settlement with its audit record."""

    __tablename__ = "settlements"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    case_seq: Mapped[int] = mapped_column(ForeignKey("cases.seq"))
    case_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(80))
    policy: Mapped[dict[str, object]] = mapped_column(JSON)
    document: Mapped[str] = mapped_column(Text)  # the settlement (the library's JSON contract)
    input_digest: Mapped[str] = mapped_column(String(64))
    solver: Mapped[str] = mapped_column(String(40))
    solver_version: Mapped[str] = mapped_column(String(80))
    engine_version: Mapped[str] = mapped_column(String(40))
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_settlements_case_seq", "case_seq", "seq"),)


class IdempotencyRecord(Base):
    """A POST made with an ``Idempotency-Key``: in flight, or done with its stored response."""

    __tablename__ = "idempotency"
    # the purge of expired records looks them up by age, across tenants
    __table_args__ = (Index("ix_idempotency_created_at", "created_at"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    route: Mapped[str] = mapped_column(Text)  # method and path
    request_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_flight | done
    # a random token per claim: only the request holding it may finish or abandon it, so that
    # a request outliving its claim cannot overwrite or delete the claim of the one after it
    # (NULL on records made before revision 0002)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime]


class SweepRow(Base):
    """A sweep job: its inputs, progress and (when done) summary."""

    __tablename__ = "sweeps"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    case_seq: Mapped[int | None] = mapped_column(ForeignKey("cases.seq"))
    case_version: Mapped[int | None] = mapped_column(Integer)
    case_document: Mapped[str] = mapped_column(Text)
    spec_document: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # queued|running|done|failed|cancelled
    total: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class SweepScenario(Base):
    """One settled scenario of a sweep (the library's row), kept as the sweep goes."""

    __tablename__ = "sweep_rows"

    sweep_seq: Mapped[int] = mapped_column(ForeignKey("sweeps.seq"), primary_key=True)
    scenario: Mapped[int] = mapped_column(Integer, primary_key=True)
    row: Mapped[str] = mapped_column(Text)
