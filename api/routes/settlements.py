"""Settlements: full breakdown, sales-line proofs and relayed disputes."""

from __future__ import annotations

from fastapi import APIRouter

from api import proofs, queries, relay
from api.deps import LineIdPath, ManifestDep, ServicesDep, SessionDep, SettlementId
from api.errors import problem_responses
from api.relay_guard import RelayCallerDep, relaying
from api.relay_schemas import DisputeDraftIn, DisputeIn, Draft, Relayed, ResolutionDraftIn, ResolutionIn
from api.schemas import LineProof, SettlementDetail

router = APIRouter(
    prefix="/settlements", tags=["settlements"], responses=problem_responses(400, 401, 404, 422, 429, 503, 502)
)


@router.get("/{settlement_id:id}", response_model=SettlementDetail, summary="A settlement in full")
def get_settlement(settlement_id: SettlementId, session: SessionDep, manifest: ManifestDep) -> SettlementDetail:
    return queries.settlement_detail(session, manifest, settlement_id)


@router.get(
    "/{settlement_id:id}/lines/{line_id}/proof",
    response_model=LineProof,
    summary="A sales line of the report and its Merkle proof against the on-chain root",
)
def line_proof(
    settlement_id: SettlementId,
    line_id: LineIdPath,
    services: ServicesDep,
    session: SessionDep,
) -> LineProof:
    return proofs.settlement_line_proof(session, services.line_store, settlement_id, line_id)


@router.post("/{settlement_id:id}/disputes/drafts", response_model=Draft, summary="Typed data of a dispute")
def draft_dispute(
    settlement_id: SettlementId, body: DisputeDraftIn, services: ServicesDep, session: SessionDep
) -> Draft:
    return relay.draft_dispute(services, session, settlement_id, body.party, body.deadline)


@router.post("/{settlement_id:id}/disputes", response_model=Relayed, status_code=201, summary="Relay a signed dispute")
def dispute(
    settlement_id: SettlementId, body: DisputeIn, services: ServicesDep, session: SessionDep, caller: RelayCallerDep
) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_dispute(services, session, settlement_id, body.party, body.deadline, body.signature)


@router.post(
    "/{settlement_id:id}/resolution/drafts",
    response_model=Draft,
    summary="Typed data of a dispute resolution both parties sign",
)
def draft_resolution(
    settlement_id: SettlementId, body: ResolutionDraftIn, services: ServicesDep, session: SessionDep
) -> Draft:
    return relay.draft_resolution(services, session, settlement_id, body.final_amount, body.deadline)


@router.post(
    "/{settlement_id:id}/resolution",
    response_model=Relayed,
    status_code=201,
    summary="Relay a dispute resolution signed by both parties",
)
def resolution(
    settlement_id: SettlementId, body: ResolutionIn, services: ServicesDep, session: SessionDep, caller: RelayCallerDep
) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_resolution(
            services, session, settlement_id, body.final_amount, body.deadline, body.licensor_signature,
            body.licensee_signature,
        )  # fmt: skip
