"""The queries the service makes: tenants, keys, cases and their versions, settlements, idempotency.

Every read and write of a tenant's data takes the tenant's id: another tenant's case answers
exactly as an unknown one (:class:`NotFoundError`). Writes run in ``BEGIN IMMEDIATE``
transactions on SQLite (see :func:`api.store.engine.make_engine`). Methods return frozen
records, never ORM objects bound to a closed session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .engine import make_engine
from .migrate import is_current, upgrade
from .models import (
    ApiKey,
    CaseRow,
    CaseVersion,
    IdempotencyRecord,
    SettlementRow,
    Tenant,
)

__all__ = [
    "KEY_PREFIX",
    "CaseRecord",
    "Idempotent",
    "KeyRecord",
    "NotFoundError",
    "Principal",
    "SettlementRecord",
    "StaleVersionError",
    "Store",
    "StoreError",
    "now",
]

#: Every API key starts with it: ``mk_<key id>_<secret>``.
KEY_PREFIX = "mk_"


class StoreError(Exception):
    """Base of the store's errors."""


class NotFoundError(StoreError):
    """No such id for this tenant (another tenant's id included)."""


class StaleVersionError(StoreError):
    """The version a client expected is not the current one."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the current version is {current}")
        self.current = current


def now() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes: they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: a tenant, and the key it used (``None`` in development mode)."""

    tenant_id: int
    tenant: str
    key_id: str | None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key's public facts (never the key)."""

    id: str
    tenant: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A stored case: its id, current version and, when asked for, its document."""

    seq: int
    id: str
    version: int
    case_key: str
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime
    document: str | None = None

    @property
    def etag(self) -> str:
        """The entity tag of the current version (a strong validator)."""
        return f'"{self.id}.{self.version}"'


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """A stored settlement and its audit record."""

    id: str
    case_id: str
    case_version: int
    status: str
    rule: str
    policy: dict[str, object]
    input_digest: str
    solver: str
    solver_version: str
    engine_version: str
    api_key_id: str | None
    request_id: str
    created_at: dt.datetime
    document: str | None = None


@dataclass(frozen=True, slots=True)
class Idempotent:
    """What a POST with an ``Idempotency-Key`` finds in the store.

    ``state``: ``started`` (first use: go ahead, then :meth:`Store.finish_idempotent` or
    :meth:`Store.abandon_idempotent` with ``claim_token``), ``done`` (replay
    ``status_code``, ``headers``, ``body``), ``in_flight`` (a duplicate while the first is
    running) or ``mismatch`` (the key was used with another request).
    """

    state: str
    status_code: int | None = None
    headers: dict[str, str] | None = None
    body: bytes | None = None
    claim_token: str | None = None


def _digest_key(salt: bytes, secret: str) -> bytes:
    # The secret is 256 random bits: a salted SHA-256 cannot be searched, and verifying it
    # costs a microsecond per request (a password hash's deliberate slowness buys nothing here)
    return hashlib.sha256(salt + secret.encode()).digest()


class Store:
    """The service's durable store over one SQLAlchemy engine.

    Parameters
    ----------
    url
        The database's SQLAlchemy URL.
    migrate
        Apply the migrations now.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(immediate=True), expire_on_commit=False
        )
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for reads."""
        with self._read() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """Yield a session in a write transaction, committed when the block ends."""
        with self._write.begin() as session:
            yield session

    # -- health ------------------------------------------------------------------------

    def ping(self) -> bool:
        """Tell whether the database answers."""
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1

    def migrations_current(self) -> bool:
        """Tell whether the database is at the code's newest migration."""
        return is_current(self.engine)

    def integrity_ok(self) -> bool:
        """Run the database's own integrity check (SQLite); ``True`` elsewhere."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as connection:
            return connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"

    # -- tenants and keys --------------------------------------------------------------

    def tenant_id(self, name: str, *, create: bool = False) -> int:
        """Return the id of tenant ``name``, created if asked.

        Raises
        ------
        NotFoundError
            No such tenant and ``create`` is false.
        """
        with self.writing() as session:
            found = session.scalar(select(Tenant.id).where(Tenant.name == name))
            if found is not None:
                return found
            if not create:
                raise NotFoundError(f"no tenant {name!r}")
            tenant = Tenant(name=name, created_at=now())
            session.add(tenant)
            session.flush()
            return tenant.id

    def create_key(self, tenant: str, *, label: str = "") -> tuple[KeyRecord, str]:
        """Create an API key for ``tenant`` (created when new); return it and the key itself.

        The key (``mk_<id>_<secret>``) is returned once; the store keeps a salted hash.
        """
        tenant_id = self.tenant_id(tenant, create=True)
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        created = now()
        with self.writing() as session:
            session.add(
                ApiKey(
                    id=key_id,
                    tenant_id=tenant_id,
                    salt=salt,
                    digest=_digest_key(salt, secret),
                    label=label,
                    created_at=created,
                    revoked_at=None,
                )
            )
        record = KeyRecord(key_id, tenant, label, created, None)
        return record, f"{KEY_PREFIX}{key_id}_{secret}"

    def list_keys(self, tenant: str | None = None) -> list[KeyRecord]:
        """Return every key (of ``tenant`` when given), oldest first."""
        query = select(ApiKey, Tenant.name).join(Tenant).order_by(ApiKey.created_at, ApiKey.id)
        if tenant is not None:
            query = query.where(Tenant.name == tenant)
        with self.reading() as session:
            return [
                KeyRecord(
                    key.id,
                    name,
                    key.label,
                    _utc(key.created_at),
                    _utc(key.revoked_at) if key.revoked_at else None,
                )
                for key, name in session.execute(query)
            ]

    def revoke_key(self, key_id: str) -> KeyRecord:
        """Revoke a key; it stops working at once.

        Raises
        ------
        NotFoundError
            No such key.
        """
        with self.writing() as session:
            key = session.get(ApiKey, key_id)
            if key is None:
                raise NotFoundError(f"no key {key_id!r}")
            if key.revoked_at is None:
                key.revoked_at = now()
            name = session.scalar(select(Tenant.name).where(Tenant.id == key.tenant_id))
            return KeyRecord(
                key.id, name or "", key.label, _utc(key.created_at), _utc(key.revoked_at)
            )

    def authenticate(self, presented: str) -> Principal | None:
        """Return who ``presented`` (an API key) belongs to; ``None`` for a wrong or revoked key."""
        if not presented.startswith(KEY_PREFIX):
            return None
        key_id, _, secret = presented[len(KEY_PREFIX) :].partition("_")
        if not key_id or not secret:
            return None
        with self.reading() as session:
            found = session.execute(
                select(ApiKey, Tenant.name).join(Tenant).where(ApiKey.id == key_id)
            ).first()
        if found is None:
            return None
        key, tenant = found
        if key.revoked_at is not None:
            return None
        if not hmac.compare_digest(key.digest, _digest_key(key.salt, secret)):
            return None
        return Principal(key.tenant_id, tenant, key.id)

    # -- cases -------------------------------------------------------------------------

    @staticmethod
    def _case_record(row: CaseRow, document: str | None = None) -> CaseRecord:
        return CaseRecord(
            row.seq,
            row.id,
            row.version,
            row.case_key,
            row.title,
            _utc(row.created_at),
            _utc(row.updated_at),
            document,
        )

    def create_case(
        self,
        who: Principal,
        document: str,
        digest: str,
        *,
        case_key: str,
        title: str,
        request_id: str,
    ) -> CaseRecord:
        """Store a new case (version 1) and return it."""
        moment = now()
        with self.writing() as session:
            row = CaseRow(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                version=1,
                case_key=case_key,
                title=title,
                created_at=moment,
                updated_at=moment,
                deleted_at=None,
            )
            session.add(row)
            session.flush()
            session.add(
                CaseVersion(
                    case_seq=row.seq,
                    version=1,
                    document=document,
                    digest=digest,
                    created_at=moment,
                    api_key_id=who.key_id,
                    request_id=request_id,
                )
            )
            return self._case_record(row, document)

    def _live_case(
        self, session: Session, who: Principal, case_id: str, *, lock: bool = False
    ) -> CaseRow:
        query = select(CaseRow).where(
            CaseRow.id == case_id,
            CaseRow.tenant_id == who.tenant_id,
            CaseRow.deleted_at.is_(None),
        )
        # a writer locks the row (PostgreSQL: FOR UPDATE; SQLite's BEGIN IMMEDIATE already
        # serialises writers), so two updates from the same version cannot both pass the check
        row = session.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFoundError(f"no case {case_id!r}")
        return row

    def get_case(self, who: Principal, case_id: str, *, version: int | None = None) -> CaseRecord:
        """Return a case with its document (the current version unless ``version`` is given).

        Raises
        ------
        NotFoundError
            No such case for this tenant, or no such version.
        """
        with self.reading() as session:
            row = self._live_case(session, who, case_id)
            document = session.scalar(
                select(CaseVersion.document).where(
                    CaseVersion.case_seq == row.seq,
                    CaseVersion.version == (version or row.version),
                )
            )
            if document is None:
                raise NotFoundError(f"case {case_id!r} has no version {version}")
            return self._case_record(row, document)

    def list_cases(self, who: Principal, *, after: int = 0, limit: int = 50) -> list[CaseRecord]:
        """Return up to ``limit`` cases of the tenant after the cursor ``after`` (a ``seq``)."""
        with self.reading() as session:
            rows = session.scalars(
                select(CaseRow)
                .where(
                    CaseRow.tenant_id == who.tenant_id,
                    CaseRow.deleted_at.is_(None),
                    CaseRow.seq > after,
                )
                .order_by(CaseRow.seq)
                .limit(limit)
            )
            return [self._case_record(row) for row in rows]

    def update_case(
        self,
        who: Principal,
        case_id: str,
        expected_version: int,
        document: str,
        digest: str,
        *,
        case_key: str,
        title: str,
        request_id: str,
    ) -> CaseRecord:
        """Add a new version of a case, if ``expected_version`` is still the current one.

        Raises
        ------
        NotFoundError
            No such case for this tenant.
        StaleVersionError
            Another version was stored since.
        """
        with self.writing() as session:
            row = self._live_case(session, who, case_id, lock=True)
            if row.version != expected_version:
                raise StaleVersionError(row.version)
            moment = now()
            row.version += 1
            row.case_key = case_key
            row.title = title
            row.updated_at = moment
            session.add(
                CaseVersion(
                    case_seq=row.seq,
                    version=row.version,
                    document=document,
                    digest=digest,
                    created_at=moment,
                    api_key_id=who.key_id,
                    request_id=request_id,
                )
            )
            return self._case_record(row, document)

    def delete_case(self, who: Principal, case_id: str, expected_version: int | None) -> None:
        """Mark a case deleted; its versions and settlements stay, as the audit trail.

        Raises
        ------
        NotFoundError
            No such case for this tenant.
        StaleVersionError
            ``expected_version`` given and not the current one.
        """
        with self.writing() as session:
            row = self._live_case(session, who, case_id, lock=True)
            if expected_version is not None and row.version != expected_version:
                raise StaleVersionError(row.version)
            row.deleted_at = now()

    # -- settlements -------------------------------------------------------------------

    @staticmethod
    def _settlement_record(row: SettlementRow, case_id: str, *, document: bool) -> SettlementRecord:
        return SettlementRecord(
            row.id,
            case_id,
            row.case_version,
            row.status,
            row.rule,
            row.policy,
            row.input_digest,
            row.solver,
            row.solver_version,
            row.engine_version,
            row.api_key_id,
            row.request_id,
            _utc(row.created_at),
            row.document if document else None,
        )

    def add_settlement(
        self,
        who: Principal,
        case: CaseRecord,
        *,
        document: str,
        status: str,
        rule: str,
        policy: dict[str, object],
        input_digest: str,
        solver: str,
        solver_version: str,
        engine_version: str,
        request_id: str,
    ) -> SettlementRecord:
        """Store a settlement of ``case`` (at the version it was made from) with its audit record.

        Raises
        ------
        NotFoundError
            The case was deleted meanwhile.
        """
        with self.writing() as session:
            row_case = self._live_case(session, who, case.id, lock=True)
            row = SettlementRow(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                case_seq=row_case.seq,
                case_version=case.version,
                status=status,
                rule=rule,
                policy=policy,
                document=document,
                input_digest=input_digest,
                solver=solver,
                solver_version=solver_version,
                engine_version=engine_version,
                api_key_id=who.key_id,
                request_id=request_id,
                created_at=now(),
            )
            session.add(row)
            session.flush()
            return self._settlement_record(row, case.id, document=True)

    def list_settlements(
        self, who: Principal, case_id: str, *, after: int = 0, limit: int = 50
    ) -> list[tuple[int, SettlementRecord]]:
        """Return up to ``limit`` of a case's settlements after cursor ``after``, oldest first.

        Each comes with its ``seq`` (the next cursor); documents are left out.

        Raises
        ------
        NotFoundError
            No such case for this tenant.
        """
        with self.reading() as session:
            row_case = self._live_case(session, who, case_id)
            rows = session.scalars(
                select(SettlementRow)
                .where(SettlementRow.case_seq == row_case.seq, SettlementRow.seq > after)
                .order_by(SettlementRow.seq)
                .limit(limit)
            )
            return [
                (row.seq, self._settlement_record(row, case_id, document=False)) for row in rows
            ]

    def get_settlement(self, who: Principal, case_id: str, settlement_id: str) -> SettlementRecord:
        """Return one settlement of a case, with its document.

        Raises
        ------
        NotFoundError
            No such case or settlement for this tenant.
        """
        with self.reading() as session:
            row_case = self._live_case(session, who, case_id)
            row = session.scalar(
                select(SettlementRow).where(
                    SettlementRow.id == settlement_id,
                    SettlementRow.case_seq == row_case.seq,
                    SettlementRow.tenant_id == who.tenant_id,
                )
            )
            if row is None:
                raise NotFoundError(f"no settlement {settlement_id!r}")
            return self._settlement_record(row, case_id, document=True)

    # -- idempotency -------------------------------------------------------------------

    def begin_idempotent(
        self,
        who: Principal,
        key: str,
        route: str,
        request_digest: str,
        *,
        ttl: float,
        in_flight_ttl: float,
    ) -> Idempotent:
        """Claim ``key`` for a request, or find what an earlier use of it left.

        A record older than ``ttl`` seconds is forgotten first, and so is a claim still in
        flight after ``in_flight_ttl`` seconds (its server died before it answered: no
        response was acknowledged). ``in_flight_ttl`` must exceed the longest a live request
        can take: a live claim forgotten lets a duplicate run the request again. Concurrent
        first uses race on the primary key: exactly one gets ``started``, with a fresh
        random ``claim_token`` that only its request knows.
        """
        moment = now()
        token = secrets.token_hex(16)
        try:
            with self.writing() as session:
                found = session.get(IdempotencyRecord, (who.tenant_id, key))
                if found is not None and _utc(found.created_at) < moment - dt.timedelta(
                    seconds=ttl if found.state == "done" else in_flight_ttl
                ):
                    session.delete(found)
                    session.flush()
                    found = None
                if found is None:
                    session.add(
                        IdempotencyRecord(
                            tenant_id=who.tenant_id,
                            key=key,
                            route=route,
                            request_digest=request_digest,
                            state="in_flight",
                            status_code=None,
                            headers=None,
                            body=None,
                            created_at=moment,
                            claim_token=token,
                        )
                    )
                    return Idempotent("started", claim_token=token)
                if found.route != route or found.request_digest != request_digest:
                    return Idempotent("mismatch")
                if found.state != "done":
                    return Idempotent("in_flight")
                return Idempotent("done", found.status_code, found.headers, found.body)
        except IntegrityError:  # another first use won the race (PostgreSQL)
            return self.begin_idempotent(
                who, key, route, request_digest, ttl=ttl, in_flight_ttl=in_flight_ttl
            )

    def finish_idempotent(
        self,
        who: Principal,
        key: str,
        claim_token: str,
        status_code: int,
        headers: dict[str, str],
        body: bytes,
    ) -> bool:
        """Store the response of the request that claimed ``key`` with ``claim_token``.

        Returns
        -------
        bool
            Whether it was stored: ``False`` when the claim is no longer this request's (it
            outlived its in-flight limit and was forgotten, perhaps claimed again), which is
            left as it is.
        """
        with self.writing() as session:
            # one conditional UPDATE: a read then a write by primary key could, on
            # PostgreSQL, land on the record of a claim made in between. (Core statements on
            # the session's connection, whose result has the row count.)
            result = session.connection().execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.tenant_id == who.tenant_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.state == "in_flight",
                    IdempotencyRecord.claim_token == claim_token,
                )
                .values(state="done", status_code=status_code, headers=headers, body=body)
            )
            return result.rowcount == 1

    def abandon_idempotent(self, who: Principal, key: str, claim_token: str) -> bool:
        """Forget a claim whose request failed on the server's side, so that a retry runs.

        Returns
        -------
        bool
            Whether it was forgotten: ``False`` when the claim is no longer this request's
            (another request's claim of the key is left alone).
        """
        with self.writing() as session:
            result = session.connection().execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.tenant_id == who.tenant_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.state == "in_flight",
                    IdempotencyRecord.claim_token == claim_token,
                )
            )
            return result.rowcount == 1

    def purge_idempotent(self, *, ttl: float, in_flight_ttl: float) -> int:
        """Delete every tenant's records that :meth:`begin_idempotent` would forget.

        Those are the answers older than ``ttl`` seconds and the claims still in flight
        after ``in_flight_ttl`` (their servers died). Without it a key used once would be
        kept for ever. The lookup by age uses the index on ``created_at``.

        Returns
        -------
        int
            How many records were deleted.
        """
        moment = now()
        with self.writing() as session:
            result = session.connection().execute(
                delete(IdempotencyRecord).where(
                    or_(
                        (IdempotencyRecord.state == "done")
                        & (IdempotencyRecord.created_at < moment - dt.timedelta(seconds=ttl)),
                        (IdempotencyRecord.state == "in_flight")
                        & (
                            IdempotencyRecord.created_at
                            < moment - dt.timedelta(seconds=in_flight_ttl)
                        ),
                    )
                )
            )
            return result.rowcount

    def count(self, table: type[CaseRow] | type[SettlementRow]) -> int:
        """Return the number of rows of a table (tests and the durability check use it)."""
        with self.reading() as session:
            return session.scalar(select(func.count()).select_from(table)) or 0
