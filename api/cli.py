"""The service's commands: ``mediation serve``, ``mediation db upgrade``, ``mediation keys ...``.

They are registered in the ``mediation.commands`` entry-point group; this module imports only
typer at load time, so that ``mediation --help`` works without the ``service`` extra, and each
command says how to install it when it is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from .settings import Settings
    from .store.repo import Store

__all__ = ["db", "keys", "serve"]

_EXTRA = "the service needs its extra: pip install 'mediation[service]'"


def _settings(**overrides: Any) -> Settings:
    try:
        from .settings import Settings
    except ImportError:
        typer.echo(f"error: {_EXTRA}", err=True)
        raise typer.Exit(2) from None
    from pydantic import ValidationError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            typer.echo(f"error: setting {where}: {error['msg']}", err=True)
        raise typer.Exit(2) from None


def _store(settings: Settings) -> Store:
    from .store.repo import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        return Store(settings.url, migrate=True)
    except Exception as exc:  # an unreachable database, a bad URL: say which, never a traceback
        typer.echo(f"error: cannot open the database {_redacted(settings.url)}: {exc}", err=True)
        raise typer.Exit(2) from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Solver processes (MEDIATION_WORKERS).")
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="Folder of the SQLite database (MEDIATION_DATA_DIR).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A database URL, e.g. postgresql+psycopg://... (MEDIATION_DATABASE_URL)."
        ),
    ] = None,
    no_keys: Annotated[
        bool,
        typer.Option(
            "--no-keys",
            help="Development only: serve without API keys (logged as a warning at every start).",
        ),
    ] = False,
) -> None:
    """Serve the settlement API (FastAPI under uvicorn), on 127.0.0.1:8000 by default.

    Every setting can also be given as a MEDIATION_* environment variable (see the README).
    """
    settings = _settings(
        workers=workers,
        data_dir=data_dir,
        database_url=database_url,
        allow_anonymous=True if no_keys else None,
    )
    import uvicorn

    from .app import create_app
    from .logs import configure_logging

    configure_logging()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


db = typer.Typer(help="The service's database: apply its migrations.", no_args_is_help=True)


@db.command("upgrade")
def db_upgrade(
    database_url: Annotated[
        str | None, typer.Option(help="The database (default: MEDIATION_DATABASE_URL or SQLite).")
    ] = None,
) -> None:
    """Apply every migration the database lacks (the service also does it at start)."""
    settings = _settings(database_url=database_url)
    store = _store(settings)
    from .store.migrate import current_revision

    typer.echo(f"database {_redacted(settings.url)} at revision {current_revision(store.engine)}")
    store.close()


keys = typer.Typer(
    help="API keys: create one for a tenant, list them, revoke one.", no_args_is_help=True
)


@keys.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="The tenant (organisation) the key acts for.")],
    label: Annotated[str, typer.Option(help="A note on who holds the key.")] = "",
) -> None:
    """Create an API key and print it once: the store keeps only its salted hash."""
    if not tenant.strip() or len(tenant) > 200:
        typer.echo("error: --tenant must be 1 to 200 characters", err=True)
        raise typer.Exit(2)
    store = _store(_settings())
    record, key = store.create_key(tenant.strip(), label=label)
    store.close()
    typer.echo(key)
    typer.echo(
        f"key id {record.id} for tenant {record.tenant!r}: store it now, it is not shown again",
        err=True,
    )


@keys.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
) -> None:
    """List the keys: id, tenant, label, created, revoked (never the key)."""
    store = _store(_settings())
    for record in store.list_keys(tenant):
        revoked = record.revoked_at.isoformat() if record.revoked_at else "-"
        created = record.created_at.isoformat()
        typer.echo(f"{record.id}\t{record.tenant}\t{record.label or '-'}\t{created}\t{revoked}")
    store.close()


@keys.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    from .store.repo import NotFoundError

    store = _store(_settings())
    try:
        record = store.revoke_key(key_id)
    except NotFoundError:
        typer.echo(f"error: no key {key_id!r} (see mediation keys list)", err=True)
        raise typer.Exit(2) from None
    finally:
        store.close()
    typer.echo(f"revoked {record.id} of tenant {record.tenant!r}")
