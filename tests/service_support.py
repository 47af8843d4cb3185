"""Helpers for the service's tests: the app in-process, a real server on loopback, cases as JSON.

Imported by the service's test modules (``from service_support import ...``); the fixtures
are registered through ``tests/conftest.py``'s ``pytest_plugins``.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from api.settings import Settings
from api.store.repo import Store
from bench.server import LiveServer, free_port, start_server

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "cases"
CASE_FILES = sorted(p for p in CASES_DIR.iterdir() if p.suffix in {".yaml", ".yml", ".json"})

__all__ = [
    "CASE_FILES",
    "LiveServer",
    "Service",
    "case_json",
    "free_port",
    "postgres_url",
    "start_server",
]


def case_json(stem: str) -> bytes:
    """Return a bundled case (``cases/<stem>.yaml``) as JSON bytes."""
    data = yaml.safe_load((CASES_DIR / f"{stem}.yaml").read_text(encoding="utf-8"))
    return json.dumps(data, ensure_ascii=False).encode()


@dataclass
class Service:
    """The app in-process (a TestClient running its lifespan) and two tenants' keys."""

    client: TestClient
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, tenant: str = "alpha") -> dict[str, str]:
        """Return the headers that authenticate as ``tenant``."""
        return {"Authorization": f"Bearer {self.keys[tenant]}"}

    def headers(self, tenant: str = "alpha", **extra: str) -> dict[str, str]:
        """Return JSON-body headers as ``tenant``, with ``extra`` headers (``_`` for ``-``)."""
        out = {"Content-Type": "application/json", **self.auth(tenant)}
        out.update({k.replace("_", "-"): v for k, v in extra.items()})
        return out


def make_keys(settings: Settings, tenants: tuple[str, ...] = ("alpha", "beta")) -> dict[str, str]:
    """Create one API key per tenant in the settings' database; return them by tenant."""
    store = Store(settings.url)
    try:
        return {tenant: store.create_key(tenant)[1] for tenant in tenants}
    finally:
        store.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Yield the app on a fresh SQLite database, two solver workers, tenants alpha and beta."""
    from api.app import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("service"), workers=2, queue_length=16)
    keys = make_keys(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Service(client, settings, keys)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """Serve on loopback with one solver worker; yield the server and tenant alpha's key."""
    data_dir: Path = tmp_path_factory.mktemp("live")
    keys = make_keys(Settings(data_dir=data_dir), ("alpha",))
    server = start_server(data_dir, env={"MEDIATION_WORKERS": "1"})
    try:
        yield server, keys["alpha"]
    finally:
        server.stop(signal.SIGTERM)


def postgres_url() -> str | None:
    """Return a reachable PostgreSQL's URL for the store's tests, or ``None``.

    ``MEDIATION_TEST_DATABASE_URL`` when set, else the server on 127.0.0.1:5432 (database
    ``test``, user ``postgres``) when it answers.
    """
    url = os.environ.get("MEDIATION_TEST_DATABASE_URL")
    candidates = [url] if url else ["postgresql+psycopg://postgres@127.0.0.1:5432/test"]
    for candidate in candidates:
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(candidate, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            return candidate
        except Exception:  # unreachable: the tests that need it skip, saying why
            continue
    return None
