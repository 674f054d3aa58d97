"""Sales lines in other currencies than the licence's: their amounts in the currency's minor units,
their leaf that commits to the currency, and the reasons a line in another currency is refused.

Licence 1 of the testkit: USD with 6 decimals, 90-day periods from 2025-01-01; here it states a
conversion clause (period-average of ECB rates) unless a test says rule none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from oracle_testkit import TERM_START, csv_feed, csv_line, licence, line_leaf, parse_csv_bytes

from intake.errors import LicenceInfoError
from intake.feed import Rejection
from intake.fx import NO_CONVERSION, FxClause, FxRule
from intake.judge import judge
from intake.merkle import LINE_CANCEL, LINE_REPLACE, LINE_RETURN, LINE_SALE, NO_REF, keccak256, leaf_entry, leaf_foreign
from intake.twostage import validate_two_stage
from intake.validate import InMemorySeenLines, PendingLines, Validator, ValidLine, validate
from royalty_chain.codes import channel_index, field_index, territory_index

US, SOFTWARE, ONLINE = territory_index("US"), field_index("software"), channel_index("online")
DAY = 86_400
JAN_5 = TERM_START + 4 * DAY
LICENCE_WORD = (1).to_bytes(32, "big")
ECB_AVERAGE = FxClause(FxRule.PERIOD_AVERAGE, "ECB")
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,action,returns_line_id"
FOREIGN_TYPES = [
    *("uint8", "bytes32", "uint256", "uint32", "uint64", "uint8", "uint8", "uint8"),
    *["int256"] * 3,
    *("bytes32", "bytes3", "uint8"),
]


def _check(*lines: str, clause: FxClause = ECB_AVERAGE) -> list[ValidLine | Rejection]:
    validator = Validator({1: licence(fx=clause)}, InMemorySeenLines(), pending=PendingLines())
    return list(validate(parse_csv_bytes(csv_feed(*lines), decimals=18), validator))


def _judge(*rows: str, clause: FxClause = ECB_AVERAGE) -> list[ValidLine | Rejection]:
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    verdicts, _ = judge(
        ("csv", data), {1: licence(fx=clause)}, InMemorySeenLines(), None, chain_time=TERM_START + 100 * DAY
    )
    return list(verdicts)


def _row(line_id: str, units: str, gross: str, currency: str, *, action: str = "", ref: str = "") -> str:
    return f"{line_id},1,2025-01-05,US,software,online,{units},{gross},0,{currency},{action},{ref}"


def _foreign(
    kind: int, line_id: str, units: int, gross: int, deductions: int, ref: bytes, code: str, minor: int
) -> bytes:
    return leaf_foreign(kind, line_id, LICENCE_WORD, 0, JAN_5, US, SOFTWARE, ONLINE, units, gross, deductions, ref,
                        code, minor)  # fmt: skip


# ------------------------------------------------------------------ the leaf


def test_a_foreign_leaf_is_the_documented_fourteen_word_encoding() -> None:
    leaf = _foreign(LINE_SALE, "JP-1", 3, 12_345, 45, NO_REF, "JPY", 0)
    encoded = abi_encode(
        FOREIGN_TYPES,
        [LINE_SALE, keccak256(b"JP-1"), 1, 0, JAN_5, US, SOFTWARE, ONLINE, 3, 12_345, 45, NO_REF, b"JPY", 0],
    )
    # 14 words: a sale's leaf hashes 10 and an entry's 12, so no preimage can be another's
    assert len(encoded) == 14 * 32
    assert encoded[12 * 32 : 13 * 32] == b"JPY" + bytes(29)  # bytes3, left-aligned as abi.encode puts it
    assert leaf == keccak256(keccak256(encoded))


def test_the_leaf_commits_to_the_currency_and_its_exponent() -> None:
    values = (LINE_SALE, "L-1", 1, 12_345, 0, NO_REF)
    leaves = {
        "EUR 2": _foreign(*values, "EUR", 2),
        "USD 2": _foreign(*values, "USD", 2),
        "EUR 3": _foreign(*values, "EUR", 3),
        "sale": line_leaf("L-1", 1, 0, JAN_5, US, SOFTWARE, ONLINE, 1, 12_345, 0),
        "return": leaf_entry(LINE_RETURN, "L-1", LICENCE_WORD, 0, JAN_5, US, SOFTWARE, ONLINE, 1, 12_345, 0, NO_REF),
        "foreign return": _foreign(LINE_RETURN, "L-1", 1, 12_345, 0, NO_REF, "EUR", 2),
    }
    assert len(set(leaves.values())) == len(leaves)


@pytest.mark.parametrize(
    ("kind", "ref", "code", "minor", "message"),
    [
        (4, NO_REF, "EUR", 2, "kind 0..3"),
        (LINE_SALE, b"x", "EUR", 2, "a 32-byte ref"),
        (LINE_SALE, NO_REF, "EURO", 2, "3-letter code"),
        (LINE_SALE, NO_REF, "EUR", 256, "do not fit uint8"),
    ],
)
def test_a_foreign_leaf_refuses_what_it_cannot_encode(
    kind: int, ref: bytes, code: str, minor: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _foreign(kind, "L-1", 1, 1, 0, ref, code, minor)


# ------------------------------------------------------------------ amounts in minor units


def test_amounts_are_kept_in_the_minor_units_of_the_lines_currency() -> None:
    jpy, eur, kwd, usd = _check(
        csv_line(line_id="JP-1", gross="12345", deductions="45", currency="JPY"),  # yen: exponent 0
        csv_line(line_id="EU-1", gross="123.45", deductions="10.5", currency="EUR"),  # cents: 12,345 and 1,050
        csv_line(line_id="KW-1", gross="1.234", deductions="0.001", currency="KWD"),  # fils: 1,234 and 1
        csv_line(line_id="US-1", gross="199.98", currency="USD"),  # the licence's: token units, as always
    )
    assert isinstance(jpy, ValidLine) and isinstance(eur, ValidLine) and isinstance(kwd, ValidLine)
    assert (jpy.gross, jpy.deductions, jpy.currency, jpy.minor_units) == (12_345, 45, "JPY", 0)
    assert (eur.gross, eur.deductions, eur.currency, eur.minor_units) == (12_345, 1_050, "EUR", 2)
    assert (kwd.gross, kwd.deductions, kwd.currency, kwd.minor_units) == (1_234, 1, "KWD", 3)
    assert jpy.leaf == _foreign(LINE_SALE, "JP-1", 2, 12_345, 45, NO_REF, "JPY", 0)
    assert kwd.leaf == _foreign(LINE_SALE, "KW-1", 2, 1_234, 1, NO_REF, "KWD", 3)
    # A line in the licence's currency is what it always was: 199.98 USD = 199,980,000 units, the ten-word leaf.
    assert usd == ValidLine(
        5, "US-1", 1, 0, 0, JAN_5, US, SOFTWARE, ONLINE, 2, 199_980_000, 0,
        line_leaf("US-1", 1, 0, JAN_5, US, SOFTWARE, ONLINE, 2, 199_980_000, 0), True,
    )  # fmt: skip
    assert (usd.currency, usd.minor_units) == ("", 0)


def test_trailing_zeros_beyond_the_exponent_are_exact_and_accepted() -> None:
    (line,) = _check(csv_line(gross="12345.000", deductions="0.00", currency="JPY"))
    assert isinstance(line, ValidLine) and (line.gross, line.deductions) == (12_345, 0)


def test_bad_currency_lines_are_rejected_naming_field_and_reason_and_good_lines_kept() -> None:
    items = _check(
        csv_line(line_id="G-1", gross="100", currency="JPY"),
        csv_line(line_id="B-1", gross="12345.5", currency="JPY"),
        csv_line(line_id="B-2", gross="10", deductions="1.005", currency="EUR"),
        csv_line(line_id="B-3", gross="1.2345", currency="KWD"),
        csv_line(line_id="B-4", currency="XYZ"),
        csv_line(line_id="B-5", currency="XAU"),
        csv_line(line_id="G-2", gross="99.99", currency="EUR"),
        csv_line(line_id="B-6", currency="eur"),
        csv_line(line_id="G-3", gross="5", currency="USD"),
    )
    assert [(r.line_number, r.field, r.value, r.reason) for r in items if isinstance(r, Rejection)] == [
        (3, "gross", "12345.5", "has 1 decimal; at most 0 allowed in JPY (its ISO 4217 minor unit is 0)"),
        (4, "deductions", "1.005", "has 3 decimals; at most 2 allowed in EUR (its ISO 4217 minor unit is 2)"),
        (5, "gross", "1.2345", "has 4 decimals; at most 3 allowed in KWD (its ISO 4217 minor unit is 3)"),
        (6, "currency", "XYZ", "is not an active ISO 4217 currency code"),
        (
            7,
            "currency",
            "XAU",
            "is an ISO 4217 code without a minor unit (a metal, fund or unit of account): no sale is priced in it",
        ),
        (9, "currency", "eur", "is not a 3-letter uppercase currency code"),
    ]
    kept = [(v.line_id, v.gross, v.currency) for v in items if isinstance(v, ValidLine)]
    assert kept == [("G-1", 100, "JPY"), ("G-2", 9_999, "EUR"), ("G-3", 5_000_000, "")]


def test_a_licence_that_converts_nothing_still_rejects_other_currencies() -> None:
    items = _check(csv_line(line_id="E-1", currency="EUR"), csv_line(line_id="U-1"), clause=NO_CONVERSION)
    assert [(r.field, r.value, r.reason) for r in items if isinstance(r, Rejection)] == [
        (
            "currency",
            "EUR",
            "is not the licence's currency USD, and the licence's terms convert nothing (its conversion rule is none)",
        )
    ]
    assert [v.line_id for v in items if isinstance(v, ValidLine)] == ["U-1"]


def test_a_licence_paid_in_a_token_that_is_no_iso_currency_cannot_convert() -> None:
    validator = Validator({1: licence(currency="USDX", fx=ECB_AVERAGE)}, InMemorySeenLines())
    (item,) = validate(parse_csv_bytes(csv_feed(csv_line(currency="EUR")), decimals=18), validator)
    assert item == Rejection(
        2,
        "currency",
        "EUR",
        "cannot be converted into the licence's currency USDX, which is not an ISO 4217 currency: no published "
        "rate prices it",
    )


def test_a_licence_takes_its_clause_from_the_calendar_seam_by_default() -> None:
    assert licence().fx == NO_CONVERSION  # intake.fx.fx_clause: no calendar carries a clause yet
    assert licence(fx=ECB_AVERAGE).clause is ECB_AVERAGE


@pytest.mark.parametrize(
    ("rule", "source", "message"),
    [
        ("none", "ECB", "none names no source"),
        ("period-end", "", "is empty"),
        ("sale-date", "A" * 17, "longer than 16 characters"),
        ("sale-date", "E C B", "printable ASCII without spaces"),
        ("monthly", "ECB", "not a valid FxRule"),
    ],
)
def test_a_clause_the_design_does_not_allow_is_refused(rule: str, source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FxClause(rule, source)  # type: ignore[arg-type]


def test_a_licence_with_a_clause_it_cannot_have_is_no_licence_info(monkeypatch: pytest.MonkeyPatch) -> None:
    def sourced_none(calendar: object) -> FxClause:
        return FxClause(FxRule.NONE, "ECB")

    monkeypatch.setattr("intake.validate.fx_clause", sourced_none)
    with pytest.raises(LicenceInfoError, match="licence 1: conversion rule none names no source, not 'ECB'"):
        licence()


# ------------------------------------------------------------------ returns, cancels, replaces


def test_a_cancel_takes_the_currency_of_the_line_it_cancels() -> None:
    sale, cancel = _judge(_row("S-1", "2", "123.45", "EUR"), "S-1,1,,,,,,,,,cancel,")
    assert isinstance(sale, ValidLine) and isinstance(cancel, ValidLine)
    assert (cancel.kind, cancel.revision, cancel.gross, cancel.currency, cancel.minor_units) == (
        LINE_CANCEL, 1, 12_345, "EUR", 2,
    )  # fmt: skip
    assert cancel.leaf == _foreign(LINE_CANCEL, "S-1", 2, 12_345, 0, sale.leaf, "EUR", 2)


def test_a_replace_may_change_the_currency_and_takes_away_the_old_one() -> None:
    sale, replace = _judge(
        _row("S-1", "2", "123.45", "EUR"),
        _row("S-1", "2", "12345", "JPY", action="replace"),
        _row("S-1", "2", "12345", "JPY", action="replace"),  # the values it has now: a duplicate, not yielded
    )
    assert isinstance(sale, ValidLine) and isinstance(replace, ValidLine)
    assert (replace.kind, replace.gross, replace.currency, replace.minor_units) == (LINE_REPLACE, 12_345, "JPY", 0)
    assert replace.previous == (0, US, SOFTWARE, ONLINE, 2, 12_345, 0, JAN_5, "EUR", 2)
    assert replace.leaf == _foreign(LINE_REPLACE, "S-1", 2, 12_345, 0, sale.leaf, "JPY", 0)
    # The same numbers in the licence's currency are another line: not a duplicate.
    items = _judge(_row("S-2", "1", "100", "EUR"), _row("S-2", "1", "100", "USD", action="replace"))
    assert [(v.kind, v.gross, v.currency) for v in items if isinstance(v, ValidLine)] == [
        (LINE_SALE, 10_000, "EUR"),
        (LINE_REPLACE, 100_000_000, ""),
    ]


def test_a_return_of_a_sale_is_in_the_sales_currency() -> None:
    items = _judge(
        _row("S-1", "2", "123.45", "EUR"),
        _row("R-1", "-1", "-23.45", "USD", ref="S-1"),
        _row("R-2", "-1", "-123.46", "EUR", ref="S-1"),
        _row("R-3", "-1", "-23.45", "EUR", ref="S-1"),
        _row("R-4", "-1", "-5", "JPY"),  # a credit note naming no sale: in any currency the clause converts
    )
    assert [(r.line_number, r.field, r.reason) for r in items if isinstance(r, Rejection)] == [
        (3, "returns_line_id", "is line S-1, sold in EUR: a return of it is in EUR too, not in USD"),
        (4, "gross", "returns 123.46 of gross of line S-1, which sold 123.45"),
    ]
    r3, r4 = (v for v in items if isinstance(v, ValidLine) and v.kind == LINE_RETURN)
    assert (r3.gross, r3.currency, r4.gross, r4.currency) == (-2_345, "EUR", -5, "JPY")
    assert r3.leaf == _foreign(LINE_RETURN, "R-3", -1, -2_345, 0, keccak256(b"S-1"), "EUR", 2)


def test_the_two_stage_intake_judges_foreign_lines_as_the_one_stage(tmp_path: Path) -> None:
    rows = [_row("S-1", "2", "123.45", "EUR"), _row("S-2", "1", "12345.5", "JPY"), _row("S-3", "1", "7", "KWD")]
    path = tmp_path / "feed.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    one = _judge(*rows)
    validator = Validator({1: licence(fx=ECB_AVERAGE)}, InMemorySeenLines(), pending=PendingLines())
    two = list(validate_two_stage(path, validator, today=None))
    assert two == one
    assert [(v.gross, v.currency) for v in two if isinstance(v, ValidLine)] == [(12_345, "EUR"), (7_000, "KWD")]
