"""GET /health: how far the index is behind the chain.

Answered on the event loop from the in-memory snapshot (api.index_status): no worker thread, no
pool connection and no admission slot (api.admission), so it answers within a second under any
load and while the index is busy.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.errors import problem_responses
from api.schemas import Health

router = APIRouter(tags=["health"], responses=problem_responses(503))


@router.get("/health", response_model=Health, summary="Chain id, head block, indexed block and lag")
async def health(services: ServicesDep) -> Health:
    status = services.index_status
    state = status.snapshot
    error = services.indexer.last_error or status.problem()
    if state is None:
        return Health(
            status="degraded", chain_id=services.manifest.chain_id, head_block=None, indexed_block=None,
            lag=None, events_indexed=0, reorgs=0, resets=0, last_error=error or "not indexed yet",
        )  # fmt: skip
    return Health(
        status="ok" if error is None else "degraded",
        chain_id=state.chain_id,
        head_block=state.head_block,
        indexed_block=state.indexed_block,
        lag=max(0, state.head_block - state.indexed_block),
        events_indexed=state.events_indexed,
        reorgs=state.reorgs,
        resets=state.resets,
        last_error=error,
    )
