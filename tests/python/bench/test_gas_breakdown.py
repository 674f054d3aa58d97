"""The bench's gas breakdown (bench/gas.py ``gas_breakdown``) and the line profiler's source maps
(bench/gas_lines.py ``pc_sources``): the breakdown of a real steady settlement on Anvil accounts
for every unit of the receipt's gasUsed in both of its views, and a source map decodes to the
instructions it names.

Like every bench test it measures and never judges gas: no gas figure is asserted beyond what the
EVM fixes (the 21,000 base, ecrecover's 3,000)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import gas
from bench.chainkit import BenchChain, day_start, start_bench_chain
from bench.gas_lines import pc_sources
from royalty_chain.terms import DAY


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchChain]:
    chain = start_bench_chain(tmp_path_factory.mktemp("gas-breakdown"), steps_tracing=True)
    gas.warm_up(chain, day_start(chain.now() - 40 * DAY))
    yield chain
    chain.stop()


def test_both_views_of_a_steady_settlement_add_up_to_its_receipt(bench: BenchChain) -> None:
    tables = gas.steady_settlement(bench)
    (by_operation,) = [parts for name, parts in tables.items() if not name.startswith("by contract")]
    (by_contract,) = [parts for name, parts in tables.items() if name.startswith("by contract")]
    used = sum(by_operation.values())
    assert used == sum(by_contract.values())
    assert by_operation["intrinsic + calldata"] == by_contract["intrinsic + calldata"] > 21_000
    # One signature: one ecrecover, 3,000 for the precompile and 100 for its (warm) address.
    assert by_operation["ecrecover (precompile)"] == by_contract["ecrecover (precompile)"] == 3_100
    assert by_operation["refund"] == by_contract["refund"]
    assert {"RoyaltyLedger", "LicenceRegistry", "a ledger module (delegatecall)"} <= set(by_contract)
    # A steady report writes its settlement record in a fresh slot and updates others.
    assert by_operation["storage writes, new slots (0 to non-zero: 20,000, 22,100 cold)"] % 20_000 in (0, 2_100)
    assert by_operation["storage writes, changed slots (2,900, 5,000 cold)"] > 0


def test_a_source_map_names_each_instruction_not_each_byte() -> None:
    # PUSH1 0x80, PUSH2 0x0102, ADD, STOP: instructions at pcs 0, 2, 5 and 6.
    bytecode = "0x" + "6080" + "610102" + "01" + "00"
    # Entries s:l:f:j, each field left empty repeating the one before.
    mapped = pc_sources(bytecode, "10:5:0:-;20;;30:2:1")
    assert mapped == {0: (10, 0), 2: (20, 0), 5: (20, 0), 6: (30, 1)}
