"""The Python mirrors of the contracts' enums and structs match the Solidity declarations."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import pytest
from eth_utils import to_checksum_address

from royalty_chain.codes import Scope
from royalty_chain.models import Kind, Settlement, SettlementContext, State, Status
from royalty_chain.terms import Calendar

INTERFACES = Path(__file__).resolve().parents[3] / "contracts" / "interfaces"


def _solidity_enum(file: str, name: str) -> list[str]:
    source = (INTERFACES / file).read_text()
    match = re.search(r"enum\s+" + name + r"\s*\{([^}]*)\}", source)
    assert match is not None, f"enum {name} not found in {file}"
    return [member.strip() for member in match.group(1).split(",") if member.strip()]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@pytest.mark.parametrize(
    ("mirror", "file", "name"),
    [
        (Status, "ILicenceRegistry.sol", "Status"),
        (Kind, "IRoyaltyLedger.sol", "Kind"),
        (State, "IRoyaltyLedger.sol", "State"),
    ],
)
def test_enum_mirrors_have_the_contracts_members_in_order(mirror: type[IntEnum], file: str, name: str) -> None:
    assert [m.name for m in mirror] == [_snake(n) for n in _solidity_enum(file, name)]
    assert [m.value for m in mirror] == list(range(len(mirror)))


def test_labels_are_what_the_api_and_the_demo_print() -> None:
    assert [k.label for k in Kind] == [
        "none", "advance", "report", "minimum_guarantee", "interest", "adjustment", "reserve", "audit", "audit_cost"
    ]  # fmt: skip
    assert Status(2).label == "terminated"


def test_structs_from_abi_tuples() -> None:
    # The decoders (web3's and royalty_chain.abicodec) give addresses checksummed: kept as they are.
    licensor, licensee, arbiter = (to_checksum_address("0x" + c * 40) for c in "abc")
    # calendar quarters, years from 1 January, due in 45 days, 8%, a 10% reserve for 2 periods, audits above 5%,
    # sales in other currencies at ECB's period-average rates (the source a right-padded bytes16)
    calendar = (3, False, 1, 1, 45, 800, 1000, 2, 500, 1, b"ECB" + bytes(13))
    context = SettlementContext.from_abi((licensor, licensee, 1, 2, 3, 0, calendar, 2, 5, arbiter, (7, 1, 3)))
    assert context.scope == Scope(7, 1, 3) and context.threshold == 2 and context.sell_off_end == 3
    assert context.calendar == Calendar(3, False, 1, 1, 45, 800, 1000, 2, 500, 1, "ECB")
    assert context.calendar.as_abi() == calendar
    assert (context.rule().period_months, context.rule().due_days) == (3, 45)
    assert (context.licensor, context.licensee, context.arbiter) == (licensor, licensee, arbiter)
    assert context.licensor == "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa"
    settlement = Settlement.from_abi((9, 3, 2, 1, 100, 200, 300, 1, 50, 40, 30, 20))
    assert (settlement.kind, settlement.state) == (Kind.REPORT, State.PENDING)
    assert (settlement.due_at, settlement.year) == (300, 1)
    assert (settlement.royalty, settlement.due, settlement.paid, settlement.released) == (50, 40, 30, 20)
