"""Fixed contractual exchange rates end to end, on Anvil and on Ganache (docs/currencies.md): a fixed-rate
licence's report waits until both parties have agreed a table of rates (LicenceFx), says which
currency it lacks, and is signed and settled at exactly the agreed rates once they have; a table
can correct the rates of periods not settled yet, never a settled one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog
from oracle_world import USDX, fund, register, write_feed

from intake.fx import FxRule
from oracle.conversion import ConversionRecord, records_of
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain import actions
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Calendar, Term

# Calendar quarters from 2025-04-01: period 0 is 2025-Q2, period 1 2025-Q3.
APR_1_2025 = 1_743_465_600
JUL_1_2025 = APR_1_2025 + 91 * DAY
QUARTERS = Term(
    start=APR_1_2025,
    end=APR_1_2025 + 3652 * DAY,
    sell_off_days=180,
    period_seconds=0,
    calendar=Calendar(
        period_months=3, year_month=1, year_day=1, due_days=30, fx_rule=FxRule.FIXED.number, fx_source="contract"
    ),
)
US, APPAREL, RETAIL = territory_index("US"), field_index("apparel"), channel_index("retail")
EUR_108 = 1_080_000_000_000_000_000  # 1 EUR = 1.08 USD
JPY_0065 = 6_500_000_000_000_000  # 1 JPY = 0.0065 USD


@pytest.fixture(params=["anvil", "ganache"])
def node(request: pytest.FixtureRequest) -> Chain:
    chain: Chain = request.getfixturevalue("chain" if request.param == "anvil" else "ganache_chain")
    return chain


def _agree(chain: Chain, licence_id: int, effective_from: int, rates: dict[str, int]) -> int:
    deadline = int(chain.w3.eth.get_block("latest")["timestamp"]) + DAY
    return actions.agree_fixed_rates(
        chain, licence_id, effective_from, rates,
        role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline,
    )  # fmt: skip


def test_a_fixed_rate_report_waits_for_the_parties_table_and_settles_at_its_rates(node: Chain, tmp_path: Path) -> None:
    chain = node
    outbox_path = tmp_path / "outbox.sqlite"
    licence_id = register(chain, APR_1_2025, term=QUARTERS)
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            f"U-1,{licence_id},2025-04-02,US,apparel,retail,1,100.00,0,USD",
            f"E-1,{licence_id},2025-05-11,US,apparel,retail,1,123.45,0,EUR",
            f"J-1,{licence_id},2025-06-03,US,apparel,retail,2,12345,0,JPY",
            f"E-2,{licence_id},2025-07-02,US,apparel,retail,1,10.00,0,EUR",  # 2025-Q3
        ],
    )
    service = OracleService(
        chain, Outbox(outbox_path), [role("oracle1"), role("oracle2"), role("oracle3")], role("oracle_sender"),
        nil_reports=False,
    )  # fmt: skip

    # No table agreed: both periods wait, naming why.
    with structlog.testing.capture_logs() as logs:
        assert service.ingest(feed).valid == 4
        assert service.build_reports() == []
    waits = [
        (e["period"], e["currency"], e["days"], e["reason"]) for e in logs if e["event"] == "report_waits_for_rates"
    ]
    no_table = "no table of fixed rates is agreed yet: both parties sign one (POST /licences/{id}/fixed-rates)"
    assert waits == [
        (0, "EUR", ["2025-04-01..2025-06-30"], no_table),
        (0, "JPY", ["2025-04-01..2025-06-30"], no_table),
        (1, "EUR", ["2025-07-01..2025-09-30"], no_table),
    ]

    # A first table that leaves the yen out: 2025-Q3 (euros only) settles, 2025-Q2 waits for JPY.
    assert _agree(chain, licence_id, APR_1_2025, {"EUR": EUR_108}) == 0
    with structlog.testing.capture_logs() as logs:
        assert len(service.build_reports()) == 1
    waits = [(e["period"], e["currency"], e["reason"]) for e in logs if e["event"] == "report_waits_for_rates"]
    assert waits == [
        (0, "JPY", "the table of fixed rates in force at 2025-04-01 (version 0) agrees no rate of JPY"),
    ]
    (q3,) = service.send().settled
    # 10.00 EUR = 1,000 cents x 1.08 = 10.80 USD = 10,800,000 units; 10% royalty = 1,080,000.
    assert q3.buckets == [[0, US, APPAREL, RETAIL, 1, 10_800_000, 0]]
    assert records_of(q3) == [ConversionRecord(0, "EUR", 2, JUL_1_2025, EUR_108, 1_000, 0)]
    assert q3.royalty == 1_080_000

    # 2025-Q3 is settled: a table from 2025-Q2 would reprice it, so the contract refuses it ...
    with pytest.raises(ContractRevert) as refused:
        _agree(chain, licence_id, APR_1_2025, {"EUR": EUR_108, "JPY": JPY_0065})
    assert refused.value.error == "FixedRatesRepriceSettled"
    assert tuple(refused.value.args) == (APR_1_2025, 1)
    assert chain.fx.table_count(licence_id) == 1
    assert service.build_reports() == []  # 2025-Q2 still waits for its yen rate


def test_a_table_corrects_the_rates_of_unsettled_periods(node: Chain, tmp_path: Path) -> None:
    chain = node
    licence_id = register(chain, APR_1_2025, term=QUARTERS)
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            f"U-1,{licence_id},2025-04-02,US,apparel,retail,1,100.00,0,USD",
            f"E-1,{licence_id},2025-05-11,US,apparel,retail,1,123.45,0,EUR",
            f"J-1,{licence_id},2025-06-03,US,apparel,retail,2,12345,0,JPY",
        ],
    )
    service = OracleService(
        chain, Outbox(tmp_path / "outbox.sqlite"), [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"), nil_reports=False,
    )  # fmt: skip
    service.ingest(feed)
    assert _agree(chain, licence_id, APR_1_2025, {"EUR": EUR_108}) == 0
    assert service.build_reports() == []  # the yen has no rate
    # Nothing of the licence is settled: a table from its start replaces the first one.
    assert _agree(chain, licence_id, APR_1_2025, {"EUR": EUR_108, "JPY": JPY_0065}) == 1
    assert [t.rates for t in chain.fx.tables(licence_id)] == [
        {"EUR": EUR_108},
        {"EUR": EUR_108, "JPY": JPY_0065},
    ]
    assert len(service.build_reports()) == 1
    (q2,) = service.send().settled
    # EUR: 12,345 cents x 1.08 = 133.326 USD = 133,326,000 units
    # JPY: 12,345 yen x 0.0065 = 80.2425 USD = 80,242,500 units
    # bucket: 100,000,000 + 133,326,000 + 80,242,500 = 313,568,500; royalty 10% = 31,356,850
    assert q2.buckets == [[0, US, APPAREL, RETAIL, 4, 313_568_500, 0]]
    assert records_of(q2) == [
        ConversionRecord(0, "EUR", 2, APR_1_2025, EUR_108, 12_345, 0),
        ConversionRecord(0, "JPY", 0, APR_1_2025, JPY_0065, 12_345, 0),
    ]
    assert q2.royalty == 31_356_850
    converted = [
        dict(e.args) for e in chain.ledger.events("CurrencyConverted", from_block=0)
        if int(e.args["settlementId"]) == q2.settlement_id
    ]  # fmt: skip
    assert [(e["currency"], e["rate"], e["convertedGross"]) for e in converted] == [
        ("0x" + b"EUR".hex(), EUR_108, 133_326_000),
        ("0x" + b"JPY".hex(), JPY_0065, 80_242_500),
    ]
