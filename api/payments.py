"""The money actions a party needs without web3: withdrawals and permit deposits, relayed by the
API's relayer key, and a deposit's unsigned transactions for the licensee's own wallet.

Withdrawals are permissionless on chain (the tokens go to the payee or the tax account whoever
sends them), so they need no signature: the relayer simulates and sends. A permit deposit needs
the licensee's EIP-2612 signature in the token's own domain; it is checked here (deadline, nonce,
and that it recovers to the licensee) before the simulation, like every relayed action
(:mod:`api.relay`). The unsigned transactions are built, estimated and priced here and signed by
the wallet: the API never holds the licensee's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from eth_utils import to_checksum_address
from sqlalchemy.orm import Session
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxReceipt

from api.errors import InvalidInput
from api.payment_schemas import (
    Claim,
    Deposit,
    Distribution,
    Payment,
    PermitDraft,
    UnsignedDeposit,
    UnsignedTransaction,
    Withdrawal,
)
from api.queries import get_licence_row
from api.queries.common import payees_of
from api.relay import _check_signature, _deadline, _rejected, _relayer, check_deadline
from api.services import Services
from royalty_chain import eip712
from royalty_chain.client import ContractRevert, revert_data
from royalty_chain.clients import TokenClient
from royalty_chain.eip712 import Domain
from royalty_chain.events import ChainEvent

GAS_MARGIN = 1.2
GAS_EXTRA = 20_000  # the relayer's own margin (royalty_chain.client.Chain.transact)


@dataclass(frozen=True, slots=True)
class LicenceMoney:
    """What the money actions need of a licence: its licensee and its payment token."""

    licence_id: int
    licensee: str
    token: TokenClient


def _licence(services: Services, session: Session, licence_id: int) -> LicenceMoney:
    row = get_licence_row(session, licence_id)  # 404 when the index does not know it
    return LicenceMoney(licence_id, to_checksum_address(row.licensee), services.chain.token(row.token))


def _relay(services: Services, send: Any) -> tuple[str, int, list[ChainEvent]]:
    """Simulates and sends a relayer transaction; a revert is a 422 (404 for an unknown id)."""
    relayer = _relayer(services)
    with services.relay_lock:
        try:
            receipt: TxReceipt = send(relayer)
        except ContractRevert as revert:
            raise _rejected(services, revert) from revert
    events = services.chain.receipt_events(receipt)
    return "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"]), events


def _event(events: list[ChainEvent], name: str) -> ChainEvent:
    return next(e for e in events if e.name == name)


# ------------------------------------------------------------------ withdrawals


def _withdrawal(licence_id: int, tx_hash: str, block: int, events: list[ChainEvent]) -> Withdrawal:
    paid = _event(events, "Withdrawn").args
    return Withdrawal(
        tx_hash=tx_hash, block_number=block, licence_id=licence_id, account=to_checksum_address(paid["account"]),
        amount=int(paid["amount"]), tax=bool(paid["tax"]),
    )  # fmt: skip


def withdraw(services: Services, licence_id: int, payee: str) -> Withdrawal:
    """Pays ``payee`` its claimable part; NotPayee and NothingToWithdraw come back as 422."""
    ledger = services.chain.ledger
    tx_hash, block, events = _relay(services, lambda relayer: ledger.withdraw(licence_id, payee, relayer))
    return _withdrawal(licence_id, tx_hash, block, events)


def withdraw_tax(services: Services, licence_id: int) -> Withdrawal:
    """Pays the licence's withheld tax to its tax account."""
    ledger = services.chain.ledger
    tx_hash, block, events = _relay(services, lambda relayer: ledger.withdraw_tax(licence_id, relayer))
    return _withdrawal(licence_id, tx_hash, block, events)


# ------------------------------------------------------------------ distribution and claims


def _payee_list(session: Session, licence_id: int) -> tuple[list[str], list[int]]:
    """The licence's payees in list order with their shares, as its LicenceOpened event gave them."""
    get_licence_row(session, licence_id)  # 404 when the index does not know it
    payees = payees_of(session, licence_id)
    return [to_checksum_address(p.account) for p in payees], [int(p.share_bps) for p in payees]


def distribute(services: Services, session: Session, licence_id: int) -> Distribution:
    """Pays every payee of the licence what it can claim, in one transaction. A payee list longer
    than registration publishes is published first (from the index's copy of LicenceOpened; the
    contract checks it against the registered hash). NothingToDistribute comes back as 422."""
    ledger = services.chain.ledger
    accounts, shares = _payee_list(session, licence_id)
    published_tx: str | None = None
    if not ledger.payout_of(licence_id)[2]:
        published_tx, _, _ = _relay(
            services, lambda relayer: ledger.publish_payees(licence_id, accounts, shares, relayer)
        )
    tx_hash, block, events = _relay(services, lambda relayer: ledger.distribute(licence_id, relayer))
    done = _event(events, "Distributed").args
    failed = {to_checksum_address(e.args["payee"]): int(e.args["amount"]) for e in events if e.name == "PayoutFailed"}
    payments = [
        Payment(account=account, amount=int(amount), paid=True)
        for account, amount in zip(accounts, done["paidEach"], strict=True)
        if int(amount) > 0
    ]
    payments += [Payment(account=account, amount=amount, paid=False) for account, amount in failed.items()]
    order = {account: i for i, account in enumerate(accounts)}
    payments.sort(key=lambda p: order[p.account])
    return Distribution(
        tx_hash=tx_hash, block_number=block, licence_id=licence_id, published_tx_hash=published_tx,
        from_total=int(done["fromTotal"]), to_total=int(done["toTotal"]), paid=int(done["paid"]),
        unpaid=int(done["unpaid"]), payments=payments,
    )  # fmt: skip


def claim(services: Services, payee: str, licence_ids: list[int]) -> Claim:
    """Pays ``payee`` its claimable part of each licence named, in one transaction (withdrawMany);
    NothingToClaim when none owes it anything, NotPayee for a licence it is not a payee of: 422."""
    ledger = services.chain.ledger
    tx_hash, block, events = _relay(services, lambda relayer: ledger.withdraw_many(licence_ids, payee, relayer))
    withdrawals = []
    for e in events:
        if e.name == "Withdrawn":
            account, amount = to_checksum_address(e.args["account"]), int(e.args["amount"])
            withdrawals.append(
                Withdrawal(
                    tx_hash=tx_hash,
                    block_number=block,
                    licence_id=int(e.args["licenceId"]),
                    account=account,
                    amount=amount,
                    tax=False,
                )
            )
    return Claim(
        tx_hash=tx_hash, block_number=block, payee=to_checksum_address(payee),
        total=sum(w.amount for w in withdrawals), withdrawals=withdrawals,
    )  # fmt: skip


# ------------------------------------------------------------------ permit deposits


def _permit_domain(licence: LicenceMoney) -> Domain:
    try:
        return licence.token.permit_domain()
    except (ContractRevert, ValueError) as err:
        raise InvalidInput(
            f"the token {licence.token.address} of licence {licence.licence_id} has no usable EIP-2612 permit "
            f"({err}): deposit with the unsigned transactions "
            f"(GET /licences/{licence.licence_id}/deposits/transactions)"
        ) from err


def _chain_time(services: Services) -> int:
    return int(services.chain.w3.eth.get_block("latest")["timestamp"])


def _check_deadline(services: Services, deadline: int) -> None:
    now = _chain_time(services)
    if deadline < now:
        raise InvalidInput.field("deadline", f"{deadline} has passed (the chain's time is {now})")


def _permit(
    services: Services, licence: LicenceMoney, amount: int, nonce: int, deadline: int
) -> tuple[eip712.StructType, Domain, dict[str, Any]]:
    message = eip712.permit_message(licence.licensee, services.chain.ledger.address, amount, nonce, deadline)
    return eip712.PERMIT, _permit_domain(licence), message


def draft_permit(
    services: Services, session: Session, licence_id: int, amount: int, deadline: int | None
) -> PermitDraft:
    """The licensee's EIP-2612 permit for the ledger to take ``amount``, as typed data to sign."""
    licence = _licence(services, session, licence_id)
    deadline = _deadline(services, deadline)
    _check_deadline(services, deadline)
    nonce = licence.token.nonces(licence.licensee)
    struct, domain, message = _permit(services, licence, amount, nonce, deadline)
    digest = struct.digest(domain, message)
    return PermitDraft(
        typed_data=struct.typed_data(domain, message), digest="0x" + digest.hex(), deadline=deadline,
        owner=licence.licensee, spender=services.chain.ledger.address, token=licence.token.address,
        value=amount, nonce=nonce,
    )  # fmt: skip


def submit_permit(
    services: Services,
    session: Session,
    licence_id: int,
    amount: int,
    deadline: int,
    nonce: int | None,
    signature: str,
) -> Deposit:
    """Checks the permit (deadline, nonce, signer) and relays ``depositWithPermit``. A permit
    of an earlier nonce may have been submitted by someone else already: the ledger then deposits
    on the allowance it left, so it is relayed too (the simulation says whether it would)."""
    licence = _licence(services, session, licence_id)
    check_deadline(services, deadline)
    current = licence.token.nonces(licence.licensee)
    if nonce is None:
        nonce = current
    elif nonce > current:
        raise InvalidInput.field("nonce", f"{nonce} is ahead of the licensee's permit nonce {current}")
    struct, domain, message = _permit(services, licence, amount, nonce, deadline)
    raw = _check_signature(
        services, "licensee", licence.licensee, struct.digest(domain, message), signature, "signature"
    )
    if len(raw) != 65:
        raise InvalidInput.field("signature", "must be 65 bytes (r, s, v)")
    ledger = services.chain.ledger
    tx_hash, block, events = _relay(
        services, lambda relayer: ledger.deposit_with_permit(licence_id, amount, deadline, raw, relayer)
    )
    deposited = _event(events, "Deposited").args
    return Deposit(
        tx_hash=tx_hash, block_number=block, licence_id=licence_id, from_=to_checksum_address(deposited["from"]),
        received=int(deposited["received"]), to_arrears=int(deposited["toArrears"]),
        to_escrow=int(deposited["toEscrow"]),
    )  # fmt: skip


# ------------------------------------------------------------------ unsigned deposit transactions


def _fees(services: Services) -> tuple[int, int]:
    """(maxFeePerGas, maxPriorityFeePerGas): twice the base fee plus the tip, as the oracle pays."""
    eth = services.chain.w3.eth
    base_fee = int(eth.get_block("latest").get("baseFeePerGas") or 0)
    priority = int(eth.max_priority_fee)
    return 2 * base_fee + priority, priority


def _estimate(services: Services, fn: ContractFunction, sender: str) -> int:
    try:
        estimated = int(fn.estimate_gas({"from": sender}))
    except (ContractCustomError, ContractLogicError) as err:
        raise _rejected(services, services.chain.decoder.decode(revert_data(err))) from err
    return int(estimated * GAS_MARGIN) + GAS_EXTRA


def _unsigned(
    services: Services,
    purpose: Literal["approve", "deposit"],
    fn: ContractFunction,
    sender: str,
    nonce: int,
    gas: int | None,
    fees: tuple[int, int],
) -> UnsignedTransaction:
    data = fn._encode_transaction_data()
    return UnsignedTransaction(
        purpose=purpose, from_=sender, to=str(fn.address), data=data, value="0x0",
        chainId=hex(services.chain.chain_id), nonce=hex(nonce), gas=None if gas is None else hex(gas),
        maxFeePerGas=hex(fees[0]), maxPriorityFeePerGas=hex(fees[1]),
    )  # fmt: skip


def deposit_transactions(
    services: Services, session: Session, licence_id: int, amount: int, sender: str | None
) -> UnsignedDeposit:
    """The transactions ``sender`` (default: the licensee) signs to deposit ``amount``: an
    ``approve`` of exactly ``amount`` when the ledger's allowance is short, then ``deposit``."""
    licence = _licence(services, session, licence_id)
    sender = to_checksum_address(sender or licence.licensee)
    ledger = services.chain.ledger
    balance = licence.token.balance_of(sender)
    if balance < amount:
        raise InvalidInput.field("amount", f"{amount} is more than the balance {balance} of {sender}")
    allowance = licence.token.allowance(sender, ledger.address)
    nonce = int(services.chain.w3.eth.get_transaction_count(sender, "pending"))
    fees = _fees(services)
    transactions: list[UnsignedTransaction] = []
    deposit_fn = ledger.deposit_fn(licence_id, amount)
    if allowance < amount:
        approve_fn = licence.token.approve_fn(ledger.address, amount)
        gas = _estimate(services, approve_fn, sender)
        transactions.append(_unsigned(services, "approve", approve_fn, sender, nonce, gas, fees))
        transactions.append(_unsigned(services, "deposit", deposit_fn, sender, nonce + 1, None, fees))
    else:
        gas = _estimate(services, deposit_fn, sender)  # a rule of the ledger's comes back as a 422
        transactions.append(_unsigned(services, "deposit", deposit_fn, sender, nonce, gas, fees))
    return UnsignedDeposit(
        licence_id=licence_id, from_=sender, token=licence.token.address, spender=ledger.address, amount=amount,
        allowance=allowance, balance=balance, transactions=transactions,
    )  # fmt: skip
