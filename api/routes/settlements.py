"""Settlements: full breakdown, sales-line proofs and relayed disputes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import queries, relay
from api.deps import ManifestDep, ServicesDep, SessionDep, SettlementId
from api.errors import ApiError, NotFound, problem_responses
from api.indexer.models import SettlementRow
from api.relay_schemas import DisputeDraftIn, DisputeIn, Draft, Relayed, ResolutionDraftIn, ResolutionIn
from api.schemas import LineProof, SettlementDetail
from intake.merkle import verify

router = APIRouter(prefix="/settlements", tags=["settlements"], responses=problem_responses(400, 404, 422, 503, 502))


class ProofMismatch(ApiError):
    status, slug, title = 502, "proof-mismatch", "Line store disagrees with the chain"


@router.get("/{settlement_id:int}", response_model=SettlementDetail, summary="A settlement in full")
def get_settlement(settlement_id: SettlementId, session: SessionDep, manifest: ManifestDep) -> SettlementDetail:
    return queries.settlement_detail(session, manifest, settlement_id)


@router.get(
    "/{settlement_id:int}/lines/{line_id}/proof",
    response_model=LineProof,
    summary="A sales line of the report and its Merkle proof against the on-chain root",
)
def line_proof(
    settlement_id: SettlementId,
    line_id: Annotated[str, Path(min_length=1, max_length=128)],
    services: ServicesDep,
    session: SessionDep,
) -> LineProof:
    row = session.get(SettlementRow, settlement_id)
    if row is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    if row.lines_root is None:
        raise NotFound(f"settlement {settlement_id} is not a report: it has no sales lines")
    if not getattr(services.line_store, "configured", True):
        raise NotFound("line store not configured")
    found = services.line_store.get_line(row.licence_id, row.period, line_id)
    if found is None:
        raise NotFound(f"line {line_id!r} is not in the report of settlement {settlement_id}")
    line, leaf, proof = found
    root = bytes.fromhex(row.lines_root[2:])
    if not verify(proof, root, leaf):
        raise ProofMismatch(f"the stored proof of line {line_id!r} does not lead to the on-chain root {row.lines_root}")
    return LineProof(
        settlement_id=settlement_id,
        licence_id=row.licence_id,
        period=row.period,
        line_id=line_id,
        line=line,
        leaf="0x" + leaf.hex(),
        proof=["0x" + p.hex() for p in proof],
        lines_root=row.lines_root,
        verified=True,
    )


@router.post("/{settlement_id:int}/disputes/drafts", response_model=Draft, summary="Typed data of a dispute")
def draft_dispute(
    settlement_id: SettlementId, body: DisputeDraftIn, services: ServicesDep, session: SessionDep
) -> Draft:
    return relay.draft_dispute(services, session, settlement_id, body.party, body.deadline)


@router.post("/{settlement_id:int}/disputes", response_model=Relayed, status_code=201, summary="Relay a signed dispute")
def dispute(settlement_id: SettlementId, body: DisputeIn, services: ServicesDep, session: SessionDep) -> Relayed:
    return relay.submit_dispute(services, session, settlement_id, body.party, body.deadline, body.signature)


@router.post(
    "/{settlement_id:int}/resolution/drafts",
    response_model=Draft,
    summary="Typed data of a dispute resolution both parties sign",
)
def draft_resolution(
    settlement_id: SettlementId, body: ResolutionDraftIn, services: ServicesDep, session: SessionDep
) -> Draft:
    return relay.draft_resolution(services, session, settlement_id, body.final_amount, body.deadline)


@router.post(
    "/{settlement_id:int}/resolution",
    response_model=Relayed,
    status_code=201,
    summary="Relay a dispute resolution signed by both parties",
)
def resolution(settlement_id: SettlementId, body: ResolutionIn, services: ServicesDep, session: SessionDep) -> Relayed:
    return relay.submit_resolution(
        services, session, settlement_id, body.final_amount, body.deadline, body.licensor_signature,
        body.licensee_signature,
    )  # fmt: skip
