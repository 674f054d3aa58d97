"""The FastAPI application: routers, error handlers, and the indexer running in the background.

    API_RPC_URL=http://127.0.0.1:8545 uvicorn api.app:create_app --factory

OpenAPI is at /docs; the dashboard at /.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import Problem, install_error_handlers
from api.plugins import FeedSink, LineStore
from api.routes import feeds, health, licences, parties, settlements, ui
from api.services import Services, build_services
from api.settings import ApiSettings

log = structlog.get_logger("api")


def create_app(
    settings: ApiSettings | None = None,
    *,
    services: Services | None = None,
    line_store: LineStore | None = None,
    feed_sink: FeedSink | None = None,
) -> FastAPI:
    """The app; ``services`` (tests) skips building them from ``settings`` at start-up."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        current = services or build_services(settings or ApiSettings(), line_store, feed_sink)
        app.state.services = current
        task = None
        if current.settings.run_indexer:
            task = asyncio.create_task(current.indexer.run(current.settings.poll_seconds))
        log.info("api_started", chain_id=current.manifest.chain_id, indexer=task is not None)
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owned:
                current.close()

    app = FastAPI(
        title="Royalty settlement API",
        version="0.1.0",
        summary="Licences, settlements, statements and balances from the chain's events; relayed licence actions.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (health, licences, settlements, parties, feeds, ui):
        app.include_router(module.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem.pop("$defs", {}))
            components["Problem"] = problem
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
