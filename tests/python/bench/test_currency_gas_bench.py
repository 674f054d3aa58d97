"""The bench's currency rows (bench/gas.py ``currency_rows``) on a real Anvil: one row per count
against the single-currency report, each report settled at its exact royalty (the section raises
otherwise), the differences equal to the receipts, and the rows rendered.

Like every bench test it measures and never judges gas: no gas figure is asserted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import report
from bench.chainkit import BenchChain, start_bench_chain
from bench.gas import currency_rows


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchChain]:
    chain = start_bench_chain(tmp_path_factory.mktemp("currency-gas"))
    yield chain
    chain.stop()


def test_rows_compare_each_count_with_the_single_currency_report(bench: BenchChain) -> None:
    rows = currency_rows(bench, counts=(1, 3))
    assert [row["currencies"] for row in rows] == [0, 1, 3]
    base = rows[0]["settle"]
    assert rows[0]["more_than_single"] == 0 and rows[0]["per_currency"] is None
    for row in rows[1:]:
        assert row["more_than_single"] == row["settle"] - base
        assert row["per_currency"] == (row["settle"] - base) / row["currencies"]
    grids = report.gas_grids({"baseline": "x (y)", "payees": [], "signers": [], "batches": [], "currencies": rows})
    (fx,) = [g for g in grids if "other currencies" in g.title]
    assert [r[0] for r in fx.rows] == ["0", "1", "3"]
