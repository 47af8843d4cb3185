"""The store's sweeps: a tenant's sweep jobs, their progress and summary, and their rows.

The routes read and cancel a tenant's sweeps (another tenant's id is :class:`NotFoundError`,
exactly as an unknown one); the sweep manager (:mod:`api.sweeps`) claims them by their
``seq``, appends each batch's rows with the progress in one transaction, and records the end.
Rows are only ever appended while the sweep is ``running``: a batch that arrives after a
cancellation is refused in the same transaction that would have stored it, so a cancelled
sweep's rows stay as they were when it was cancelled.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from .models import CaseRow, SweepRow, SweepScenario
from .repo import CaseRecord, NotFoundError, Principal, Store, StoreError, now

__all__ = [
    "ACTIVE",
    "STATUSES",
    "SweepFinishedError",
    "SweepJob",
    "SweepRecord",
    "SweepStore",
]

#: A sweep's statuses, in the order they may come.
STATUSES = ("queued", "running", "done", "failed", "cancelled")
#: The statuses of a sweep that has work left (the manager runs or resumes it).
ACTIVE = ("queued", "running")


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes: they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class SweepRecord:
    """A stored sweep's state (its documents and rows are read separately)."""

    seq: int
    id: str
    case_id: str | None  # the stored case's id; None for a case sent with the sweep
    case_version: int | None
    status: str
    total: int
    completed: int
    summary: str | None  # the library's SweepSummary JSON, once done
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SweepJob:
    """What the manager needs to run (or resume) a sweep: its documents and size."""

    seq: int
    id: str
    case_document: str
    spec_document: str
    total: int


class SweepFinishedError(StoreError):
    """The sweep has ended (done, failed or cancelled): it cannot be cancelled."""

    def __init__(self, record: SweepRecord) -> None:
        super().__init__(f"sweep {record.id} is {record.status}")
        self.record = record


class SweepStore:
    """The queries on sweeps and their rows, over a :class:`~api.store.repo.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _query() -> Select[SweepRow, str]:
        return select(SweepRow, CaseRow.id).outerjoin(CaseRow, SweepRow.case_seq == CaseRow.seq)

    @staticmethod
    def _record(row: SweepRow, case_id: str | None) -> SweepRecord:
        return SweepRecord(
            row.seq,
            row.id,
            case_id,
            row.case_version,
            row.status,
            row.total,
            row.completed,
            row.summary,
            row.error,
            _utc(row.created_at),
            _utc(row.updated_at),
        )

    # -- the routes' side: always within a tenant -------------------------------------------

    def create(
        self,
        who: Principal,
        *,
        case: CaseRecord | None,
        case_document: str,
        spec_document: str,
        total: int,
        request_id: str,
    ) -> SweepRecord:
        """Store a new sweep, queued, of ``case`` (a stored one) or of ``case_document``."""
        moment = now()
        with self.store.writing() as session:
            row = SweepRow(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                case_seq=case.seq if case is not None else None,
                case_version=case.version if case is not None else None,
                case_document=case_document,
                spec_document=spec_document,
                status="queued",
                total=total,
                completed=0,
                summary=None,
                error=None,
                api_key_id=who.key_id,
                request_id=request_id,
                created_at=moment,
                updated_at=moment,
            )
            session.add(row)
            session.flush()
            return self._record(row, case.id if case is not None else None)

    def get(self, who: Principal, sweep_id: str) -> SweepRecord:
        """Return one of the tenant's sweeps.

        Raises
        ------
        NotFoundError
            No such sweep for this tenant.
        """
        with self.store.reading() as session:
            found = session.execute(
                self._query().where(SweepRow.id == sweep_id, SweepRow.tenant_id == who.tenant_id)
            ).first()
            if found is None:
                raise NotFoundError(f"no sweep {sweep_id!r}")
            row, case_id = found
            return self._record(row, case_id)

    def page(self, who: Principal, *, after: int = 0, limit: int = 50) -> list[SweepRecord]:
        """Return up to ``limit`` of the tenant's sweeps after cursor ``after``, oldest first."""
        with self.store.reading() as session:
            found = session.execute(
                self._query()
                .where(SweepRow.tenant_id == who.tenant_id, SweepRow.seq > after)
                .order_by(SweepRow.seq)
                .limit(limit)
            )
            return [self._record(row, case_id) for row, case_id in found]

    def cancel(self, who: Principal, sweep_id: str) -> SweepRecord:
        """Cancel a queued or running sweep; its rows stay.

        Raises
        ------
        NotFoundError
            No such sweep for this tenant.
        SweepFinishedError
            The sweep has ended already.
        """
        with self.store.writing() as session:
            found = session.execute(
                self._query().where(SweepRow.id == sweep_id, SweepRow.tenant_id == who.tenant_id)
            ).first()
            if found is None:
                raise NotFoundError(f"no sweep {sweep_id!r}")
            row, case_id = found
            if row.status not in ACTIVE:
                raise SweepFinishedError(self._record(row, case_id))
            row.status = "cancelled"
            row.updated_at = now()
            return self._record(row, case_id)

    def rows(self, who: Principal, sweep_id: str, *, start: int, limit: int) -> list[str]:
        """Return up to ``limit`` stored rows (JSON text) from scenario ``start`` on, in order.

        Raises
        ------
        NotFoundError
            No such sweep for this tenant.
        """
        with self.store.reading() as session:
            seq = session.scalar(
                select(SweepRow.seq).where(
                    SweepRow.id == sweep_id, SweepRow.tenant_id == who.tenant_id
                )
            )
            if seq is None:
                raise NotFoundError(f"no sweep {sweep_id!r}")
            return self._rows(session, seq, start, limit)

    # -- the manager's side: by seq, every tenant ------------------------------------------

    @staticmethod
    def _rows(session: Session, seq: int, start: int, limit: int) -> list[str]:
        return list(
            session.scalars(
                select(SweepScenario.row)
                .where(SweepScenario.sweep_seq == seq, SweepScenario.scenario >= start)
                .order_by(SweepScenario.scenario)
                .limit(limit)
            )
        )

    def next_job(self) -> int | None:
        """Return the ``seq`` of the oldest sweep with work left, or ``None``."""
        with self.store.reading() as session:
            return session.scalar(select(func.min(SweepRow.seq)).where(SweepRow.status.in_(ACTIVE)))

    def claim(self, seq: int) -> SweepJob | None:
        """Mark a queued sweep running (a running one stays so) and return it; ``None`` if ended."""
        with self.store.writing() as session:
            row = session.get(SweepRow, seq)
            if row is None or row.status not in ACTIVE:
                return None
            if row.status == "queued":
                row.status = "running"
                row.updated_at = now()
            return SweepJob(row.seq, row.id, row.case_document, row.spec_document, row.total)

    def stored_rows(self, seq: int, *, start: int, limit: int) -> list[str]:
        """Return up to ``limit`` stored rows (JSON text) from scenario ``start`` on, in order."""
        with self.store.reading() as session:
            return self._rows(session, seq, start, limit)

    def add_rows(self, seq: int, rows: Sequence[tuple[int, str]]) -> bool:
        """Store a batch of rows and the progress together, if the sweep is still running.

        Returns
        -------
        bool
            Whether they were stored; ``False`` when the sweep was cancelled (or ended) since.
        """
        with self.store.writing() as session:
            status = session.scalar(select(SweepRow.status).where(SweepRow.seq == seq))
            if status != "running":
                return False
            session.add_all(
                SweepScenario(sweep_seq=seq, scenario=scenario, row=row) for scenario, row in rows
            )
            session.execute(
                update(SweepRow)
                .where(SweepRow.seq == seq)
                .values(completed=SweepRow.completed + len(rows), updated_at=now())
            )
            return True

    def finish(self, seq: int, summary: str) -> bool:
        """Record a running sweep's summary and mark it done; ``False`` if it was cancelled."""
        with self.store.writing() as session:
            done = session.execute(
                update(SweepRow)
                .where(SweepRow.seq == seq, SweepRow.status == "running")
                .values(status="done", summary=summary, updated_at=now())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def fail(self, seq: int, error: str) -> None:
        """Mark a sweep with work left as failed, saying why (a cancelled one stays cancelled)."""
        with self.store.writing() as session:
            session.execute(
                update(SweepRow)
                .where(SweepRow.seq == seq, SweepRow.status.in_(ACTIVE))
                .values(status="failed", error=error, updated_at=now())
            )
