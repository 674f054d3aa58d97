"""The FastAPI application: routers, error handlers, admission, and the indexer in the background.

    API_RPC_URL=http://127.0.0.1:8545 uvicorn api.app:create_app --factory

OpenAPI is at /docs; the dashboard at /. The worker model and its settings are described in
api/settings.py and api/README.md ("Under load").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.admission import AdmissionMiddleware, Gate
from api.errors import Problem, UnexpectedErrorMiddleware, install_error_handlers
from api.logs import configure_logging
from api.plugins import FeedSink, LineStore
from api.routes import benchmarks, feeds, health, indices, licences, parties, payments, rates, settlements, ui, uploads
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
    """The app; ``services`` (tests) skips building them from ``settings`` at start-up, and
    leaves the process's logging as it is."""
    resolved = settings or (services.settings if services is not None else ApiSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        if owned:
            configure_logging(resolved)
        current = (
            services
            if services is not None
            else await asyncio.to_thread(build_services, resolved, line_store, feed_sink)
        )
        app.state.services = current
        anyio.to_thread.current_default_thread_limiter().total_tokens = resolved.worker_threads
        await asyncio.to_thread(current.index_status.refresh)
        tasks = [asyncio.create_task(current.index_status.watch(min(resolved.poll_seconds, 1.0)))]
        if current.settings.run_indexer:
            tasks.append(asyncio.create_task(current.indexer.run(current.settings.poll_seconds)))
        log.info(
            "api_started", chain_id=current.manifest.chain_id, indexer=current.settings.run_indexer,
            max_concurrent_requests=resolved.max_concurrent_requests, pool_size=resolved.pool_size(),
            worker_threads=resolved.worker_threads,
        )  # fmt: skip
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
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
    app.state.retry_after = resolved.retry_after_seconds
    requests_gate = Gate(
        "requests", resolved.max_concurrent_requests, resolved.max_queued_requests, resolved.queue_timeout_seconds
    )
    uploads_gate = Gate(
        "uploads", resolved.max_concurrent_uploads, resolved.max_queued_uploads, resolved.upload_queue_timeout_seconds
    )
    app.state.gates = (requests_gate, uploads_gate)
    app.add_middleware(
        AdmissionMiddleware, requests=requests_gate, uploads=uploads_gate, retry_after=resolved.retry_after_seconds
    )
    app.add_middleware(UnexpectedErrorMiddleware)  # added last: the outermost
    for module in (health, licences, payments, settlements, parties, feeds, uploads, rates, indices, benchmarks, ui):
        app.include_router(module.router)
    app.include_router(payments.claims)

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
