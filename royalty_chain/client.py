"""Typed clients for the deployed contracts, over web3.py.

One object per contract, shared by the oracle, the API, the scripts and the tests; handlers never
touch raw ABIs. Reverts come back as :class:`ContractRevert` carrying the decoded custom error
(name and arguments), so callers can say exactly why the chain refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import requests
from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from web3 import HTTPProvider, Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt

from royalty_chain.abicodec import ContractCodec, FunctionCodec, abi_type
from royalty_chain.eip712 import Domain
from royalty_chain.events import EventDecoder
from royalty_chain.manifest import Manifest
from royalty_chain.terms import Report, Schedule, Terms


class ChainError(Exception):
    """Root of the errors this package raises about the chain."""


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


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class ErrorDecoder:
    """Decodes revert data against every custom error of the given ABIs."""

    def __init__(self, abis: Sequence[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = [abi_type(i) for i in item.get("inputs", [])]
                signature = f"{item['name']}({','.join(types)})"
                self._errors[function_signature_to_4byte_selector(signature)] = (item["name"], types)
        # Solidity's built-in Error(string) and Panic(uint256).
        self._errors[function_signature_to_4byte_selector("Error(string)")] = ("Error", ["string"])
        self._errors[function_signature_to_4byte_selector("Panic(uint256)")] = ("Panic", ["uint256"])

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


def make_provider(
    rpc_url: str, timeout: float = 30.0, provider_class: type[HTTPProvider] = HTTPProvider
) -> HTTPProvider:
    """The HTTP provider every client here uses.

    Connection errors and timeouts are retried with exponential backoff (0.5 s, 1 s, 2 s, ...,
    about a minute in all), which rides out a node restart; eth_sendRawTransaction is among the
    retried methods, which is safe because a resent signed transaction has the same hash. web3's
    transaction validation asks eth_chainId for every call: that one answer is cached.
    """
    retry = ExceptionRetryConfiguration(
        errors=(requests.ConnectionError, requests.Timeout), retries=7, backoff_factor=0.5
    )
    return provider_class(
        rpc_url,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=retry,
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )


class Chain:
    """A web3 connection plus the deployment manifest and an error decoder."""

    def __init__(self, rpc_url: str, manifest: Manifest, timeout: float = 30.0) -> None:
        self.w3 = Web3(make_provider(rpc_url, timeout))
        self.manifest = manifest
        self._chain_id: int | None = None
        self.decoder = ErrorDecoder([c.abi for c in manifest.contracts.values()])
        self.codecs = {name: ContractCodec(c.abi) for name, c in manifest.contracts.items()}
        self.events = EventDecoder.from_manifest(manifest)
        self.registry = RegistryClient(self)
        self.ledger = LedgerClient(self)

    @property
    def chain_id(self) -> int:
        # Asked once: an endpoint's chain id does not change (a reset chain is caught by the
        # manifest's genesis hash), and every transaction and domain needs it.
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def contract(self, name: str) -> Any:
        deployed = self.manifest.contracts[name]
        return self.w3.eth.contract(address=to_checksum_address(deployed.address), abi=deployed.abi)

    def token(self, address: str) -> Any:
        abi = self.manifest.contracts["TestToken"].abi if "TestToken" in self.manifest.contracts else _ERC20_ABI
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi)

    @retry(
        retry=retry_if_exception_type((requests.ConnectionError, requests.Timeout)),
        stop=stop_after_attempt(8),
        wait=wait_exponential(multiplier=0.5, max=16),
        reraise=True,
    )
    def rpc_batch(self, requests_: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Raw JSON-RPC requests in one HTTP batch, answers in request order.

        Transport errors are retried with the same backoff as single requests (web3's retry
        configuration covers only those); each answer is the node's ``{"result"}`` or
        ``{"error"}`` object, untouched by web3's formatters.
        """
        if not requests_:
            return []
        batch = [(RPCEndpoint(method), params) for method, params in requests_]
        answers = self.w3.provider.make_batch_request(batch)  # type: ignore[attr-defined]
        if not isinstance(answers, list):  # the node refused the whole batch
            error = answers.get("error", answers)
            raise ChainError(f"the node refused a batch of {len(batch)} requests: {error}")
        if len(answers) != len(batch):
            raise ChainError(f"the node answered {len(answers)} of {len(batch)} batched requests")
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

    def transact(
        self,
        fn: ContractFunction,
        account: LocalAccount,
        nonce: int | None = None,
        gas: int | None = None,
        wait: bool = True,
    ) -> TxReceipt | bytes:
        """Simulate, sign locally and send; a revert raises ContractRevert and sends nothing."""
        params: TxParams = {"from": account.address, "chainId": self.chain_id}
        try:
            estimated = fn.estimate_gas(params)
        except (ContractCustomError, ContractLogicError) as err:
            raise self.decoder.decode(revert_data(err)) from err
        params["gas"] = gas or int(estimated * 1.2) + 20_000
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


_CONTEXT_KEYS = (
    "licensor",
    "licensee",
    "start",
    "effective_end",
    "sell_off_end",
    "period_seconds",
    "threshold",
    "dispute_window",
    "arbiter",
    "scope",
)
_SETTLEMENT_KEYS = (
    "licence_id",
    "period",
    "kind",
    "state",
    "settled_at",
    "dispute_until",
    "royalty",
    "due",
    "paid",
    "released",
)


def settlement_context_from_abi(value: Any) -> dict[str, Any]:
    """ILicenceRegistry.SettlementContext as a dict keyed by snake_case field names."""
    return dict(zip(_CONTEXT_KEYS, value, strict=True))


class RegistryClient:
    """LicenceRegistry: terms, consent and lifecycle."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.contract = chain.contract("LicenceRegistry")

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def domain(self) -> Domain:
        return Domain("LicenceRegistry", self.chain.chain_id, self.address)

    def register(
        self, terms: Terms, deadline: int, licensor_sig: bytes, licensee_sig: bytes, sender: LocalAccount
    ) -> int:
        fn = self.contract.functions.register(terms.as_abi(), deadline, licensor_sig, licensee_sig)
        receipt = self.chain.transact(fn, sender)
        events = self.contract.events.LicenceRegistered().process_receipt(receipt, errors=DISCARD)
        return int(events[0]["args"]["licenceId"])

    def amend(
        self,
        licence_id: int,
        schedule: Schedule,
        new_end: int,
        deadline: int,
        licensor_sig: bytes,
        licensee_sig: bytes,
        sender: LocalAccount,
    ) -> TxReceipt:
        fn = self.contract.functions.amend(licence_id, schedule.as_abi(), new_end, deadline, licensor_sig, licensee_sig)
        return self.chain.transact(fn, sender)  # type: ignore[return-value]

    def terminate_by_consent(
        self, licence_id: int, deadline: int, licensor_sig: bytes, licensee_sig: bytes, sender: LocalAccount
    ) -> TxReceipt:
        fn = self.contract.functions.terminateByConsent(licence_id, deadline, licensor_sig, licensee_sig)
        return self.chain.transact(fn, sender)  # type: ignore[return-value]

    def register_digest(self, terms: Terms, deadline: int) -> bytes:
        return bytes(self.chain.call(self.contract.functions.registerDigest(terms.as_abi(), deadline)))

    def report_digest(self, report: Report) -> bytes:
        return bytes(self.chain.call(self.contract.functions.reportDigest(report.as_abi())))

    def status(self, licence_id: int) -> int:
        return int(self.chain.call(self.contract.functions.status(licence_id)))

    def licence_count(self) -> int:
        return int(self.chain.call(self.contract.functions.licenceCount()))

    def schedule_count(self, licence_id: int) -> int:
        return int(self.chain.call(self.contract.functions.scheduleCount(licence_id)))

    def schedule_at(self, licence_id: int, timestamp: int) -> Schedule:
        return Schedule.from_abi(self.chain.call(self.contract.functions.scheduleAt(licence_id, timestamp)))

    def settlement_context(self, licence_id: int) -> dict[str, Any]:
        value = self.chain.call(self.contract.functions.settlementContext(licence_id))
        return settlement_context_from_abi(value)


class LedgerClient:
    """RoyaltyLedger: escrow, settlement, balances, disputes."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.contract = chain.contract("RoyaltyLedger")

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def domain(self) -> Domain:
        return Domain("RoyaltyLedger", self.chain.chain_id, self.address)

    def settle_fn(self, reports: Sequence[Report], signatures: Sequence[Sequence[bytes]]) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.settleReports(
            [r.as_abi() for r in reports], [list(s) for s in signatures]
        )
        return fn

    def deposit(self, licence_id: int, amount: int, sender: LocalAccount) -> TxReceipt:
        return self.chain.transact(self.contract.functions.deposit(licence_id, amount), sender)  # type: ignore[return-value]

    def withdraw(self, licence_id: int, payee: str, sender: LocalAccount) -> TxReceipt:
        fn = self.contract.functions.withdraw(licence_id, to_checksum_address(payee))
        return self.chain.transact(fn, sender)  # type: ignore[return-value]

    def settled_period(self, licence_id: int, period: int) -> int:
        return int(self.chain.call(self.contract.functions.settledPeriod(licence_id, period)))

    def last_sequence(self, licence_id: int) -> int:
        return int(self.chain.call(self.contract.functions.lastSequence(licence_id)))

    def settlement(self, settlement_id: int) -> dict[str, Any]:
        value = self.chain.call(self.contract.functions.settlement(settlement_id))
        keys = _SETTLEMENT_KEYS
        return dict(zip(keys, value, strict=True))

    def escrow_of(self, licence_id: int) -> int:
        return int(self.chain.call(self.contract.functions.escrowOf(licence_id)))

    def arrears_of(self, licence_id: int) -> int:
        return int(self.chain.call(self.contract.functions.arrearsOf(licence_id)))

    def claimable(self, licence_id: int, payee: str) -> int:
        fn = self.contract.functions.claimable(licence_id, to_checksum_address(payee))
        return int(self.chain.call(fn))

    def tax_claimable(self, licence_id: int) -> int:
        return int(self.chain.call(self.contract.functions.taxClaimable(licence_id)))


_ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": out}],
    }
    for name, mutability, inputs, out in [
        ("balanceOf", "view", [("account", "address")], "uint256"),
        ("decimals", "view", [], "uint8"),
        ("symbol", "view", [], "string"),
        ("approve", "nonpayable", [("spender", "address"), ("amount", "uint256")], "bool"),
        ("transfer", "nonpayable", [("to", "address"), ("amount", "uint256")], "bool"),
    ]
]
