"""The store on SQLite always, and on PostgreSQL whenever one is reachable.

PostgreSQL is the server on 127.0.0.1:5432 (database ``test``) or the URL in
``MEDIATION_TEST_DATABASE_URL``; each run works in a schema of its own, dropped at the end.
The test summary says which databases ran (see ``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from service_support import postgres_url
from sqlalchemy import create_engine, select, text, update

from api.store.migrate import current_revision, head_revision
from api.store.models import Base, CaseRow, IdempotencyRecord, SettlementRow
from api.store.repo import (
    Idempotent,
    NotFoundError,
    Principal,
    StaleVersionError,
    Store,
    now,
)

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
    outcomes: list[Idempotent] = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait()
        outcomes.append(
            store.begin_idempotent(alpha, key, "POST /v1/cases", "h", ttl=60, in_flight_ttl=60)
        )

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.state for o in outcomes) == ["in_flight"] * 15 + ["started"]
    (token,) = [o.claim_token for o in outcomes if o.state == "started"]
    assert token is not None
    assert all(o.claim_token is None for o in outcomes if o.state != "started")
    assert (
        store.begin_idempotent(
            alpha, key, "POST /v1/cases", "other", ttl=60, in_flight_ttl=60
        ).state
        == "mismatch"
    )
    # only the claim's own token finishes it
    assert not store.finish_idempotent(alpha, key, "not-the-token", 500, {}, b"no")
    assert store.finish_idempotent(alpha, key, token, 201, {"location": "/x"}, b"{}")
    done = store.begin_idempotent(alpha, key, "POST /v1/cases", "h", ttl=60, in_flight_ttl=60)
    assert (done.state, done.status_code, done.headers, done.body) == (
        "done",
        201,
        {"location": "/x"},
        b"{}",
    )
    assert not store.abandon_idempotent(alpha, key, token)  # an answer is never abandoned

    stale = f"k-{uuid.uuid4()}"
    first = store.begin_idempotent(alpha, stale, "r", "h", ttl=60, in_flight_ttl=60)
    assert first.state == "started"
    # a claim whose server died is reclaimed once it is older than the in-flight limit
    second = store.begin_idempotent(alpha, stale, "r", "h", ttl=60, in_flight_ttl=0)
    assert second.state == "started"
    assert second.claim_token not in (None, first.claim_token)
    # the first request, late, neither deletes nor overwrites the second's claim ...
    assert first.claim_token is not None
    assert second.claim_token is not None
    assert not store.abandon_idempotent(alpha, stale, first.claim_token)
    assert not store.finish_idempotent(alpha, stale, first.claim_token, 200, {}, b"late")
    claimed = store.begin_idempotent(alpha, stale, "r", "h", ttl=60, in_flight_ttl=60)
    assert claimed.state == "in_flight"
    # ... which its own request then finishes
    assert store.finish_idempotent(alpha, stale, second.claim_token, 201, {}, b"second")
    replay = store.begin_idempotent(alpha, stale, "r", "h", ttl=60, in_flight_ttl=60)
    assert (replay.state, replay.body) == ("done", b"second")
    # and abandoning a claim by its token forgets it: the next use runs
    dropped = f"k-{uuid.uuid4()}"
    dropping = store.begin_idempotent(alpha, dropped, "r", "h", ttl=60, in_flight_ttl=60)
    assert dropping.claim_token is not None
    assert store.abandon_idempotent(alpha, dropped, dropping.claim_token)
    assert store.begin_idempotent(alpha, dropped, "r", "h", ttl=60, in_flight_ttl=60).state == (
        "started"
    )


def test_forgotten_idempotency_records_are_purged(store: Store) -> None:
    beta = _who(store, "beta")
    ages = {  # key → (answered, age in seconds): ttl 100 s, in-flight limit 50 s
        "old-answer": (True, 101),
        "dead-claim": (False, 51),
        "live-claim": (False, 49),
        "answer-older-than-a-claim-lives": (True, 51),
        "fresh-answer": (True, 0),
    }
    keys = {name: f"{name}-{uuid.uuid4()}" for name in ages}
    for name, (answered, age) in ages.items():
        claim = store.begin_idempotent(beta, keys[name], "r", "h", ttl=100, in_flight_ttl=50)
        assert claim.claim_token is not None
        if answered:
            assert store.finish_idempotent(beta, keys[name], claim.claim_token, 200, {}, b"")
        with store.writing() as session:
            session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.key == keys[name])
                .values(created_at=now() - dt.timedelta(seconds=age))
            )
    assert store.purge_idempotent(ttl=100, in_flight_ttl=50) >= 2
    with store.reading() as session:
        left = set(session.scalars(select(IdempotencyRecord.key)))
    assert {name for name, key in keys.items() if key in left} == {
        "live-claim",
        "answer-older-than-a-claim-lives",
        "fresh-answer",
    }


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


def _update_race(store: Store, who: Principal, case_id: str, writers: int) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(writers)

    def update() -> None:
        barrier.wait()
        try:
            store.update_case(who, case_id, 1, "{}", "d2", case_key="c", title="C2", request_id="r")
            outcomes.append("updated")
        except StaleVersionError:
            outcomes.append("stale")

    threads = [threading.Thread(target=update) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_updates_from_one_version_never_both_pass(store: Store) -> None:
    alpha = _who(store, "alpha")
    for _ in range(5):
        made = store.create_case(alpha, "{}", "d", case_key="c", title="C", request_id="r")
        assert _update_race(store, alpha, made.id, 4) == ["stale", "stale", "stale", "updated"]
        assert store.get_case(alpha, made.id).version == 2


def test_two_servers_migrating_an_empty_postgresql_at_once_both_start() -> None:
    base = postgres_url()
    if base is None:
        pytest.skip("no PostgreSQL: no server on 127.0.0.1:5432 and no MEDIATION_TEST_DATABASE_URL")
    schema = f"store_migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    # two processes: Alembic's operations are process-wide, as two servers' are not
    code = "import sys; from api.store.repo import Store; Store(sys.argv[1]).close()"
    try:
        starts = [
            subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
            for _ in range(3)
        ]
        errors = [start.communicate(timeout=120)[1].decode() for start in starts]
        assert [start.returncode for start in starts] == [0, 0, 0], errors
        store = Store(url, migrate=False)
        assert store.migrations_current()
        store.close()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
