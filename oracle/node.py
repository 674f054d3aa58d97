"""The sender's view of the chain: the node operations it uses, and the ledger's ABI.

:class:`SenderNode` names exactly what :class:`oracle.sender.ReportSender` asks of a node;
:class:`ChainNode` provides it over :class:`royalty_chain.client.Chain`, and the unit tests give
a fake node instead (``tests/python/oracle/fake_node.py``), so every branch of the sender runs
without Anvil.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from royalty_chain.abicodec import ContractABI, FunctionCodec
from royalty_chain.client import Chain, ChainError, ErrorDecoder
from royalty_chain.events import EventDecoder


class SenderNode(Protocol):
    """What the sender needs from the node, and nothing more.

    ``rpc_batch`` carries the receipt and transaction lookups, eth_simulateV1 and
    eth_estimateGas; answers are the node's raw ``{"result"}``/``{"error"}`` objects.
    """

    @property
    def chain_id(self) -> int: ...

    def chain_time(self) -> int:
        """The latest block's timestamp."""
        ...

    def pending_nonce(self, address: str) -> int:
        """The account's transaction count including pending transactions."""
        ...

    def fee_fields(self) -> dict[str, int]:
        """``maxFeePerGas``/``maxPriorityFeePerGas``, or ``gasPrice`` on a chain without EIP-1559."""
        ...

    def rpc_batch(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]: ...

    def call_many(self, calls: Sequence[tuple[str, FunctionCodec, tuple[Any, ...]]]) -> list[Any]:
        """View calls in one batch; a revert raises its decoded ContractRevert."""
        ...

    def send_raw_transaction(self, raw: bytes) -> None: ...

    def rpc_error(self, error: Any, what: str) -> ChainError:
        """A JSON-RPC error object as ContractRevert (with revert data) or ChainError."""
        ...


@dataclass(frozen=True)
class LedgerABI:
    """The ledger as the sender encodes and decodes it: address, functions, errors, events."""

    address: str
    codec: ContractABI
    errors: ErrorDecoder
    events: EventDecoder


class ChainNode:
    """SenderNode over a Chain (web3 for the single calls, raw JSON-RPC batches for the rest)."""

    def __init__(self, chain: Chain) -> None:
        self._chain = chain

    @property
    def chain_id(self) -> int:
        return self._chain.chain_id

    def chain_time(self) -> int:
        # RPC failures are retried with backoff by the provider (royalty_chain.client.Chain).
        return int(self._chain.w3.eth.get_block("latest")["timestamp"])

    def pending_nonce(self, address: str) -> int:
        return int(self._chain.w3.eth.get_transaction_count(self._chain.w3.to_checksum_address(address), "pending"))

    def fee_fields(self) -> dict[str, int]:
        """Fee fields for the round's transactions, as web3 would fill them, asked once a round;
        within the chain's fee caps when it has them (FeeCapExceeded when the chain asks more)."""
        if self._chain.fee_caps is not None:
            return self._chain.capped_fees(self._chain.fee_caps)
        eth = self._chain.w3.eth
        base_fee = eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:  # a chain without EIP-1559
            return {"gasPrice": int(eth.gas_price)}
        priority = int(eth.max_priority_fee)
        return {"maxFeePerGas": 2 * int(base_fee) + priority, "maxPriorityFeePerGas": priority}

    def rpc_batch(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        return self._chain.rpc_batch(requests)

    def call_many(self, calls: Sequence[tuple[str, FunctionCodec, tuple[Any, ...]]]) -> list[Any]:
        return self._chain.call_many(calls)

    def send_raw_transaction(self, raw: bytes) -> None:
        self._chain.w3.eth.send_raw_transaction(raw)

    def rpc_error(self, error: Any, what: str) -> ChainError:
        return self._chain.rpc_error(error, what)


def ledger_abi(chain: Chain) -> LedgerABI:
    """The deployed RoyaltyLedger's LedgerABI, from the chain's manifest and decoders."""
    return LedgerABI(chain.ledger.address, chain.manifest.abis["RoyaltyLedger"], chain.decoder, chain.events)
