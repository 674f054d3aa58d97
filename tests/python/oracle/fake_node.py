"""A fake node for the sender's unit tests: a tiny ledger model behind the SenderNode protocol.

It answers what :class:`oracle.node.SenderNode` names with the raw JSON-RPC shapes a node sends
(hex quantities, ``{"result"}``/``{"error"}`` objects, raw logs), keeps a transaction pool and a
list of mined receipts, and settles a report the way the ledger decides whether it may: already
settled, stale sequence, expired deadline, or a refusal the test scripted. Every request is
recorded so tests can assert what the sender asked, in which order, with which values.

The ABI below is the subset of IRoyaltyLedger the sender uses, written out by hand so the tests
need no compiled contracts; the decoders the sender uses on it are the real ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.typed_transactions import TypedTransaction
from eth_utils import function_signature_to_4byte_selector, keccak
from hexbytes import HexBytes

from oracle.node import LedgerABI
from royalty_chain.abicodec import ContractABI, FunctionCodec
from royalty_chain.client import ChainError, ErrorDecoder, FeeCaps
from royalty_chain.events import EventDecoder
from royalty_chain.terms import REPORT_TYPE

LEDGER = "0xeDEdEDedeDEdeDeDedeDEDeDEdEdededeDeDEdED"
CHAIN_ID = 31337


def _inputs(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"name": n, "type": t} for n, t in pairs]


_BUCKET = {
    "name": "buckets",
    "type": "tuple[]",
    "components": _inputs(
        ("year", "uint16"),
        ("territory", "uint8"),
        ("field", "uint8"),
        ("channel", "uint8"),
        ("units", "uint128"),
        ("gross", "uint128"),
        ("deductions", "uint128"),
    ),
}
_REPORT = [
    *_inputs(
        ("licenceId", "uint256"),
        ("period", "uint32"),
        ("sequence", "uint64"),
        ("deadline", "uint64"),
        ("linesRoot", "bytes32"),
        ("lineCount", "uint32"),
    ),
    _BUCKET,
    {**_BUCKET, "name": "returned"},
    *_inputs(("corrects", "uint256"), ("audit", "bool"), ("auditCost", "uint128")),
    {
        "name": "fx",
        "type": "tuple[]",
        "components": _inputs(
            ("bucket", "uint16"),
            ("currency", "bytes3"),
            ("minorUnits", "uint8"),
            ("rateDay", "uint64"),
            ("rate", "uint128"),
            ("gross", "uint128"),
            ("deductions", "uint128"),
        ),
    },
]
_SETTLEMENT = _inputs(
    ("licenceId", "uint256"),
    ("period", "uint32"),
    ("kind", "uint8"),
    ("state", "uint8"),
    ("settledAt", "uint64"),
    ("disputeUntil", "uint64"),
    ("dueAt", "uint64"),
    ("year", "uint16"),
    ("royalty", "uint128"),
    ("due", "uint128"),
    ("paid", "uint128"),
    ("released", "uint128"),
)
ERRORS = {
    "StaleSequence": ("uint256", "uint64", "uint64"),
    "ReportExpired": ("uint256", "uint64", "uint256"),
    "PeriodAlreadySettled": ("uint256", "uint32", "uint256"),
    "PeriodNotEnded": ("uint256", "uint32", "uint64"),
    "InvalidSignature": ("uint256", "uint8", "bytes32"),
    "EnforcedPause": (),
}
LEDGER_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "settleReports",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "reports", "type": "tuple[]", "components": _REPORT},
            {"name": "signatures", "type": "bytes[][]"},
        ],
        "outputs": [],
    },
    {
        "type": "function",
        "name": "settledPeriod",
        "stateMutability": "view",
        "inputs": _inputs(("licenceId", "uint256"), ("period", "uint32")),
        "outputs": _inputs(("settlementId", "uint256")),
    },
    {
        "type": "function",
        "name": "latestOfPeriod",
        "stateMutability": "view",
        "inputs": _inputs(("licenceId", "uint256"), ("period", "uint32")),
        "outputs": _inputs(("settlementId", "uint256")),
    },
    {
        "type": "function",
        "name": "lastSequence",
        "stateMutability": "view",
        "inputs": _inputs(("licenceId", "uint256")),
        "outputs": _inputs(("", "uint64")),
    },
    {
        "type": "function",
        "name": "settlementCount",
        "stateMutability": "view",
        "inputs": [],
        "outputs": _inputs(("", "uint256")),
    },
    {
        "type": "function",
        "name": "settlement",
        "stateMutability": "view",
        "inputs": _inputs(("settlementId", "uint256")),
        "outputs": [{"name": "", "type": "tuple", "components": _SETTLEMENT}],
    },
    {
        "type": "event",
        "name": "Settled",
        "anonymous": False,
        "inputs": [
            {"name": "settlementId", "type": "uint256", "indexed": True},
            {"name": "licenceId", "type": "uint256", "indexed": True},
            *_inputs(
                ("kind", "uint8"),
                ("period", "uint32"),
                ("royalty", "uint256"),
                ("recouped", "uint256"),
                ("due", "uint256"),
                ("paid", "uint256"),
                ("pending", "bool"),
                ("dueAt", "uint64"),
            ),
        ],
    },
    *(
        {"type": "error", "name": name, "inputs": _inputs(*((f"a{i}", t) for i, t in enumerate(types)))}
        for name, types in ERRORS.items()
    ),
]


def ledger() -> LedgerABI:
    parsed = ContractABI(LEDGER_ABI)
    return LedgerABI(LEDGER, parsed, ErrorDecoder([parsed]), EventDecoder({"RoyaltyLedger": (LEDGER, parsed)}))


def revert(name: str, *args: Any) -> str:
    """Revert data of the custom error ``name``, as a node returns it."""
    types = ERRORS[name]
    selector = function_signature_to_4byte_selector(f"{name}({','.join(types)})")
    return "0x" + (selector + abi_encode(list(types), list(args))).hex()


_SETTLE = FunctionCodec.from_abi(LEDGER_ABI[0])
_REPORT_TYPES = f"{REPORT_TYPE}[]"


def settled_reports(calldata: str | bytes) -> list[tuple[Any, ...]]:
    """The reports of a settleReports calldata, as ABI tuples."""
    raw = bytes(HexBytes(calldata))
    assert raw[:4] == _SETTLE.selector
    reports, _ = abi_decode([_REPORT_TYPES, "bytes[][]"], raw[4:])
    return list(reports)


@dataclass
class Sent:
    """A transaction the sender broadcast, decoded."""

    hash: str
    nonce: int
    gas: int
    reports: list[tuple[Any, ...]]  # (licenceId, period, sequence, deadline, ...)


@dataclass
class FakeNode:
    """SenderNode with an in-memory ledger. Royalty is 10% of each report's gross; paid is the
    royalty minus ``shortfall`` (what escrow could not cover)."""

    ledger: LedgerABI = field(default_factory=ledger)
    time: int = 1_000_000
    nonce: int = 0  # transactions the sender account has mined before the test
    fee_caps: FeeCaps | None = None  # the sender's caps, as a Chain with fee_caps applies them
    gas_used: int = 100_000  # what a simulation executes
    estimate: int = 200_000  # what eth_estimateGas answers
    simulate_v1: bool = True  # False: a node without eth_simulateV1 (Ganache)
    fail_below_gas: int = 0  # a mined transaction with a lower gas limit fails on chain
    automine: bool = True  # mine each transaction as it is broadcast
    mine_on_receipt_poll: bool = False  # mine the pool when receipts are asked (after recording)
    drop_sends: bool = False  # accept transactions, then lose them
    shortfall: int = 0
    refusals: dict[int, list[str]] = field(default_factory=dict)  # licence -> revert data, one per simulation
    last_sequence: dict[int, int] = field(default_factory=dict)
    settled: dict[tuple[int, int], int] = field(default_factory=dict)  # (licence, period) -> settlement id
    latest: dict[tuple[int, int], int] = field(default_factory=dict)  # (licence, period) -> its last adjustment
    settlements: dict[int, tuple[int, int, int, int]] = field(
        default_factory=dict
    )  # id -> licence, period, royalty, paid
    kinds: dict[int, int] = field(default_factory=dict)  # settlement id -> its kind (2, Report, when not here)
    pool: dict[str, Sent] = field(default_factory=dict)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # method names, in order
    receipt_polls: list[int] = field(default_factory=list)  # hashes asked per eth_getTransactionReceipt batch
    pool_at_simulation: list[int] = field(default_factory=list)
    max_pool: int = 0
    clock_now: Fraction = Fraction(0)

    # ------------------------------------------------------------ the sender's clock

    def clock(self) -> float:
        return float(self.clock_now)

    def sleep(self, seconds: float) -> None:
        self.clock_now += Fraction(str(seconds))

    # ------------------------------------------------------------ SenderNode

    @property
    def chain_id(self) -> int:
        return CHAIN_ID

    def chain_time(self) -> int:
        self.requests.append("chain_time")
        return self.time

    def pending_nonce(self, address: str) -> int:
        self.requests.append("pending_nonce")
        return self.nonce + len(self.receipts) + len(self.pool)

    def fee_fields(self) -> dict[str, int]:
        self.requests.append("fee_fields")
        if self.fee_caps is not None:  # the chain asks a 1 gwei base fee and a 1 gwei tip
            return self.fee_caps.fields(1_000_000_000, 1_000_000_000)
        return {"maxFeePerGas": 2_000_000_000, "maxPriorityFeePerGas": 1_000_000_000}

    def rpc_batch(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        self.requests.extend(method for method, _ in requests)
        receipt_hashes = [params[0] for method, params in requests if method == "eth_getTransactionReceipt"]
        if receipt_hashes:
            self.receipt_polls.append(len(receipt_hashes))
        answers = [self._answer(method, params) for method, params in requests]
        if receipt_hashes and self.mine_on_receipt_poll:
            self.mine()
        return answers

    def call_many(self, calls: Sequence[tuple[str, FunctionCodec, tuple[Any, ...]]]) -> list[Any]:
        self.requests.extend(f"call:{fn.name}" for _, fn, _ in calls)
        values = []
        for address, fn, args in calls:
            assert address == LEDGER
            if fn.name == "settledPeriod":
                values.append(self.settled.get((args[0], args[1]), 0))
            elif fn.name == "latestOfPeriod":
                key = (args[0], args[1])
                values.append(self.latest.get(key, self.settled.get(key, 0)))
            elif fn.name == "lastSequence":
                values.append(self.last_sequence.get(args[0], 0))
            elif fn.name == "settlementCount":
                values.append(max(self.settlements, default=0))
            elif fn.name == "settlement":
                licence_id, period, royalty, paid = self.settlements[args[0]]
                due_at = self.time + 30 * 86_400
                kind = self.kinds.get(args[0], 2)
                values.append((licence_id, period, kind, 1, self.time, self.time, due_at, 0, royalty, royalty, paid, 0))
            else:
                raise AssertionError(f"unexpected view {fn.name}")
        return values

    def send_raw_transaction(self, raw: bytes) -> None:
        self.requests.append("send_raw_transaction")
        tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        assert tx["chainId"] == CHAIN_ID and HexBytes(tx["to"]) == HexBytes(LEDGER)
        sent = Sent("0x" + keccak(raw).hex(), int(tx["nonce"]), int(tx["gas"]), settled_reports(tx["data"]))
        self.sent.append(sent)
        if self.drop_sends:
            return
        self.pool[sent.hash] = sent
        self.max_pool = max(self.max_pool, len(self.pool))
        if self.automine:
            self.mine()

    def rpc_error(self, error: Any, what: str) -> ChainError:
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, str) and len(data) >= 10:
            return self.ledger.errors.decode(data)
        return ChainError(f"{what}: {error}")

    # ------------------------------------------------------------ the ledger model

    def mine(self) -> None:
        for sent in sorted(self.pool.values(), key=lambda s: s.nonce):
            ok = sent.gas >= self.fail_below_gas and self._refusal(sent.reports, scripted=False) is None
            logs = [log for report in sent.reports for log in self._settle(report, sent.hash)] if ok else []
            self.receipts[sent.hash] = {
                "transactionHash": sent.hash,
                "status": "0x1" if ok else "0x0",
                "gasUsed": hex(min(sent.gas, self.gas_used)),
                "logs": logs,
            }
        self.pool.clear()

    def lose_settlements_from(self, settlement_id: int) -> None:
        """The chain comes back without its settlements from ``settlement_id`` on (a node restored
        from an older state): the periods and sequences they set are as they were before."""
        for lost in [i for i in self.settlements if i >= settlement_id]:
            licence_id, period, _, _ = self.settlements.pop(lost)
            self.kinds.pop(lost, None)
            for marks in (self.settled, self.latest):
                if marks.get((licence_id, period)) == lost:
                    del marks[licence_id, period]
            self.last_sequence[licence_id] = 0  # the test's reports are one per licence

    def _refusal(self, reports: list[tuple[Any, ...]], scripted: bool = True) -> str | None:
        """Why the ledger refuses these reports now (revert data), or None. A scripted refusal is
        used up by the simulation that meets it; the mined transaction checks only the model."""
        for licence_id, period, sequence, deadline, *_, corrects, _audit, _cost, _fx in reports:
            if scripted and self.refusals.get(licence_id):
                return self.refusals[licence_id].pop(0)
            if not corrects and (licence_id, period) in self.settled:
                return revert("PeriodAlreadySettled", licence_id, period, self.settled[licence_id, period])
            if sequence <= self.last_sequence.get(licence_id, 0):
                return revert("StaleSequence", licence_id, sequence, self.last_sequence.get(licence_id, 0))
            if deadline < self.time:
                return revert("ReportExpired", licence_id, deadline, self.time)
        return None

    def _settle(self, report: tuple[Any, ...], tx_hash: str) -> list[dict[str, Any]]:
        """The Settled logs of one report: an original (kind Report), an adjustment (kind
        Adjustment) or an audit finding (kind Audit), the latter followed by its cost (kind
        AuditCost) when it states one (the model charges it whatever the underpayment)."""
        licence_id, period, sequence, _deadline, _root, _count, buckets, *_, corrects, audit, audit_cost, _fx = report
        royalty = sum(b[5] for b in buckets) // 10
        self.last_sequence[licence_id] = sequence
        kind = 7 if audit else 5 if corrects else 2
        logs = [self._settled_log(licence_id, period, kind, royalty, tx_hash)]
        if corrects:
            self.latest[licence_id, period] = len(self.settlements)
        else:
            self.settled[licence_id, period] = len(self.settlements)
        if audit and audit_cost:
            logs.append(self._settled_log(licence_id, period, 8, audit_cost, tx_hash))
        return logs

    def _settled_log(self, licence_id: int, period: int, kind: int, royalty: int, tx_hash: str) -> dict[str, Any]:
        paid = royalty - self.shortfall
        settlement_id = len(self.settlements) + 1
        self.settlements[settlement_id] = (licence_id, period, royalty, paid)
        self.kinds[settlement_id] = kind
        data = abi_encode(
            ["uint8", "uint32", "uint256", "uint256", "uint256", "uint256", "bool", "uint64"],
            [kind, period, royalty, 0, royalty, paid, False, 2_000_000 + 30 * 86_400],
        )
        return {
            "address": LEDGER,
            "topics": [
                self.ledger.events.topic("Settled"),
                "0x" + settlement_id.to_bytes(32, "big").hex(),
                "0x" + licence_id.to_bytes(32, "big").hex(),
            ],
            "data": "0x" + data.hex(),
            "blockNumber": hex(100 + len(self.receipts)),
            "blockHash": "0x" + "ab" * 32,
            "logIndex": hex(settlement_id),
            "transactionHash": tx_hash,
        }

    def _answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        if method == "eth_getTransactionReceipt":
            return {"result": self.receipts.get(params[0])}
        if method == "eth_getTransactionByHash":
            known = params[0] in self.receipts or params[0] in self.pool
            return {"result": {"hash": params[0]} if known else None}
        if method == "eth_simulateV1":
            if not self.simulate_v1:
                return {"error": {"code": -32601, "message": "Method not found"}}
            self.pool_at_simulation.append(len(self.pool))
            (call,) = params[0]["blockStateCalls"][0]["calls"]
            refused = self._refusal(settled_reports(call["data"]))
            if refused is not None:
                outcome = {"status": "0x0", "gasUsed": hex(30_000), "returnData": refused}
            else:
                outcome = {"status": "0x1", "gasUsed": hex(self.gas_used), "returnData": "0x"}
            return {"result": [{"calls": [outcome]}]}
        if method == "eth_estimateGas":
            self.pool_at_simulation.append(len(self.pool))
            refused = self._refusal(settled_reports(params[0]["data"]))
            if refused is not None:
                return {"error": {"code": 3, "message": "execution reverted", "data": refused}}
            return {"result": hex(self.estimate)}
        raise AssertionError(f"unexpected JSON-RPC method {method}")
