"""Chain helpers shared by the benchmarks: a fresh Anvil with a big block gas limit, the project's
contracts deployed on it, bench licences, and fast bulk sending with explicit nonces.

Nothing here is timed by itself; the benchmarks time what they measure around these calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import Nonce, RPCEndpoint, RPCResponse, TxParams, TxReceipt, Wei

from royalty_chain.actions import report_digest, sign_report
from royalty_chain.client import Chain, ContractRevert, TokenClient, revert_data
from royalty_chain.codes import channel_index, encode_scope, field_index, territory_index
from royalty_chain.dev.devnet import LocalChain, deploy, start_anvil
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import Domain, register_digest, sign_digest
from royalty_chain.terms import DAY, Bucket, Payee, Report, Schedule, Term, Terms
from royalty_chain.transport import Transport, TransportProvider

GAS_LIMIT = 300_000_000
USDX = 10**6
MAX_FEE = 50 * 10**9  # far above Anvil's base fee; the dev accounts hold 10,000 ETH each
TERRITORIES = ["US", "GB", "DE"]
FIELDS = ["apparel", "toys"]
CHANNELS = ["retail", "online"]
ORACLES = ("oracle1", "oracle2", "oracle3")


class CountingProvider(TransportProvider):
    """The project's web3 provider, also counts JSON-RPC round trips and the time spent in them.

    ``by_method`` counts requests (a batch's requests as ``batch:<method>``); ``seconds_by_method``
    is the time of the round trips, a batch's time under its method (``batch:mixed`` if several).
    """

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.calls = 0
        self.seconds = 0.0
        self.by_method: dict[str, int] = {}
        self.seconds_by_method: dict[str, float] = {}

    def _took(self, key: str, seconds: float) -> None:
        self.seconds += seconds
        self.calls += 1
        self.seconds_by_method[key] = self.seconds_by_method.get(key, 0.0) + seconds

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        t0 = time.perf_counter()
        try:
            return super().make_request(method, params)
        finally:
            self._took(method, time.perf_counter() - t0)
            self.by_method[method] = self.by_method.get(method, 0) + 1

    def make_batch_request(self, batch_requests: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return super().make_batch_request(batch_requests)
        finally:
            methods = {method for method, _ in batch_requests}
            self._took(f"batch:{methods.pop()}" if len(methods) == 1 else "batch:mixed", time.perf_counter() - t0)
            for method, _ in batch_requests:
                key = f"batch:{method}"
                self.by_method[key] = self.by_method.get(key, 0) + 1

    def snapshot(self) -> tuple[int, float, dict[str, int]]:
        return self.calls, self.seconds, dict(self.by_method)


@dataclass
class BenchChain:
    """Anvil started by the bench plus the deployed contracts; ``stop()`` ends that Anvil."""

    local: LocalChain
    chain: Chain
    manifest_file: Path
    _domains: dict[str, Domain] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.local.url

    def stop(self) -> None:
        self.local.stop()

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        answer = self.chain.w3.provider.make_request(RPCEndpoint(method), params or [])
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer.get("result")

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc("evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert {snapshot_id} refused")

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def registry_domain(self) -> Domain:
        if "registry" not in self._domains:
            self._domains["registry"] = self.chain.registry.domain()
        return self._domains["registry"]

    @property
    def token_address(self) -> str:
        return self.chain.manifest.token("USDX").address

    def token(self) -> TokenClient:
        return self.chain.token(self.token_address)


def start_bench_chain(
    workdir: Path, log_name: str = "anvil.log", steps_tracing: bool = False, extra_args: Sequence[str] = ()
) -> BenchChain:
    """A fresh Anvil (the same flags as royalty_chain.dev.devnet.start_anvil plus a 300M block gas
    limit, so 100-report batches and 500-payee registrations fit) with the contracts deployed."""
    workdir.mkdir(parents=True, exist_ok=True)
    args = ["--gas-limit", str(GAS_LIMIT)]
    if steps_tracing:  # opcode-level debug_traceTransaction, for the gas breakdown
        args.append("--steps-tracing")
    local = start_anvil(log_path=workdir / log_name, extra_args=[*args, *extra_args])
    url = local.url
    try:
        manifest = deploy(url, workdir / "deployment.json", fresh=True)  # a new chain, whatever workdir recorded
    except Exception:
        local.stop()
        raise
    chain = Chain(url, manifest, timeout=120)
    return BenchChain(local=local, chain=chain, manifest_file=workdir / "deployment.json")


# ------------------------------------------------------------------ sending


class BulkSender:
    """Signs and sends transactions from one account with locally tracked nonces, without waiting
    for each receipt; ``wait()`` collects the receipts (and fails on any failed transaction).

    With ``window`` at most that many transactions are in flight: sending one more first waits
    for the oldest receipt (a flooded Anvil mempool slows Anvil down badly)."""

    def __init__(self, bench: BenchChain, account: LocalAccount, window: int | None = None) -> None:
        self.bench = bench
        self.account = account
        self.window = window
        self.chain_id = bench.chain.chain_id
        self.nonce: int = bench.chain.w3.eth.get_transaction_count(account.address, "pending")
        self.pending: list[bytes] = []
        self.done: list[TxReceipt] = []

    def estimate(self, fn: ContractFunction | ContractConstructor) -> int:
        try:
            return int(fn.estimate_gas({"from": self.account.address}))
        except Exception as err:
            data = revert_data(err)
            if data != "0x":
                raise self.bench.chain.decoder.decode(data) from err
            raise

    def send(self, fn: ContractFunction | ContractConstructor, gas: int | None = None) -> bytes:
        if self.window is not None and len(self.pending) >= self.window:
            self.done.append(self._receipt(self.pending.pop(0)))
        if gas is None:
            gas = int(self.estimate(fn) * 1.25) + 30_000
        params: TxParams = {
            "from": self.account.address,
            "chainId": self.chain_id,
            "gas": gas,
            "nonce": Nonce(self.nonce),
            "maxFeePerGas": Wei(MAX_FEE),
            "maxPriorityFeePerGas": Wei(1),
        }
        tx = fn.build_transaction(params)
        signed = self.account.sign_transaction(cast(dict[str, Any], tx))
        tx_hash = bytes(self.bench.chain.w3.eth.send_raw_transaction(signed.raw_transaction))
        self.nonce += 1
        self.pending.append(tx_hash)
        return tx_hash

    def _receipt(self, tx_hash: bytes) -> TxReceipt:
        return self.bench.chain.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=300, poll_latency=0.02)

    def wait(self) -> list[TxReceipt]:
        receipts = self.done + [self._receipt(h) for h in self.pending]
        self.pending, self.done = [], []
        failed = [r for r in receipts if r["status"] != 1]
        if failed:
            raise ContractRevert("TransactionFailed", (failed[0]["transactionHash"].hex(),), "0x")
        return receipts

    def send_one(self, fn: ContractFunction | ContractConstructor, gas: int | None = None) -> TxReceipt:
        """Send and wait for this one transaction; its receipt carries the gas used."""
        self.send(fn, gas)
        return self.wait()[-1]


def gas_used(receipt: TxReceipt) -> int:
    return int(receipt["gasUsed"])


# ------------------------------------------------------------------ licences


def extra_oracles(count: int) -> list[LocalAccount]:
    """Deterministic oracle keys beyond the three development oracles (they only sign)."""
    return [Account.from_key(keccak(text=f"bench-oracle-{i}")) for i in range(count)]


def payee_addresses(count: int, tag: str = "payee") -> list[str]:
    """Distinct payee addresses in ascending order (the registry requires payees sorted)."""
    addresses = [to_checksum_address(keccak(text=f"bench-{tag}-{i}")[-20:]) for i in range(count)]
    return sorted(addresses, key=lambda a: int(a, 16))


def equal_shares(count: int) -> list[int]:
    shares = [10_000 // count] * count
    shares[0] += 10_000 - sum(shares)
    return shares


def bench_terms(
    bench: BenchChain,
    *,
    start: int,
    period_seconds: int,
    salt: int,
    payees: Sequence[tuple[str, int]] | None = None,
    oracles: Sequence[str] | None = None,
    threshold: int = 2,
    rate_bps: int = 1_000,
) -> Terms:
    """A plain licence: 10% of net sales in US/GB/DE, apparel/toys, retail/online; no advance,
    no tax, no dispute window, final at once."""
    payee_list = payees or [(role("licensor_brand").address, 10_000)]
    return Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=keccak(text="bench licence"),
        asset_ids=(1,),
        scope=encode_scope(TERRITORIES, FIELDS, CHANNELS),
        term=Term(start=start, end=start + 3 * 365 * DAY, sell_off_days=180, period_seconds=period_seconds),
        token=bench.token_address,
        schedule=Schedule(effective_from=start, rate_bps=rate_bps),
        payees=tuple(Payee(a, s) for a, s in payee_list),
        oracles=tuple(oracles or [role(o).address for o in ORACLES]),
        threshold=threshold,
        arbiter=role("arbiter").address,
        salt=salt.to_bytes(32, "big"),
    )


def register_fn(bench: BenchChain, terms: Terms, deadline: int) -> ContractFunction:
    """The relayer's register call with both parties' EIP-712 consent, signed locally."""
    digest = register_digest(bench.registry_domain(), terms, deadline)
    licensor_sig = sign_digest(digest, role("licensor_brand").key)
    licensee_sig = sign_digest(digest, role("licensee_apparel").key)
    return bench.chain.registry.register_fn(terms, deadline, licensor_sig, licensee_sig)


def check_register_digest(bench: BenchChain, terms: Terms, deadline: int) -> None:
    local = register_digest(bench.registry_domain(), terms, deadline)
    if bench.chain.registry.register_digest(terms, deadline) != local:
        raise RuntimeError("the bench's register digest differs from the registry's")


def register_many(bench: BenchChain, terms_list: Sequence[Terms]) -> tuple[list[int], list[TxReceipt]]:
    """Registers licences from the dev relayer with explicit nonces; returns ids and receipts.

    Automine is switched off while sending so the registrations pack into few blocks."""
    if not terms_list:
        return [], []
    deadline = bench.now() + 7 * DAY
    check_register_digest(bench, terms_list[0], deadline)
    first_id = bench.chain.registry.licence_count() + 1
    sender = BulkSender(bench, role("relayer"))
    gas = int(sender.estimate(register_fn(bench, terms_list[0], deadline)) * 1.3) + 100_000
    receipts = _mined_in_bulk(bench, sender, (register_fn(bench, t, deadline) for t in terms_list), gas)
    ids = list(range(first_id, first_id + len(terms_list)))
    if bench.chain.registry.licence_count() != ids[-1]:
        raise RuntimeError("licence ids are not the expected sequence")
    return ids, receipts


def fund_many(bench: BenchChain, licence_ids: Sequence[int], amount_each: int) -> None:
    """The licensee mints, approves the ledger, and deposits ``amount_each`` into each escrow."""
    licensee = role("licensee_apparel")
    token = bench.token()
    total = amount_each * len(licence_ids)
    sender = BulkSender(bench, licensee)
    sender.send(token.mint_fn(licensee.address, total))
    sender.send(token.approve_fn(bench.chain.ledger.address, total))
    sender.wait()
    ledger = bench.chain.ledger
    gas = int(sender.estimate(ledger.deposit_fn(licence_ids[0], amount_each)) * 1.3) + 50_000
    _mined_in_bulk(bench, sender, (ledger.deposit_fn(lid, amount_each) for lid in licence_ids), gas)


def _mined_in_bulk(
    bench: BenchChain, sender: BulkSender, fns: Iterable[ContractFunction], gas: int, chunk: int = 400
) -> list[TxReceipt]:
    receipts: list[TxReceipt] = []
    per_block = max(1, min(chunk, (GAS_LIMIT * 9 // 10) // gas))
    bench.rpc("evm_setAutomine", [False])
    try:
        for count, fn in enumerate(fns, start=1):
            sender.send(fn, gas)
            if count % per_block == 0:
                bench.rpc("evm_mine")
        bench.rpc("evm_mine")
    finally:
        bench.rpc("evm_setAutomine", [True])
    receipts.extend(sender.wait())
    return receipts


# ------------------------------------------------------------------ reports


def one_bucket_report(
    licence_id: int,
    period: int,
    sequence: int,
    deadline: int,
    gross: int,
    *,
    lines_root: bytes | None = None,
    line_count: int = 1,
    territory: str = "US",
    field: str = "apparel",
    channel: str = "retail",
    units: int = 1,
    year: int = 0,
) -> Report:
    """A report of one bucket; ``year`` is the contract year of its sales (0 for the first)."""
    bucket = Bucket(
        year=year,
        territory=territory_index(territory),
        field=field_index(field),
        channel=channel_index(channel),
        units=units,
        gross=gross,
        deductions=0,
    )
    return Report(
        licence_id=licence_id,
        period=period,
        sequence=sequence,
        deadline=deadline,
        lines_root=lines_root or keccak(text=f"lines-{licence_id}-{period}"),
        line_count=line_count,
        buckets=(bucket,),
    )


def sign_report_locally(bench: BenchChain, report: Report, signers: Sequence[LocalAccount]) -> list[bytes]:
    """The oracles' signatures, ordered by address, over the digest the project's own helper builds."""
    return sign_report(report_digest(bench.chain, report), signers)


def check_report_digest(bench: BenchChain, report: Report) -> None:
    """The project's report digest must equal the contract's (the registry's LicenceTypedData)."""
    on_chain = bench.chain.typed_data.report_digest(report)
    if on_chain != report_digest(bench.chain, report):
        raise RuntimeError("royalty_chain's report digest differs from the contract's")


def day_start(timestamp: int) -> int:
    return timestamp // DAY * DAY
