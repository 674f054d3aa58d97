"""Lifetime gas, from receipts on a fresh Anvil: two contract years of a licence (8 quarterly
reports, a payout to every payee at each year's end) for this project, OpenZeppelin 4.9's
PaymentSplitter and a push split, side by side at each payee count N; then the per-transaction
figures of issue 13 against their targets, measured in the same run.

- Ours: register (one-off, apart); the licensee approves the ledger once; per quarter a deposit
  and one settleReports of a signed one-bucket report (1 of the licence's 3 oracles, quarterly
  calendar periods, contract years from 1 January); at each year's end ``distribute`` when the
  ledger's ABI has it (one call for all payees), otherwise ``withdraw(licenceId, payee)`` for each.
- PaymentSplitter: deploy (one-off, apart); per quarter an ERC-20 transfer of the royalty in; at
  each year's end ``release(token, payee)`` for each payee.
- Push split (bench/contracts/PushSplit.sol): deploy (one-off, apart); the payer approves it once;
  per quarter one ``distribute`` that pulls the royalty and pays every payee.

Every figure is a receipt's gasUsed (21,000 base included). After each year every payee's token
balance is checked against its exact part under that system's own rule, so a wrong run raises
instead of reporting. Each system starts from the same Anvil snapshot, so every payee's balance
starts at zero on all three. The bench reports; it never fails on a figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from bench.chainkit import (
    USDX,
    BenchChain,
    BulkSender,
    bench_terms,
    check_report_digest,
    day_start,
    equal_shares,
    gas_used,
    one_bucket_report,
    payee_addresses,
    register_many,
    sign_report_locally,
    start_bench_chain,
)
from bench.gas import compile_payment_splitter, compile_with_oz4, splitter_version, warm_up
from royalty_chain.calendar import date_of, timestamp_of
from royalty_chain.clients import LedgerClient
from royalty_chain.dev.devnet import ROOT
from royalty_chain.dev.keys import role
from royalty_chain.split import parts
from royalty_chain.terms import BPS, DAY, Calendar, Report, Term, Terms

ROYALTY = 1_000 * USDX + 3  # one quarter's royalty; the odd units make every split's rounding show
RATE_BPS = 1_000
QUARTERS_PER_YEAR = 4
YEARS = 2
QUARTERS = QUARTERS_PER_YEAR * YEARS
BATCH = 10  # reports of one licence settled in one transaction, for the per-report figure
QUARTERLY = Calendar(period_months=3, anniversary=False, year_month=1, year_day=1, due_days=30)
PUSH_SOURCE = "bench/contracts/PushSplit.sol"

# Issue 13: ours / the cheapest alternative over the lifetime, at most this at N payees.
LIFETIME_TARGETS: dict[int, float] = {2: 1.5, 10: 1.0, 100: 0.5, 500: 0.5}
# Issue 13's per-transaction targets (gas of one transaction, 21,000 base included).
STEADY_SETTLE_TARGET = 120_000
FIRST_OF_YEAR_TARGET = 160_000
BATCH_PER_REPORT_TARGET = 90_000
DISTRIBUTE_PER_PAYEE_TARGET = 15_000
WITHDRAW_TARGET = 50_000
REGISTER_TARGETS: dict[int, int] = {100: 1_000_000, 500: 2_500_000}


@dataclass
class Book:
    """One system's lifetime at one N: each transaction's gas, under what it paid for, and what
    each payee held at the end (token units, payees in ascending address order)."""

    system: str
    one_off: dict[str, int] = field(default_factory=dict)
    recurring: dict[str, list[int]] = field(default_factory=dict)
    tx_hashes: list[bytes] = field(default_factory=list)
    paid: list[int] = field(default_factory=list)
    payout: str = ""

    def add(self, what: str, receipts: Sequence[TxReceipt]) -> list[int]:
        gas = [gas_used(r) for r in receipts]
        self.recurring.setdefault(what, []).extend(gas)
        self.tx_hashes.extend(bytes(r["transactionHash"]) for r in receipts)
        return gas

    @property
    def total(self) -> int:
        return sum(sum(gas) for gas in self.recurring.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "payout": self.payout,
            "one_off": self.one_off,
            "recurring": self.recurring,
            "subtotals": {what: sum(gas) for what, gas in self.recurring.items()},
            "transactions": sum(len(gas) for gas in self.recurring.values()),
            "total": self.total,
            "paid": self.paid,
        }


# ------------------------------------------------------------------ expected parts


def ours_parts(quarters: int, shares: Sequence[int]) -> list[int]:
    """What the ledger owes each payee after ``quarters`` settled royalties (its own split rule)."""
    return parts(quarters * ROYALTY, shares)


def splitter_parts(quarters: int, shares: Sequence[int]) -> list[int]:
    """PaymentSplitter 4.9 after releasing everything: floor(received * share / total shares)."""
    return [quarters * ROYALTY * s // BPS for s in shares]


def push_parts(quarters: int, shares: Sequence[int]) -> list[int]:
    """PushSplit per quarter: floor(amount * share / 10,000), the remainder to the first payee."""
    rest = [ROYALTY * s // BPS for s in shares[1:]]
    return [quarters * (ROYALTY - sum(rest)), *(quarters * r for r in rest)]


def _check_paid(bench: BenchChain, system: str, payees: Sequence[str], expected: Sequence[int]) -> list[int]:
    token = bench.token()
    held = [token.balance_of(p) for p in payees]
    wrong = [(p, h, e) for p, h, e in zip(payees, held, expected, strict=True) if h != e]
    if wrong:
        payee, got, want = wrong[0]
        raise RuntimeError(f"{system}: {len(wrong)} payee(s) paid wrongly, e.g. {payee} holds {got}, expected {want}")
    return held


# ------------------------------------------------------------------ the licence


def term_start(bench: BenchChain) -> int:
    """1 January three years before the chain's clock: the lifetime's 8 quarters and the batch's
    10 have all ended, so every report can settle now."""
    return timestamp_of(date_of(bench.now())[0] - 3, 1, 1)


def lifetime_terms(bench: BenchChain, payees: Sequence[str], shares: Sequence[int], salt: int, start: int) -> Terms:
    """10% of net sales, quarterly calendar periods, contract years from 1 January, 1 of 3 oracles."""
    base = bench_terms(
        bench,
        start=start,
        period_seconds=DAY,
        salt=salt,
        payees=list(zip(payees, shares, strict=True)),
        threshold=1,
        rate_bps=RATE_BPS,
    )
    year = date_of(start)[0]
    term = Term(start=start, end=timestamp_of(year + 5, 1, 1), sell_off_days=180, period_seconds=0, calendar=QUARTERLY)
    return replace(base, term=term)


def quarter_report(terms: Terms, licence_id: int, period: int, deadline: int) -> Report:
    """The quarter's one-bucket report: sales of 10 x ROYALTY, so a royalty of exactly ROYALTY."""
    rule = terms.term.rule()
    year = rule.year_of(rule.period_bounds(period)[0])
    return one_bucket_report(licence_id, period, period + 1, deadline, gross=10 * ROYALTY, units=10, year=year)


# ------------------------------------------------------------------ ours


def distribute_abi(ledger: LedgerClient) -> dict[str, Any] | None:
    """The ledger's ``distribute`` function, if its ABI has one (another change is adding it)."""
    found = [i for i in ledger.contract.abi if i.get("type") == "function" and i.get("name") == "distribute"]
    return found[0] if found else None


def distribute_fn(ledger: LedgerClient, item: dict[str, Any], licence_id: int, terms: Terms) -> ContractFunction:
    """The ``distribute`` call for a licence, its arguments filled by their ABI types and names:
    the licence id, and the payee list (and shares) if it takes them."""
    args: list[Any] = []
    for arg in item["inputs"]:
        kind, name = str(arg["type"]), str(arg.get("name", "")).lower()
        if kind == "address[]":
            args.append([p.account for p in terms.payees])
        elif kind.startswith("uint") and kind.endswith("[]") and "share" in name:
            args.append([p.share_bps for p in terms.payees])
        elif kind.startswith("uint") and not kind.endswith("]") and ("licence" in name or "license" in name):
            args.append(licence_id)
        else:
            raise RuntimeError(f"distribute takes {kind} {name}, which the bench does not know how to fill")
    signature = f"distribute({','.join(str(a['type']) for a in item['inputs'])})"
    fn: ContractFunction = ledger.contract.get_function_by_signature(signature)(*args)
    return fn


def ours(
    bench: BenchChain, payees: Sequence[str], shares: Sequence[int], start: int, salt: int, payout: str
) -> tuple[Book, Terms, int]:
    """The project's lifetime at N payees; ``payout`` is "distribute" or "withdraw"."""
    ledger = bench.chain.ledger
    book = Book("ours", payout=payout)
    terms = lifetime_terms(bench, payees, shares, salt, start)
    (licence_id,), (registered,) = register_many(bench, [terms])
    book.one_off["register"] = gas_used(registered)
    if any(i.get("name") == "payoutOf" for i in ledger.contract.abi) and not ledger.payout_of(licence_id)[2]:
        # A list longer than registration publishes at once is deployed by a second transaction
        # (anyone may send it) before the first payout: shown beside the registration's figure.
        published = BulkSender(bench, role("relayer")).send_one(
            ledger.publish_payees_fn(licence_id, list(payees), list(shares))
        )
        book.one_off["publish payees"] = gas_used(published)
    item = distribute_abi(ledger) if payout == "distribute" else None
    if payout == "distribute" and item is None:
        raise RuntimeError("the ledger has no distribute function")
    licensee, oracle = role("licensee_apparel"), role("oracle1")
    token = bench.token()
    payer = BulkSender(bench, licensee)
    payer.send_one(token.mint_fn(licensee.address, QUARTERS * ROYALTY))  # the licensee's money: not counted
    book.add("approve", [payer.send_one(token.approve_fn(ledger.address, QUARTERS * ROYALTY))])
    relayer = BulkSender(bench, role("relayer"))
    deadline = bench.now() + DAY
    for quarter in range(QUARTERS):
        book.add("deposit", [payer.send_one(ledger.deposit_fn(licence_id, ROYALTY))])
        report = quarter_report(terms, licence_id, quarter, deadline)
        if quarter == 0:
            check_report_digest(bench, report)
        signatures = sign_report_locally(bench, report, [oracle])
        book.add("settle", [relayer.send_one(ledger.settle_fn([report], [signatures]))])
        settlement = ledger.settlement(ledger.settled_period(licence_id, quarter))
        if settlement.royalty != ROYALTY or settlement.paid != ROYALTY:
            raise RuntimeError(f"ours: quarter {quarter} settled as {settlement}, expected {ROYALTY} paid")
        if quarter % QUARTERS_PER_YEAR == QUARTERS_PER_YEAR - 1:
            year = quarter // QUARTERS_PER_YEAR + 1
            if item is not None:
                book.add(f"payout year {year}", [relayer.send_one(distribute_fn(ledger, item, licence_id, terms))])
            else:
                for payee in payees:
                    relayer.send(ledger.withdraw_fn(licence_id, payee))
                book.add(f"payout year {year}", relayer.wait())
            book.paid = _check_paid(bench, "ours", payees, ours_parts(quarter + 1, shares))
    return book, terms, licence_id


# ------------------------------------------------------------------ the alternatives


def payment_splitter(bench: BenchChain, payees: Sequence[str], shares: Sequence[int], abi: Any, bytecode: str) -> Book:
    book = Book("PaymentSplitter", payout="release per payee")
    w3 = bench.chain.w3
    relayer, licensee = BulkSender(bench, role("relayer")), role("licensee_apparel")
    deployed = relayer.send_one(w3.eth.contract(abi=abi, bytecode=bytecode).constructor(list(payees), list(shares)))
    book.one_off["deploy"] = gas_used(deployed)
    splitter = w3.eth.contract(address=deployed["contractAddress"], abi=abi)
    release = splitter.get_function_by_signature("release(address,address)")
    token = bench.token()
    payer = BulkSender(bench, licensee)
    payer.send_one(token.mint_fn(licensee.address, QUARTERS * ROYALTY))
    for quarter in range(QUARTERS):
        book.add("transfer in", [payer.send_one(token.transfer_fn(splitter.address, ROYALTY))])
        if quarter % QUARTERS_PER_YEAR == QUARTERS_PER_YEAR - 1:
            for payee in payees:
                relayer.send(release(bench.token_address, payee))
            book.add(f"payout year {quarter // QUARTERS_PER_YEAR + 1}", relayer.wait())
            book.paid = _check_paid(bench, "PaymentSplitter", payees, splitter_parts(quarter + 1, shares))
    return book


def compile_push_split() -> tuple[list[dict[str, Any]], str]:
    return compile_with_oz4(PUSH_SOURCE, "PushSplit", {PUSH_SOURCE: (ROOT / PUSH_SOURCE).read_text()})


def push_split(bench: BenchChain, payees: Sequence[str], shares: Sequence[int], abi: Any, bytecode: str) -> Book:
    book = Book("push split", payout="paid in the quarter's transaction")
    w3 = bench.chain.w3
    licensee = role("licensee_apparel")
    payer = BulkSender(bench, licensee)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    deployed = payer.send_one(factory.constructor(bench.token_address, list(payees), list(shares)))
    book.one_off["deploy"] = gas_used(deployed)
    split = w3.eth.contract(address=deployed["contractAddress"], abi=abi)
    token = bench.token()
    payer.send_one(token.mint_fn(licensee.address, QUARTERS * ROYALTY))
    book.add("approve", [payer.send_one(token.approve_fn(split.address, QUARTERS * ROYALTY))])
    for quarter in range(QUARTERS):
        distributed = payer.send_one(split.functions.distribute(ROYALTY, list(payees), list(shares)))
        book.add("distribute", [distributed])
        if quarter % QUARTERS_PER_YEAR == QUARTERS_PER_YEAR - 1:
            book.paid = _check_paid(bench, "push split", payees, push_parts(quarter + 1, shares))
    return book


# ------------------------------------------------------------------ one N, and the per-report batch


@dataclass
class Baselines:
    splitter: tuple[list[dict[str, Any]], str]
    push: tuple[list[dict[str, Any]], str]

    @classmethod
    def compiled(cls) -> Baselines:
        return _compiled_baselines()


@cache
def _compiled_baselines() -> Baselines:  # solc-js takes seconds; the sources do not change in a run
    return Baselines(compile_payment_splitter(), compile_push_split())


def lifetime_row(bench: BenchChain, n: int, start: int, baselines: Baselines, payout: str) -> dict[str, Any]:
    """The three systems at N payees, each from the same snapshot (which is restored after each)."""
    payees = payee_addresses(n, tag=f"lifetime-{n}")
    shares = equal_shares(n)
    measures: list[Callable[[], Book]] = [
        lambda: ours(bench, payees, shares, start, salt=50_000 + n, payout=payout)[0],
        lambda: payment_splitter(bench, payees, shares, *baselines.splitter),
        lambda: push_split(bench, payees, shares, *baselines.push),
    ]
    books: list[Book] = []
    for measure in measures:
        snapshot = bench.snapshot()
        books.append(measure())
        bench.revert(snapshot)
    mine, splitter, push = books
    cheapest = min((splitter, push), key=lambda b: b.total)
    target = LIFETIME_TARGETS.get(n)
    ratio = mine.total / cheapest.total
    return {
        "payees": n,
        "ours": mine.as_json(),
        "payment_splitter": splitter.as_json(),
        "push_split": push.as_json(),
        "cheapest_alternative": cheapest.system,
        "ratio": ratio,
        "target": target,
        "met": None if target is None else ratio <= target,
    }


def batch_of_reports(bench: BenchChain, start: int) -> dict[str, Any]:
    """One settleReports of BATCH consecutive quarterly reports of one licence (2 payees, k=1)."""
    snapshot = bench.snapshot()
    ledger = bench.chain.ledger
    terms = lifetime_terms(bench, payee_addresses(2, tag="batch"), equal_shares(2), 60_000, start)
    (licence_id,), _ = register_many(bench, [terms])
    licensee = role("licensee_apparel")
    token = bench.token()
    payer = BulkSender(bench, licensee)
    payer.send_one(token.mint_fn(licensee.address, BATCH * ROYALTY))
    payer.send_one(token.approve_fn(ledger.address, BATCH * ROYALTY))
    payer.send_one(ledger.deposit_fn(licence_id, BATCH * ROYALTY))
    deadline = bench.now() + DAY
    reports = [quarter_report(terms, licence_id, q, deadline) for q in range(BATCH)]
    signatures = [sign_report_locally(bench, r, [role("oracle1")]) for r in reports]
    settled = gas_used(BulkSender(bench, role("relayer")).send_one(ledger.settle_fn(reports, signatures)))
    if ledger.escrow_of(licence_id) != 0 or ledger.last_sequence(licence_id) != BATCH:
        raise RuntimeError("the batch did not settle all its reports")
    bench.revert(snapshot)
    return {"reports": BATCH, "total": settled, "per_report": settled / BATCH}


def withdrawal_probe(bench: BenchChain, n: int, start: int) -> dict[str, Any]:
    """Our lifetime with a withdrawal per payee, when the lifetime itself used distribute."""
    snapshot = bench.snapshot()
    book, _, _ = ours(bench, payee_addresses(n, tag=f"probe-{n}"), equal_shares(n), start, 70_000 + n, "withdraw")
    bench.revert(snapshot)
    return {"payees": n, "first": book.recurring["payout year 1"], "steady": book.recurring["payout year 2"]}


# ------------------------------------------------------------------ the per-transaction figures


def _figure(label: str, gas: float | None, target: int, note: str = "") -> dict[str, Any]:
    return {
        "figure": label,
        "gas": gas,
        "target": target,
        "met": None if gas is None else gas <= target,
        "note": note,
    }


def per_transaction(rows: list[dict[str, Any]], batch: dict[str, Any], withdrawals: list[dict[str, Any]]) -> list[Any]:
    """Issue 13's per-transaction figures from this run's receipts, against their targets."""
    settles = [row["ours"]["recurring"]["settle"] for row in rows]
    firsts = {q for q in range(0, QUARTERS, QUARTERS_PER_YEAR)}
    steady = [gas for each in settles for q, gas in enumerate(each) if q not in firsts]
    figures = [
        _figure(
            "settlement, steady state (k=1, one bucket)",
            max(steady),
            STEADY_SETTLE_TARGET,
            f"the most of {len(steady)} reports (every N) that are not a year's first; the least {min(steady):,}",
        ),
        _figure(
            "first report of a licence-year: the licence's first",
            max(each[0] for each in settles),
            FIRST_OF_YEAR_TARGET,
        ),
        _figure(
            "first report of a licence-year: year 2's first",
            max(each[QUARTERS_PER_YEAR] for each in settles),
            FIRST_OF_YEAR_TARGET,
        ),
        _figure(
            f"per report in a batch of {batch['reports']} (one licence, consecutive quarters)",
            batch["per_report"],
            BATCH_PER_REPORT_TARGET,
            f"{batch['total']:,} for the transaction",
        ),
    ]
    for row in rows:
        if row["ours"]["payout"] != "distribute":
            continue
        n = row["payees"]
        year1, year2 = row["ours"]["recurring"]["payout year 1"][0], row["ours"]["recurring"]["payout year 2"][0]
        figures.append(
            _figure(
                f"distribution per payee, N={n} (year 2)",
                year2 / n,
                DISTRIBUTE_PER_PAYEE_TARGET,
                f"{year2:,} for the transaction; year 1, to fresh balances: {year1 / n:,.0f} per payee",
            )
        )
    for probe in withdrawals:
        figures.append(
            _figure(
                f"withdrawal of one payee, steady (year 2), N={probe['payees']}",
                max(probe["steady"]),
                WITHDRAW_TARGET,
                f"the most of {len(probe['steady'])}; year 1 (fresh balance): {max(probe['first']):,}",
            )
        )
    one_offs = {row["payees"]: row["ours"]["one_off"] for row in rows}
    for n, target in REGISTER_TARGETS.items():
        measured = one_offs.get(n, {}).get("register")
        publish = one_offs.get(n, {}).get("publish payees")
        note = "N not in this run" if measured is None else ""
        if publish is not None:
            note = f"list committed to by hash; publishing it as code (once, by anyone): {publish:,} more"
        figures.append(_figure(f"registration, {n} payees", measured, target, note))
    return figures


# ------------------------------------------------------------------ entry point


def measure(bench: BenchChain, payee_counts: list[int]) -> dict[str, Any]:
    """The section's results on a bench chain the caller started."""
    baselines = Baselines.compiled()
    start = term_start(bench)
    warm_up(bench, day_start(bench.now() - 40 * DAY))
    payout = "distribute" if distribute_abi(bench.chain.ledger) is not None else "withdraw"
    rows = [lifetime_row(bench, n, start, baselines, payout) for n in payee_counts]
    batch = batch_of_reports(bench, start)
    if payout == "withdraw":
        withdrawals = [
            {
                "payees": row["payees"],
                "first": row["ours"]["recurring"]["payout year 1"],
                "steady": row["ours"]["recurring"]["payout year 2"],
            }
            for row in rows
        ]
    else:
        withdrawals = [withdrawal_probe(bench, n, start) for n in payee_counts if n <= 10]
    return {
        "payout": payout,
        "royalty_per_quarter": ROYALTY,
        "quarters": QUARTERS,
        "baselines": {
            "payment_splitter": f"OpenZeppelin {splitter_version()} PaymentSplitter",
            "push_split": PUSH_SOURCE,
            "compiler": "solc 0.8.30, optimizer 200 runs, shanghai",
        },
        "notes": [
            f"{QUARTERS} quarterly royalties of {ROYALTY:,} token units over {YEARS} contract years; "
            "a payout to every payee at each year's end",
            "ours = 1 approve + a deposit and a settleReports (1 report, 1 bucket, 1 of 3 oracles) per quarter + "
            + (
                "1 distribute per year"
                if payout == "distribute"
                else "a withdraw per payee per year (the ledger has no distribute yet)"
            ),
            "PaymentSplitter = an ERC-20 transfer in per quarter + a release per payee per year",
            "push split = 1 approve + 1 distribute per quarter pulling the royalty and paying every payee",
            "register and deployments are one-off, shown apart and not in the totals or the ratio",
            "every payee's balance was checked against its exact part after each year, on all three",
            "each system starts from the same Anvil snapshot: payees hold no tokens before the first payout",
        ],
        "targets": {str(n): t for n, t in LIFETIME_TARGETS.items()},
        "rows": rows,
        "batch": batch,
        "withdrawals": withdrawals,
        "per_transaction": per_transaction(rows, batch, withdrawals),
    }


def run(workdir: Path, payee_counts: list[int]) -> dict[str, Any]:
    bench = start_bench_chain(workdir)
    try:
        return measure(bench, payee_counts)
    finally:
        bench.stop()
