"""The chain as the services see it: :class:`Chain`, one connection plus the typed clients.

A Chain holds the one :class:`royalty_chain.transport.Transport` to the node (web3 runs over it),
the deployment manifest with its parsed ABIs, and one client per contract
(:mod:`royalty_chain.clients`), shared by the oracle, the API, the scripts and the tests; handlers
never touch raw ABIs. Reverts come back as :class:`ContractRevert` carrying the decoded custom
error (name and arguments), so callers can say exactly why the chain refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, cast, overload

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.providers.base import JSONBaseProvider
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt

from royalty_chain.abicodec import ContractABI, FunctionCodec, error_abi
from royalty_chain.clients import (
    ERC20_ABI,
    EscalatorClient,
    FxClient,
    LedgerClient,
    RegistryClient,
    ReviewsClient,
    TokenClient,
    TypedDataClient,
)
from royalty_chain.events import ChainEvent, EventDecoder
from royalty_chain.manifest import Manifest, ManifestError
from royalty_chain.transport import ChainError, RpcError, Transport


class ContractRevert(ChainError):
    """A call or transaction reverted; ``error`` is the custom error's name when known."""

    def __init__(self, error: str, args: tuple[Any, ...], data: str) -> None:
        super().__init__(error, *args)
        self.error = error
        self.args = args
        self.data = data

    def __str__(self) -> str:
        rendered = ", ".join(_render(a) for a in self.args)
        return f"{self.error}({rendered})"


class FeeCapExceeded(ChainError):
    """The chain asks a higher fee than the sender's cap allows; nothing was sent."""

    def __init__(self, cap: str, capped: int, asked: int) -> None:
        super().__init__(f"the chain asks {asked} wei per gas ({cap}), above the cap of {capped}")
        self.cap = cap
        self.capped = capped
        self.asked = asked


@dataclass(frozen=True, slots=True)
class FeeCaps:
    """The most a sender pays per gas: in all (base fee + tip) and as tip, in wei."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def fields(self, base_fee: int | None, priority: int, gas_price: int | None = None) -> dict[str, int]:
        """Fee fields within the caps (twice the base fee plus the tip, capped), or FeeCapExceeded
        when the chain's base fee plus the suggested tip (or its gas price) is above them."""
        if base_fee is None:
            price = int(gas_price or 0)
            if price > self.max_fee_per_gas:
                raise FeeCapExceeded("max_fee_per_gas", self.max_fee_per_gas, price)
            return {"gasPrice": price}
        if priority > self.max_priority_fee_per_gas:
            raise FeeCapExceeded("max_priority_fee_per_gas", self.max_priority_fee_per_gas, priority)
        if base_fee + priority > self.max_fee_per_gas:
            raise FeeCapExceeded("max_fee_per_gas", self.max_fee_per_gas, base_fee + priority)
        return {
            "maxFeePerGas": min(2 * base_fee + priority, self.max_fee_per_gas),
            "maxPriorityFeePerGas": priority,
        }


SendGuard = Callable[[int], None]
"""Called with a transaction's gas limit after its simulation, before it is signed: may raise."""
send_guard: ContextVar[SendGuard | None] = ContextVar("send_guard", default=None)


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


# Solidity's built-in Error(string) and Panic(uint256).
_ERROR_STRING = error_abi({"name": "Error", "inputs": [{"name": "message", "type": "string"}]})
_PANIC = error_abi({"name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]})


class ErrorDecoder:
    """Decodes revert data against every custom error of the given parsed ABIs (and Solidity's
    built-in Error(string) and Panic(uint256))."""

    def __init__(self, abis: Sequence[ContractABI]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for selector, error in abi.errors.items():
                self._errors[selector] = (error.name, list(error.types))
        for builtin in (_ERROR_STRING, _PANIC):
            self._errors[builtin.selector] = (builtin.name, list(builtin.types))

    def decode(self, data: str | bytes | None) -> ContractRevert:
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else (data or b"")
        hex_data = "0x" + raw.hex()
        known = self._errors.get(raw[:4])
        if known is None:
            return ContractRevert("UnknownRevert", (), hex_data)
        name, types = known
        try:
            values = abi_decode(types, raw[4:])
        except Exception:  # malformed error payload: keep the raw data for the operator
            return ContractRevert(name, (), hex_data)
        values = tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))
        return ContractRevert(name, values, hex_data)


class Chain:
    """A web3 connection over one :class:`Transport`, the deployment manifest, its parsed ABIs,
    and one typed client per contract (``registry``, ``ledger``, ``typed_data``, ``token(address)``)."""

    def __init__(
        self,
        rpc_url: str,
        manifest: Manifest,
        timeout: float = 30.0,
        transport: Transport | None = None,
        fee_caps: FeeCaps | None = None,
    ) -> None:
        self.fee_caps = fee_caps
        self.transport = transport or Transport(rpc_url, timeout)
        self.w3 = Web3(self.transport.provider())
        self.manifest = manifest
        self._chain_id: int | None = None
        self.abis = manifest.abis
        self.decoder = ErrorDecoder(list(self.abis.values()))
        self.codecs = self.abis  # call codecs by contract name: ``chain.codecs[name].fn(function)``
        self.events = EventDecoder.from_manifest(manifest)
        self.registry = RegistryClient(self)
        self.ledger = LedgerClient(self)
        self._typed_data: TypedDataClient | None = None
        self._escalator: EscalatorClient | None = None
        self._reviews: ReviewsClient | None = None
        self._fx: FxClient | None = None

    @property
    def chain_id(self) -> int:
        # Asked once: an endpoint's chain id does not change (a reset chain is caught by the
        # manifest's genesis hash), and every transaction and domain needs it.
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def typed_data(self) -> TypedDataClient:
        """The registry's LicenceTypedData (its ``reportDigest`` is the digest oracles sign); the
        manifest records it since the report digest moved there from the registry."""
        if self._typed_data is None:
            if TypedDataClient.name not in self.manifest.contracts:
                raise ManifestError(
                    "the deployment manifest has no LicenceTypedData (deployed before reports carried "
                    "conversions): deploy afresh"
                )
            self._typed_data = TypedDataClient(self)
        return self._typed_data

    @property
    def escalator(self) -> EscalatorClient:
        """The LicenceEscalator (index-linked escalation); deployments before it have none."""
        if self._escalator is None:
            if EscalatorClient.name not in self.manifest.contracts:
                raise ManifestError(
                    "the deployment manifest has no LicenceEscalator (deployed before escalation clauses): "
                    "deploy afresh"
                )
            self._escalator = EscalatorClient(self)
        return self._escalator

    @property
    def reviews(self) -> ReviewsClient:
        """The LicenceReviews (rate reviews with triggers); deployments before it have none."""
        if self._reviews is None:
            if ReviewsClient.name not in self.manifest.contracts:
                raise ManifestError(
                    "the deployment manifest has no LicenceReviews (deployed before rate reviews): deploy afresh"
                )
            self._reviews = ReviewsClient(self)
        return self._reviews

    @property
    def fx(self) -> FxClient:
        """The LicenceFx (conversion checks, fixed contractual rates); deployments before it have none."""
        if self._fx is None:
            if FxClient.name not in self.manifest.contracts:
                raise ManifestError(
                    "the deployment manifest has no LicenceFx (deployed before fixed contractual rates): deploy afresh"
                )
            self._fx = FxClient(self)
        return self._fx

    def token(self, address: str) -> TokenClient:
        """The ERC-20 token at ``address``."""
        return TokenClient(self, address)

    def receipt_events(self, receipt: TxReceipt) -> list[ChainEvent]:
        """The registry's and the ledger's events in a transaction's receipt, decoded."""
        return [e for e in (self.events.decode(dict(entry)) for entry in receipt["logs"]) if e is not None]

    def rpc_batch(self, requests_: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Raw JSON-RPC requests in one HTTP batch, answers in request order.

        Each answer is the node's ``{"result"}`` or ``{"error"}`` object, untouched by web3's
        formatters; retries and the fallback for nodes that refuse batches are the transport's.
        It goes through the web3 provider (a :class:`TransportProvider`) so that a provider
        wrapped around it (the benchmarks count round trips) sees every request.
        """
        if not requests_:
            return []
        batch = [(RPCEndpoint(method), params) for method, params in requests_]
        answers = cast(JSONBaseProvider, self.w3.provider).make_batch_request(batch)
        if not isinstance(answers, list):  # pragma: no cover - the transport always answers a list
            raise ChainError(f"the node refused a batch of {len(batch)} requests: {answers}")
        return [dict(a) for a in answers]

    def call_many(
        self, calls: Sequence[tuple[str, FunctionCodec, tuple[Any, ...]]], block: str = "latest"
    ) -> list[Any]:
        """Many view calls, ``(address, function, args)`` each, in one JSON-RPC batch.

        Encoded and decoded by :mod:`royalty_chain.abicodec`; a call that reverts raises its
        decoded ContractRevert.
        """
        answers = self.rpc_batch(
            [("eth_call", [{"to": to, "data": "0x" + fn.encode(*args).hex()}, block]) for to, fn, args in calls]
        )
        values = []
        for (_, fn, args), answer in zip(calls, answers, strict=True):
            if "error" in answer:
                raise self.rpc_error(answer["error"], f"{fn.name}{args}")
            values.append(fn.decode(bytes.fromhex(str(answer["result"])[2:])))
        return values

    def rpc_error(self, error: Any, what: str) -> ChainError:
        """What a JSON-RPC error object means: its decoded revert (ContractRevert) when it carries
        revert data, else a ChainError that starts with ``what``."""
        data = _revert_hex(error.get("data") if isinstance(error, dict) else None)
        if data is not None and len(data) >= 10:
            return self.decoder.decode(data)
        return ChainError(f"{what}: {error}")

    def call(self, fn: ContractFunction, sender: str | None = None) -> Any:
        try:
            return fn.call({"from": sender} if sender else {})
        except (ContractCustomError, ContractLogicError) as err:
            raise self.decoder.decode(revert_data(err)) from err

    @overload
    def transact(
        self,
        fn: ContractFunction,
        account: LocalAccount,
        nonce: int | None = None,
        gas: int | None = None,
        wait: Literal[True] = True,
    ) -> TxReceipt: ...

    @overload
    def transact(
        self, fn: ContractFunction, account: LocalAccount, nonce: int | None, gas: int | None, wait: Literal[False]
    ) -> bytes: ...

    @overload
    def transact(
        self,
        fn: ContractFunction,
        account: LocalAccount,
        nonce: int | None = None,
        gas: int | None = None,
        *,
        wait: Literal[False],
    ) -> bytes: ...

    def transact(
        self,
        fn: ContractFunction,
        account: LocalAccount,
        nonce: int | None = None,
        gas: int | None = None,
        wait: bool = True,
    ) -> TxReceipt | bytes:
        """Simulate against the pending block, sign locally and send; a revert raises ContractRevert
        and sends nothing, so do a fee above ``fee_caps`` (FeeCapExceeded) and a ``send_guard``."""
        params: TxParams = {"from": account.address, "chainId": self.chain_id}
        try:
            estimated = fn.estimate_gas(params, block_identifier="pending")
        except (ContractCustomError, ContractLogicError) as err:
            raise self.decoder.decode(revert_data(err)) from err
        params["gas"] = gas or int(estimated * 1.2) + 20_000
        if self.fee_caps is not None:
            params.update(self.capped_fees(self.fee_caps))  # type: ignore[typeddict-item]
        guard = send_guard.get()
        if guard is not None:
            guard(int(params["gas"]))
        params["nonce"] = Nonce(
            nonce if nonce is not None else self.w3.eth.get_transaction_count(account.address, "pending")
        )
        tx = fn.build_transaction(params)
        signed = account.sign_transaction(cast(dict[str, Any], tx))
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        if not wait:
            return bytes(tx_hash)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise ContractRevert("TransactionFailed", (tx_hash.hex(),), "0x")
        return receipt

    def capped_fees(self, caps: FeeCaps) -> dict[str, int]:
        """This moment's fee fields within ``caps`` (FeeCapExceeded when the chain asks more)."""
        eth = self.w3.eth
        base_fee = eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            return caps.fields(None, 0, int(eth.gas_price))
        return caps.fields(int(base_fee), int(eth.max_priority_fee))


def _revert_hex(data: Any) -> str | None:
    """The 0x revert data a node put in an error's ``data``, or None."""
    if isinstance(data, str) and data.startswith("0x"):
        return data
    if isinstance(data, dict):
        # Anvil puts the revert data under "data"; Ganache under "result".
        for key in ("data", "result"):
            inner = data.get(key)
            if isinstance(inner, str) and inner.startswith("0x"):
                return inner
    return None


def revert_data(err: Exception) -> str:
    found = _revert_hex(getattr(err, "data", None))
    if found is not None:
        return found
    message = str(err.args[0]) if err.args else ""
    return message if message.startswith("0x") else "0x"


__all__ = [
    "ERC20_ABI",
    "Chain",
    "ChainError",
    "ContractRevert",
    "ErrorDecoder",
    "FeeCapExceeded",
    "FeeCaps",
    "LedgerClient",
    "RegistryClient",
    "RpcError",
    "TokenClient",
    "TypedDataClient",
    "revert_data",
]
