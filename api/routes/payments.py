"""Money of a licence without web3: relayed withdrawals, permit deposits, and the unsigned deposit
transactions for the licensee's own wallet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import payments
from api.deps import LicenceId, ServicesDep, SessionDep
from api.errors import problem_responses
from api.inputs import PartyAddress
from api.payment_schemas import (
    Claim,
    ClaimIn,
    Deposit,
    Distribution,
    PermitDepositIn,
    PermitDraft,
    PermitDraftIn,
    PositiveAmountQuery,
    UnsignedDeposit,
    Withdrawal,
    WithdrawalIn,
)
from api.relay_guard import RelayCallerDep, relaying

router = APIRouter(prefix="/licences", tags=["payments"], responses=problem_responses(400, 401, 404, 422, 429, 503))


@router.post(
    "/{licence_id:id}/withdrawals",
    response_model=Withdrawal,
    status_code=201,
    summary="Pay a payee its claimable part (relayed; anyone may ask, the payee is paid)",
)
def withdraw(licence_id: LicenceId, body: WithdrawalIn, services: ServicesDep, caller: RelayCallerDep) -> Withdrawal:
    with relaying(services.relay_usage, caller):
        return payments.withdraw(services, licence_id, body.payee)


@router.post(
    "/{licence_id:id}/tax-withdrawals",
    response_model=Withdrawal,
    status_code=201,
    summary="Pay the withheld tax to the licence's tax account (relayed; anyone may ask)",
)
def withdraw_tax(licence_id: LicenceId, services: ServicesDep, caller: RelayCallerDep) -> Withdrawal:
    with relaying(services.relay_usage, caller):
        return payments.withdraw_tax(services, licence_id)


@router.post(
    "/{licence_id:id}/distributions",
    response_model=Distribution,
    status_code=201,
    summary="Pay every payee of a licence what it can claim, in one transaction (relayed; anyone may ask)",
)
def distribute(
    licence_id: LicenceId, services: ServicesDep, session: SessionDep, caller: RelayCallerDep
) -> Distribution:
    with relaying(services.relay_usage, caller):
        return payments.distribute(services, session, licence_id)


claims = APIRouter(prefix="/claims", tags=["payments"], responses=problem_responses(400, 401, 404, 422, 429, 503))


@claims.post(
    "",
    response_model=Claim,
    status_code=201,
    summary="Pay a payee its claimable part of many licences in one transaction (relayed; anyone may ask)",
)
def claim(body: ClaimIn, services: ServicesDep, caller: RelayCallerDep) -> Claim:
    with relaying(services.relay_usage, caller):
        return payments.claim(services, body.payee, body.licence_ids)


@router.post(
    "/{licence_id:id}/deposits/permit/drafts",
    response_model=PermitDraft,
    summary="The EIP-2612 permit the licensee signs for a deposit (typed data in the token's domain)",
)
def draft_permit_deposit(
    licence_id: LicenceId, body: PermitDraftIn, services: ServicesDep, session: SessionDep
) -> PermitDraft:
    return payments.draft_permit(services, session, licence_id, body.amount, body.deadline)


@router.post(
    "/{licence_id:id}/deposits/permit",
    response_model=Deposit,
    status_code=201,
    summary="Relay a deposit from the licensee's wallet by its signed permit",
)
def permit_deposit(
    licence_id: LicenceId, body: PermitDepositIn, services: ServicesDep, session: SessionDep, caller: RelayCallerDep
) -> Deposit:
    with relaying(services.relay_usage, caller):
        return payments.submit_permit(
            services, session, licence_id, body.amount, body.deadline, body.nonce, body.signature
        )


@router.get(
    "/{licence_id:id}/deposits/transactions",
    response_model=UnsignedDeposit,
    summary="Unsigned approve and deposit transactions for the depositor's own wallet to sign and send",
)
def deposit_transactions(
    licence_id: LicenceId,
    amount: Annotated[PositiveAmountQuery, Query(description="token units, at least 1")],
    services: ServicesDep,
    session: SessionDep,
    sender: Annotated[
        PartyAddress | None, Query(alias="from", description="the depositor; default the licensee")
    ] = None,
) -> UnsignedDeposit:
    return payments.deposit_transactions(services, session, licence_id, amount, sender)
