"""The oracle's direct eth_abi codecs and event decoder give exactly what web3's contract objects give."""

from __future__ import annotations

import time

import pytest
from web3.logs import DISCARD

from royalty_chain.actions import register_licence, report_digest, sign_report
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.codes import channel_index, encode_scope, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.models import SettlementContext
from royalty_chain.terms import DAY, Bucket, Payee, Report, Schedule, Term, Terms

USDX = 10**6


def _licence(chain: Chain, start: int) -> int:
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    terms = Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x05" * 32,
        asset_ids=(3,),
        scope=encode_scope(["US", "GB"], ["apparel"], ["retail"]),
        term=Term(start=start, end=start + 365 * DAY, sell_off_days=90, period_seconds=30 * DAY),
        token=chain.manifest.token("USDX").address,
        schedule=Schedule(rate_bps=500),
        payees=(Payee(role("licensor_brand").address, 10_000),),
        oracles=(role("oracle1").address, role("oracle2").address),
        threshold=2,
        arbiter=role("arbiter").address,
        salt=time.time_ns().to_bytes(32, "big"),
    )
    return register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )


def _report(licence_id: int, deadline: int) -> Report:
    return Report(
        licence_id,
        0,
        1,
        deadline,
        b"\x07" * 32,
        3,
        (
            Bucket(
                0, territory_index("US"), field_index("apparel"), channel_index("retail"), 2, 1_234 * USDX, 34 * USDX
            ),
            Bucket(0, territory_index("GB"), field_index("apparel"), channel_index("retail"), 1, 99 * USDX, 0),
        ),
    )


def test_settle_calldata_is_byte_for_byte_web3s(chain: Chain) -> None:
    report = _report(1, 2**40)
    signatures = [[b"\x01" * 65, b"\x02" * 65], [b"\x03" * 65]]
    reports = [report, report]
    codec = chain.codecs["RoyaltyLedger"].fn("settleReports")
    ours = codec.encode([r.as_abi() for r in reports], signatures)
    theirs = chain.ledger.settle_fn(reports, signatures)._encode_transaction_data()
    assert "0x" + ours.hex() == theirs
    assert codec.selector.hex() == theirs[2:10]


def test_unknown_function_names_say_so(chain: Chain) -> None:
    with pytest.raises(KeyError, match="the ABI has no function settle"):
        chain.codecs["RoyaltyLedger"].fn("settle")
    with pytest.raises(TypeError, match="lastSequence takes 1 arguments, got 2"):
        chain.codecs["RoyaltyLedger"].fn("lastSequence").encode(1, 2)


@pytest.mark.parametrize("chain_name", ["chain", "ganache_chain"])
def test_batched_calls_equal_web3_calls_and_revert_decoded(chain_name: str, request: pytest.FixtureRequest) -> None:
    chain: Chain = request.getfixturevalue(chain_name)
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    licence_id = _licence(chain, now - 40 * DAY)
    registry, ledger = chain.codecs["LicenceRegistry"], chain.codecs["RoyaltyLedger"]
    oracle1, stranger = role("oracle1").address, role("arbiter").address
    answers = chain.call_many(
        [
            (chain.registry.address, registry.fn("settlementContext"), (licence_id,)),
            (chain.registry.address, registry.fn("isOracle"), (licence_id, oracle1)),
            (chain.registry.address, registry.fn("isOracle"), (licence_id, stranger)),
            (chain.ledger.address, ledger.fn("lastSequence"), (licence_id,)),
            (chain.registry.address, registry.fn("parties"), (licence_id,)),
        ]
    )
    # web3's own decoding, behind the typed client, gives the same context.
    assert SettlementContext.from_abi(answers[0]) == chain.registry.settlement_context(licence_id)
    assert answers[0][0] == role("licensor_brand").address  # checksummed, as web3 gives it
    assert answers[1:3] == [True, False]
    assert answers[3] == 0
    assert answers[4] == (role("licensor_brand").address, role("licensee_apparel").address)

    with pytest.raises(ContractRevert) as refused:
        chain.call_many([(chain.registry.address, registry.fn("settlementContext"), (10**9,))])
    assert (refused.value.error, refused.value.args) == ("UnknownLicence", (10**9,))


def test_settled_event_decodes_like_web3(chain: Chain) -> None:
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    licence_id = _licence(chain, now - 40 * DAY)
    licensee = role("licensee_apparel")
    token = chain.token(chain.manifest.token("USDX").address)
    token.mint(licensee.address, 100 * USDX, licensee)
    token.approve(chain.ledger.address, 100 * USDX, licensee)
    chain.ledger.deposit(licence_id, 100 * USDX, licensee)
    report = _report(licence_id, now + DAY)
    signatures = sign_report(
        report_digest(chain, report), sorted([role("oracle1"), role("oracle2")], key=lambda a: int(a.address, 16))
    )
    receipt = chain.transact(chain.ledger.settle_fn([report], [signatures]), role("oracle_sender"))

    (expected,) = chain.ledger.contract.events.Settled().process_receipt(receipt, errors=DISCARD)  # type: ignore[arg-type]
    topic = bytes.fromhex(chain.events.topic("Settled")[2:])
    (entry,) = [e for e in receipt["logs"] if bytes(e["topics"][0]) == topic]  # type: ignore[index]
    decoded = chain.events.decode(entry)
    assert decoded is not None and decoded.name == "Settled"
    assert decoded.args == dict(expected["args"])
    # 5% of the net (1,234 - 34 + 99 USDX) = 64.95 USDX
    assert decoded.args["royalty"] == 64_950_000 and decoded.args["licenceId"] == licence_id
