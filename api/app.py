"""The FastAPI application: its routers, its problem handlers, and what it starts and stops.

``uvicorn api.app:create_app --factory`` (or ``mediation serve``) runs it; tests call
:func:`create_app` with their own :class:`~api.settings.Settings`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

import mediation

from .deps import DEVELOPMENT_TENANT, ServiceState, StateDep
from .idempotency import IdempotencyMiddleware
from .logs import RequestIdMiddleware
from .openapi import openapi_for
from .pool import SolvePool
from .problems import install_handlers
from .routers import analysis, cases, settle, sweeps
from .settings import Settings, get_settings
from .store.repo import Principal, Store
from .sweeps import SweepManager

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

API_VERSION = "1.0.0"


def _start_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.url, migrate=settings.migrate_on_start)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the service's application.

    Parameters
    ----------
    settings
        How to run (default: read from ``MEDIATION_*`` environment variables).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await asyncio.to_thread(_start_store, settings)
        pool = SolvePool(
            workers=settings.workers,
            queue_length=settings.queue_length,
            # the solvers' files hold case content: in the service's own folder, not /tmp
            temp_dir=settings.data_dir / "tmp",
        )
        await pool.start()
        # built now, off the event loop: the document's example settlement is solved once,
        # and the first GET /openapi.json must not stall every other request meanwhile
        await asyncio.to_thread(app.openapi)
        anonymous = None
        if settings.allow_anonymous:
            logger.warning(
                "serving WITHOUT API keys (MEDIATION_ALLOW_ANONYMOUS): every request is the "
                "tenant %r; for development only",
                DEVELOPMENT_TENANT,
            )
            tenant_id = await asyncio.to_thread(store.tenant_id, DEVELOPMENT_TENANT, create=True)
            anonymous = Principal(tenant_id, DEVELOPMENT_TENANT, None)
        app.state.service = ServiceState(settings, store, pool, anonymous)
        # the sweeps a stopped server left queued or running resume now
        sweep_manager = SweepManager(store, settings)
        app.state.service.extras[sweeps.MANAGER] = sweep_manager
        await sweep_manager.start()
        logger.info(
            "service started",
            extra={"database": store.engine.dialect.name, "workers": settings.workers},
        )
        try:
            yield
        finally:
            await sweep_manager.close()
            await pool.close()
            store.close()
            logger.info("service stopped")

    app = FastAPI(
        title="mediation",
        version=API_VERSION,
        summary="Fair settlements of multi-party disputes, as a service.",
        description=(
            "Every body is the mediation library's JSON contract: a case in, a settlement "
            "(or an evaluation, a comparison, a sweep summary) out. Errors are RFC 9457 "
            "problem details. Authenticate with `Authorization: Bearer <API key>`."
        ),
        lifespan=lifespan,
    )
    install_handlers(app)
    # the document completed with the library's contracts, problems and the key scheme
    app.openapi = openapi_for(app, max_body_bytes=settings.max_body_bytes)  # type: ignore[method-assign]
    # innermost of the middleware: it needs the request id (for its problems) and stores the
    # route's own answer, without the CORS headers, which each answer gets afresh
    app.add_middleware(IdempotencyMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=[
                "ETag",
                "Location",
                "Retry-After",
                "X-Request-ID",
                "Idempotent-Replayed",
            ],
        )
    app.add_middleware(RequestIdMiddleware)
    app.include_router(settle.router)
    app.include_router(analysis.router)
    app.include_router(sweeps.router)
    app.include_router(cases.router)

    @app.get("/healthz", tags=["health"], summary="Alive")
    async def healthz() -> dict[str, str]:
        """Answer while the process serves requests, however busy its solvers are."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Ready to serve",
        responses={
            200: {
                "description": "The database, its migrations and the pool are fine.",
                "content": {"application/json": {"schema": READINESS_SCHEMA}},
            },
            503: {
                "description": "Not ready: `checks` says what is not; retry after `Retry-After`.",
                "content": {"application/json": {"schema": READINESS_SCHEMA}},
            },
        },
    )
    async def readyz(state: StateDep) -> JSONResponse:
        """Answer 200 when the database answers, its migrations are current and the pool works."""
        checks: dict[str, bool] = {}
        try:
            checks["database"] = await asyncio.wait_for(asyncio.to_thread(state.store.ping), 5)
            checks["migrations"] = await asyncio.wait_for(
                asyncio.to_thread(state.store.migrations_current), 5
            )
        except Exception:  # an unreachable database is the answer, not an error
            logger.warning("readiness: the database does not answer", exc_info=True)
            checks.setdefault("database", False)
            checks.setdefault("migrations", False)
        checks["pool"] = state.pool.healthy()
        ready = all(checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "engine_version": mediation_version(),
        }
        headers = {} if ready else {"Retry-After": "5"}
        return JSONResponse(body, status_code=200 if ready else 503, headers=headers)

    return app


#: The body of ``/readyz``, ready or not.
READINESS_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["status", "checks", "engine_version"],
    "properties": {
        "status": {"enum": ["ready", "not ready"]},
        "checks": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "engine_version": {"type": "string"},
    },
}


def mediation_version() -> str:
    """Return the engine's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mediation")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return getattr(mediation, "__version__", "unknown")
