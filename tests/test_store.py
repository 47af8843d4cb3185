"""The store on SQLite always, and on PostgreSQL whenever one is reachable.

PostgreSQL is the server on 127.0.0.1:5432 (database ``test``) or the URL in
``MEDIATION_TEST_DATABASE_URL``; each run works in a schema of its own, dropped at the end.
The test summary says which databases ran (see ``conftest.py``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from service_support import postgres_url
from sqlalchemy import create_engine, text

from api.store.migrate import current_revision, head_revision
from api.store.models import Base, CaseRow, SettlementRow
from api.store.repo import NotFoundError, Principal, StaleVersionError, Store

STORE_RUNS: dict[str, str] = {}  # database → "ran" or why it was skipped; the summary prints it


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Yield a fresh database's URL: SQLite in a temp folder, or a new schema on PostgreSQL."""
    if request.param == "sqlite":
        STORE_RUNS.setdefault("SQLite", "ran")
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
        return
    base = postgres_url()
    if base is None:
        STORE_RUNS["PostgreSQL"] = (
            "skipped: no server on 127.0.0.1:5432 and no MEDIATION_TEST_DATABASE_URL"
        )
        pytest.skip(STORE_RUNS["PostgreSQL"])
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    STORE_RUNS["PostgreSQL"] = "ran"
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def store(store_url: str) -> Iterator[Store]:
    """Yield the store on that database, migrated."""
    opened = Store(store_url)
    yield opened
    opened.close()


def _who(store: Store, tenant: str) -> Principal:
    return Principal(store.tenant_id(tenant, create=True), tenant, None)


def test_the_migrations_match_the_models(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    assert store.migrations_current()
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_keys_are_kept_as_hashes_and_revocation_is_immediate(store: Store) -> None:
    record, key = store.create_key("社区服务中心", label="portal")
    who = store.authenticate(key)
    assert who is not None
    assert who.tenant == "社区服务中心"
    assert who.key_id == record.id
    with store.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT salt, digest FROM api_keys WHERE id = :id"), {"id": record.id}
        ).one()
    assert key.encode() not in bytes(stored.digest)
    assert key.split("_")[-1].encode() not in bytes(stored.salt)
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.authenticate("mk_" + record.id) is None
    assert [k.id for k in store.list_keys("社区服务中心")] == [record.id]
    store.revoke_key(record.id)
    assert store.authenticate(key) is None
    with pytest.raises(NotFoundError):
        store.revoke_key("nope")


def test_cases_are_versioned_and_tenants_never_see_each_other(store: Store) -> None:
    alpha, beta = _who(store, "alpha"), _who(store, "beta")
    made = store.create_case(alpha, '{"id": "x"}', "d1", case_key="x", title="X", request_id="r1")
    with pytest.raises(NotFoundError):
        store.get_case(beta, made.id)
    with pytest.raises(NotFoundError):
        store.update_case(beta, made.id, 1, "{}", "d", case_key="x", title="X", request_id="r")
    with pytest.raises(NotFoundError):
        store.delete_case(beta, made.id, None)
    assert made.id not in [c.id for c in store.list_cases(beta)]
    updated = store.update_case(
        alpha, made.id, 1, '{"id": "y"}', "d2", case_key="y", title="Y", request_id="r2"
    )
    assert updated.version == 2
    with pytest.raises(StaleVersionError) as stale:
        store.update_case(alpha, made.id, 1, "{}", "d3", case_key="z", title="Z", request_id="r3")
    assert stale.value.current == 2
    assert store.get_case(alpha, made.id, version=1).document == '{"id": "x"}'
    assert store.get_case(alpha, made.id).document == '{"id": "y"}'


def test_settlements_keep_their_audit_record_and_survive_the_case(store: Store) -> None:
    alpha = _who(store, "alpha")
    case = store.create_case(alpha, "{}", "d", case_key="c", title="C", request_id="r")
    saved = store.add_settlement(
        alpha,
        case,
        document='{"status": "optimal"}',
        status="optimal",
        rule="leximin",
        policy={"rule": "leximin"},
        input_digest="abc",
        solver="highs",
        solver_version="1.11",
        engine_version="0.1.0",
        request_id="req-1",
    )
    [(_, listed)] = store.list_settlements(alpha, case.id)
    assert listed.id == saved.id
    assert listed.case_version == 1
    assert listed.request_id == "req-1"
    with pytest.raises(NotFoundError):
        store.get_settlement(_who(store, "beta"), case.id, saved.id)
    before = store.count(SettlementRow)
    store.delete_case(alpha, case.id, 1)
    assert store.count(SettlementRow) == before  # the audit trail stays
    assert store.count(CaseRow) >= 1
    with pytest.raises(NotFoundError):
        store.get_case(alpha, case.id)


def test_an_idempotency_key_is_claimed_once_among_concurrent_writers(store: Store) -> None:
    alpha = _who(store, "alpha")
    key = f"k-{uuid.uuid4()}"
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait()
        outcomes.append(
            store.begin_idempotent(
                alpha, key, "POST /v1/cases", "h", ttl=60, in_flight_ttl=60
            ).state
        )

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["in_flight"] * 15 + ["started"]
    assert (
        store.begin_idempotent(
            alpha, key, "POST /v1/cases", "other", ttl=60, in_flight_ttl=60
        ).state
        == "mismatch"
    )
    store.finish_idempotent(alpha, key, 201, {"location": "/x"}, b"{}")
    done = store.begin_idempotent(alpha, key, "POST /v1/cases", "h", ttl=60, in_flight_ttl=60)
    assert (done.state, done.status_code, done.headers, done.body) == (
        "done",
        201,
        {"location": "/x"},
        b"{}",
    )
    stale = f"k-{uuid.uuid4()}"
    assert (
        store.begin_idempotent(alpha, stale, "r", "h", ttl=60, in_flight_ttl=60).state == "started"
    )
    # a claim whose server died is reclaimed once it is older than the in-flight limit
    assert (
        store.begin_idempotent(alpha, stale, "r", "h", ttl=60, in_flight_ttl=0).state == "started"
    )


def test_concurrent_writers_never_fail_with_database_is_locked(store: Store) -> None:
    alpha = _who(store, "alpha")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                store.create_case(alpha, "{}", "d", case_key=f"c{n}-{i}", title="T", request_id="r")
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.integrity_ok()


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()
