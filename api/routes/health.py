"""GET /health: how far the index is behind the chain."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import ServicesDep, SessionDep
from api.errors import problem_responses
from api.indexer.models import IndexState
from api.schemas import Health

router = APIRouter(tags=["health"], responses=problem_responses(400, 404, 422, 503))


@router.get("/health", response_model=Health, summary="Chain id, head block, indexed block and lag")
def health(services: ServicesDep, session: SessionDep) -> Health:
    state = session.scalar(select(IndexState).where(IndexState.id == 1))
    error = services.indexer.last_error
    if state is None:
        return Health(
            status="degraded", chain_id=services.manifest.chain_id, head_block=None, indexed_block=None,
            lag=None, events_indexed=0, reorgs=0, resets=0, last_error=error or "not indexed yet",
        )  # fmt: skip
    lag = max(0, state.head_block - state.last_block)
    return Health(
        status="ok" if error is None else "degraded",
        chain_id=state.chain_id,
        head_block=state.head_block,
        indexed_block=state.last_block,
        lag=lag,
        events_indexed=state.events_indexed,
        reorgs=state.reorgs,
        resets=state.resets,
        last_error=error,
    )
