"""Parties: licences, balances and payee settlements of one address."""

from __future__ import annotations

from fastapi import APIRouter

from api import queries
from api.deps import AddressPath, ManifestDep, PageQuery, SessionDep, SizeQuery
from api.errors import problem_responses
from api.schemas import Party, PartyRef

router = APIRouter(prefix="/parties", tags=["parties"], responses=problem_responses(400, 404, 422, 503))


@router.get("", response_model=list[PartyRef], summary="Addresses the index knows as parties")
def list_parties(session: SessionDep) -> list[PartyRef]:
    return queries.known_parties(session)


@router.get("/{address}", response_model=Party, summary="A party's licences, balances and payee settlements")
def get_party(
    address: AddressPath, session: SessionDep, manifest: ManifestDep, page: PageQuery = 1, size: SizeQuery = 50
) -> Party:
    return queries.party(session, manifest, address, page, size)
