"""The bench's lifetime section (bench/lifetime.py) on a real Anvil at N=2: its structure, every
payee paid its exact part on each of the three systems, and its totals equal to the receipts.

It measures gas and never judges it: no gas figure is asserted here (the guard on gas is the
Foundry snapshot, `make gas`)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hexbytes import HexBytes
from web3 import Web3

from bench import lifetime, report
from bench.chainkit import BenchChain, equal_shares, payee_addresses, start_bench_chain
from royalty_chain.terms import Payee

QUARTER = 1_000_000_003  # lifetime.ROYALTY, written out: the test's own expectation
SHARES = [5_000, 5_000]
# 8 quarters to 2 payees of 5,000 bps each, under each system's rule (8 x 1,000,000,003 = 8,000,000,024):
OURS = [4_000_000_012, 4_000_000_012]  # halving split of the whole: floor(total / 2), the rest
SPLITTER = [4_000_000_012, 4_000_000_012]  # floor(received * 5,000 / 10,000) each
PUSH = [8 * 500_000_002, 8 * 500_000_001]  # per quarter floor(amount / 2), the remainder to the first


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchChain]:
    chain = start_bench_chain(tmp_path_factory.mktemp("lifetime"))
    yield chain
    chain.stop()


@pytest.fixture(scope="module")
def section(bench: BenchChain) -> dict[str, Any]:
    return lifetime.measure(bench, [2])


def test_the_quarter_royalty_is_the_tests_own() -> None:
    assert lifetime.ROYALTY == QUARTER
    assert equal_shares(2) == SHARES


def test_section_has_one_row_per_n_with_three_systems_and_the_ratio(section: dict[str, Any]) -> None:
    assert section["quarters"] == 8
    (row,) = section["rows"]
    assert row["payees"] == 2
    ours, splitter, push = row["ours"], row["payment_splitter"], row["push_split"]
    cheapest = min(splitter["total"], push["total"])
    assert row["ratio"] == ours["total"] / cheapest
    assert row["cheapest_alternative"] == ("PaymentSplitter" if splitter["total"] <= push["total"] else "push split")
    assert row["target"] == 1.5
    assert row["met"] == (row["ratio"] <= 1.5)
    assert set(ours["one_off"]) == {"register"}
    assert set(splitter["one_off"]) == set(push["one_off"]) == {"deploy"}
    payouts = 1 if section["payout"] == "distribute" else 2  # transactions per year's payout
    assert {k: len(v) for k, v in ours["recurring"].items()} == {
        "approve": 1,
        "deposit": 8,
        "settle": 8,
        "payout year 1": payouts,
        "payout year 2": payouts,
    }
    assert {k: len(v) for k, v in splitter["recurring"].items()} == {
        "transfer in": 8,
        "payout year 1": 2,
        "payout year 2": 2,
    }
    assert {k: len(v) for k, v in push["recurring"].items()} == {"approve": 1, "distribute": 8}


def test_totals_are_the_sums_of_their_transactions(section: dict[str, Any]) -> None:
    for key in ("ours", "payment_splitter", "push_split"):
        book = section["rows"][0][key]
        assert book["subtotals"] == {kind: sum(gas) for kind, gas in book["recurring"].items()}
        assert book["total"] == sum(sum(gas) for gas in book["recurring"].values())
        assert book["transactions"] == sum(len(gas) for gas in book["recurring"].values())
        assert all(isinstance(g, int) and g > 21_000 for gas in book["recurring"].values() for g in gas)


def test_every_payee_was_paid_its_exact_part(section: dict[str, Any]) -> None:
    row = section["rows"][0]
    assert row["ours"]["paid"] == OURS
    assert row["payment_splitter"]["paid"] == SPLITTER
    assert row["push_split"]["paid"] == PUSH


def test_per_transaction_figures_come_from_the_same_run(section: dict[str, Any]) -> None:
    figures = {f["figure"]: f for f in section["per_transaction"]}
    settles = section["rows"][0]["ours"]["recurring"]["settle"]
    steady = figures["settlement, steady state (k=1, one bucket)"]
    assert steady["gas"] == max(settles[1:4] + settles[5:8])
    assert steady["target"] == 120_000
    assert figures["first report of a licence-year: the licence's first"]["gas"] == settles[0]
    assert figures["first report of a licence-year: year 2's first"]["gas"] == settles[4]
    batch = figures["per report in a batch of 10 (one licence, consecutive quarters)"]
    assert batch["gas"] == section["batch"]["total"] / 10
    withdrawal = figures["withdrawal of one payee, steady (year 2), N=2"]
    assert withdrawal["target"] == 50_000
    assert withdrawal["gas"] == max(section["withdrawals"][0]["steady"])
    for n in (100, 500):  # not measured at N=2: shown as such, not guessed
        assert figures[f"registration, {n} payees"]["gas"] is None
        assert figures[f"registration, {n} payees"]["met"] is None
    for figure in figures.values():
        assert figure["met"] is None or figure["met"] == (figure["gas"] <= figure["target"])


def test_the_section_renders(section: dict[str, Any]) -> None:
    side, by_kind, per_tx = report.lifetime_grids(section)
    assert len(side.rows) == 1
    assert len(by_kind.rows) == 3
    assert len(per_tx.rows) == len(section["per_transaction"])
    assert "| 2 |" in side.markdown()


def test_each_system_pays_on_chain_and_its_book_is_its_receipts(bench: BenchChain) -> None:
    """Run each system outside the section (nothing reverted) and check the chain itself."""
    start = lifetime.term_start(bench)
    baselines = lifetime.Baselines.compiled()
    payout = "distribute" if lifetime.distribute_abi(bench.chain.ledger) is not None else "withdraw"

    def ours(payees: list[str]) -> lifetime.Book:
        return lifetime.ours(bench, payees, SHARES, start, 90_001, payout)[0]

    def splitter(payees: list[str]) -> lifetime.Book:
        return lifetime.payment_splitter(bench, payees, SHARES, *baselines.splitter)

    def push(payees: list[str]) -> lifetime.Book:
        return lifetime.push_split(bench, payees, SHARES, *baselines.push)

    runs = [("test-ours", OURS, ours), ("test-oz", SPLITTER, splitter), ("test-push", PUSH, push)]
    token = bench.token()
    for tag, expected, measure in runs:
        payees = payee_addresses(2, tag=tag)
        assert [token.balance_of(p) for p in payees] == [0, 0]
        book = measure(payees)
        assert [token.balance_of(p) for p in payees] == expected
        receipts = [bench.chain.w3.eth.get_transaction_receipt(HexBytes(h)) for h in book.tx_hashes]
        assert all(r["status"] == 1 for r in receipts)
        assert book.total == sum(int(r["gasUsed"]) for r in receipts)
        assert len(receipts) == sum(len(gas) for gas in book.recurring.values())


ZERO = "0x" + "00" * 20
TERMS_PAYEES = [("0x" + "11" * 20, 6_000), ("0x" + "22" * 20, 4_000)]  # digits only: already checksummed


def _ledger_with(inputs: list[dict[str, str]]) -> Any:
    item = {"type": "function", "name": "distribute", "inputs": inputs, "outputs": [], "stateMutability": "nonpayable"}
    return SimpleNamespace(contract=Web3().eth.contract(address=ZERO, abi=[item])), item


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ([{"name": "licenceId", "type": "uint256"}], [7]),
        (
            [{"name": "licenceId", "type": "uint256"}, {"name": "payees", "type": "address[]"}],
            [7, [a for a, _ in TERMS_PAYEES]],
        ),
        (
            [
                {"name": "licenceId", "type": "uint256"},
                {"name": "payees", "type": "address[]"},
                {"name": "sharesBps", "type": "uint16[]"},
            ],
            [7, [a for a, _ in TERMS_PAYEES], [s for _, s in TERMS_PAYEES]],
        ),
    ],
)
def test_distribute_is_called_with_what_its_abi_asks_for(inputs: list[dict[str, str]], expected: list[Any]) -> None:
    ledger, item = _ledger_with(inputs)
    terms = SimpleNamespace(payees=[Payee(a, s) for a, s in TERMS_PAYEES])
    assert lifetime.distribute_abi(ledger) == item
    fn = lifetime.distribute_fn(ledger, item, 7, terms)  # type: ignore[arg-type]
    assert list(fn.args) == expected


def test_a_distribute_the_bench_cannot_fill_is_an_error_not_a_guess() -> None:
    ledger, item = _ledger_with([{"name": "licenceId", "type": "uint256"}, {"name": "deadline", "type": "uint64"}])
    with pytest.raises(RuntimeError, match="uint64 deadline"):
        lifetime.distribute_fn(ledger, item, 7, SimpleNamespace(payees=[]))  # type: ignore[arg-type]


def test_without_distribute_in_the_abi_the_bench_withdraws() -> None:
    ledger = SimpleNamespace(contract=SimpleNamespace(abi=[{"type": "function", "name": "withdraw", "inputs": []}]))
    assert lifetime.distribute_abi(ledger) is None  # type: ignore[arg-type]
