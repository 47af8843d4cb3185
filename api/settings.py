"""The service's settings: one cached object read from ``MEDIATION_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """How the service runs; each field is read from ``MEDIATION_<NAME>`` (``MEDIATION_WORKERS``).

    Tests build their own :class:`Settings` and pass it to :func:`api.app.create_app`; the
    running server reads the environment once (:func:`get_settings`).
    """

    model_config = SettingsConfigDict(env_prefix="MEDIATION_", extra="ignore")

    #: Where the SQLite database (``mediation.db``) and the workers' temp files live.
    data_dir: Path = Path("./mediation-data")
    #: A SQLAlchemy URL; empty: SQLite in ``data_dir``. PostgreSQL:
    #: ``postgresql+psycopg://user@host:5432/db``.
    database_url: str = ""
    #: Worker processes that solve (each solves one request at a time).
    workers: int = Field(default=2, ge=1, le=64)
    #: Requests that may wait for a worker; beyond it the service answers 503 with Retry-After.
    queue_length: int = Field(default=8, ge=0, le=10_000)
    #: Seconds one solve may take, waiting for a worker included; the solver is told to stop a
    #: little earlier, so that the settlement says it stopped early; past it, it is killed.
    #: (A request makes one solve, but for a sweep's admission, which makes two.)
    deadline: float = Field(default=30.0, gt=0, le=3600)
    #: Largest request body, in bytes (a case at the library's size limits is about 20 MB).
    max_body_bytes: int = Field(default=25_000_000, ge=1_000, le=1_000_000_000)
    #: Processes a sweep runs on (``dask_scheduler`` empty); sweeps share the machine with the
    #: request workers.
    sweep_workers: int = Field(default=1, ge=1, le=64)
    #: A Dask scheduler's address (``tcp://host:8786``) to run sweeps on; empty: a process pool.
    dask_scheduler: str = ""
    #: The most scenarios one sweep may have (grid points × samples); a larger one is refused
    #: with 422 before it is queued.
    max_sweep_scenarios: int = Field(default=100_000, ge=1, le=10_000_000)
    #: Origins allowed by CORS (empty: none, the default for a service called by servers).
    cors_origins: list[str] = Field(default_factory=list)
    #: Development only: serve without API keys (every request is the tenant ``development``);
    #: logged as a warning at every start.
    allow_anonymous: bool = False
    #: Seconds an ``Idempotency-Key``'s stored response is kept.
    idempotency_ttl: float = Field(default=86_400.0, gt=0)
    #: Largest page of a listing.
    page_limit: int = Field(default=100, ge=1, le=1000)
    #: Apply the store's migrations when the service starts.
    migrate_on_start: bool = True

    @model_validator(mode="after")
    def _absolute_data_dir(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @property
    def url(self) -> str:
        """The database URL in use: the configured one, or SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'mediation.db'}"

    @property
    def solver_time_limit(self) -> float:
        """The solver's own (soft) limit: a margin before the hard deadline."""
        return max(self.deadline * 0.9 - 0.2, self.deadline * 0.5)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings read from the environment (once per process)."""
    return Settings()
