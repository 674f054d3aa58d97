"""Lines are checked against their licence: term, currency, decimals, scope, duplicate ids."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from oracle_testkit import (
    LICENSEE,
    PERIOD,
    TERM_START,
    TODAY,
    csv_feed,
    csv_line,
    licence,
    line_leaf,
    parse_csv_bytes,
)

from intake.errors import LicenceInfoError
from intake.feed import Rejection, SaleLine, parse_feed
from intake.validate import (
    InMemorySeenLines,
    LicenceInfo,
    Validator,
    ValidLine,
    validate,
)
from royalty_chain.terms import Calendar

DAY = 86400
JAN_5 = TERM_START + 4 * DAY


def run(*lines: str, decimals: int = 6, **licences: LicenceInfo) -> tuple[list, Validator]:
    """Parse and validate CSV lines against licence 1 (and any ``licences`` given by id)."""
    known = {1: licence(), **{int(k.removeprefix("l")): v for k, v in licences.items()}}
    validator = Validator(known, InMemorySeenLines())
    items = parse_csv_bytes(csv_feed(*lines), decimals=decimals)
    return list(validate(items, validator)), validator


def test_good_line_gets_its_period_leaf_and_scope() -> None:
    [line], validator = run(csv_line())

    assert line == ValidLine(
        line_number=2,
        line_id="INV-1",
        licence_id=1,
        period=0,
        year=0,
        sale_day=JAN_5,
        territory=232,
        field=10,
        channel=1,
        units=2,
        gross=199_980_000,
        deductions=0,
        leaf=line_leaf("INV-1", 1, 0, JAN_5, 232, 10, 1, 2, 199_980_000, 0),
        in_scope=True,
    )
    assert validator.stats.valid == 1


def test_period_counts_from_the_term_start() -> None:
    # 90-day periods from 2025-01-01: 2025-03-31 is day 89 (period 0), 2025-04-01 day 90.
    lines, _ = run(
        csv_line(line_id="A", sale_date="2025-03-31"),
        csv_line(line_id="B", sale_date="2025-04-01"),
        csv_line(line_id="C", sale_date="2025-06-30"),
    )

    assert [x.period for x in lines] == [0, 1, 2]


# Calendar quarters from a start on 2025-02-10 (1739145600), contract years from 1 January.
FEB_10 = 1_739_145_600
QUARTERS = Calendar(period_months=3, year_month=1, year_day=1)


def test_calendar_quarters_put_the_last_of_march_and_the_first_of_april_in_q1_and_q2() -> None:
    quarterly = licence(term_start=FEB_10, term_end=FEB_10 + 730 * DAY, period_seconds=0, calendar=QUARTERS)
    validator = Validator({1: quarterly}, InMemorySeenLines())
    items = list(
        validate(
            parse_csv_bytes(
                csv_feed(
                    csv_line(line_id="A", sale_date="2025-02-10"),  # the start day: period 0
                    csv_line(line_id="B", sale_date="2025-03-31"),
                    csv_line(line_id="C", sale_date="2025-04-01"),
                    csv_line(line_id="D", sale_date="2025-02-09"),  # the day before the start
                ),
                today=date(2025, 6, 30),
            ),
            validator,
        )
    )

    # Period 0 is 2025-Q1 cut at the start, 2025-02-10..2025-03-31; period 1 is 2025-Q2 from
    # 2025-04-01 (1743465600 = 1739145600 + 50 days); all of them in contract year 0 (2025).
    rule = quarterly.rule
    assert [(x.line_id, x.period, x.year, x.sale_day) for x in items[:3]] == [
        ("A", 0, 0, FEB_10),
        ("B", 0, 0, FEB_10 + 49 * DAY),
        ("C", 1, 0, FEB_10 + 50 * DAY),
    ]
    assert [rule.period_name(x.period) for x in items[:3]] == ["2025-Q1", "2025-Q1", "2025-Q2"]
    assert rule.period_bounds(0) == (FEB_10, 1_743_465_600)
    assert items[3] == Rejection(
        5, "sale_date", "2025-02-09", "is before the licence term starts (2025-02-10T00:00:00Z)"
    )
    # The leaf has no year: the one of a fixed-period line with the same period and sale day.
    assert items[1].leaf == line_leaf("B", 1, 0, FEB_10 + 49 * DAY, 232, 10, 1, 2, 199_980_000, 0)


def test_a_line_gets_the_contract_year_of_its_sale_day() -> None:
    # Calendar quarters from 2025-02-10 with contract years from 1 January: 2025-12-31 is in
    # year 0 (period 3, 2025-Q4), 2026-01-01 in year 1 (period 4, 2026-Q1).
    quarterly = licence(term_start=FEB_10, term_end=FEB_10 + 730 * DAY, period_seconds=0, calendar=QUARTERS)
    validator = Validator({1: quarterly}, InMemorySeenLines())
    feed = csv_feed(csv_line(line_id="A", sale_date="2025-12-31"), csv_line(line_id="B", sale_date="2026-01-01"))
    items = list(validate(parse_csv_bytes(feed, today=date(2026, 6, 30)), validator))

    assert [(x.period, x.year) for x in items] == [(3, 0), (4, 1)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            csv_line(licence_id="2"),
            Rejection(2, "licence_id", "2", "is not a known licence"),
        ),
        (
            csv_line(currency="EUR"),
            Rejection(
                2,
                "currency",
                "EUR",
                "is not the licence's currency USD, and the licence's terms convert nothing (its conversion rule "
                "is none)",
            ),
        ),
        (
            csv_line(sale_date="2024-12-31"),
            Rejection(
                2,
                "sale_date",
                "2024-12-31",
                "is before the licence term starts (2025-01-01T00:00:00Z)",
            ),
        ),
    ],
    ids=["unknown-licence", "wrong-currency", "before-term"],
)
def test_line_that_cannot_belong_to_the_licence_is_rejected(line: str, expected: Rejection) -> None:
    items, validator = run(line)

    assert items == [expected]
    assert validator.stats.rejected == 1


def test_sell_off_period_follows_the_end_of_the_term() -> None:
    # Term ends 2025-03-01; 10 sell-off days: 2025-03-10 is the last day that still counts.
    short = licence(term_end=TERM_START + 59 * DAY, sell_off_days=10)
    validator = Validator({1: short}, InMemorySeenLines())
    items = list(
        validate(
            parse_csv_bytes(
                csv_feed(
                    csv_line(line_id="A", sale_date="2025-03-10"),
                    csv_line(line_id="B", sale_date="2025-03-11"),
                )
            ),
            validator,
        )
    )

    assert isinstance(items[0], ValidLine)
    assert items[1] == Rejection(
        3,
        "sale_date",
        "2025-03-11",
        "is on or after the end of the licence's term and sell-off period (2025-03-11T00:00:00Z)",
    )


def test_early_termination_moves_the_end_and_the_sell_off_with_it() -> None:
    terminated = licence(terminated_at=TERM_START + 31 * DAY, sell_off_days=0)  # 2025-02-01

    assert terminated.effective_end == TERM_START + 31 * DAY
    assert terminated.sell_off_end == TERM_START + 31 * DAY
    validator = Validator({1: terminated}, InMemorySeenLines())
    items = list(
        validate(
            parse_csv_bytes(
                csv_feed(
                    csv_line(line_id="A", sale_date="2025-01-31"),
                    csv_line(line_id="B", sale_date="2025-02-01"),
                )
            ),
            validator,
        )
    )
    assert isinstance(items[0], ValidLine)
    assert isinstance(items[1], Rejection) and items[1].field == "sale_date"


def test_termination_after_the_term_end_changes_nothing() -> None:
    late = licence(terminated_at=licence().term_end + 100 * DAY)

    assert late.effective_end == licence().term_end


def test_amount_finer_than_the_licence_token_is_rejected_after_parsing_at_18_decimals() -> None:
    items, _ = run(csv_line(gross="0.0000001"), decimals=18)

    assert items == [Rejection(2, "gross", "0.0000001", "has 7 decimals; at most 6 allowed")]


def test_amounts_parsed_at_18_decimals_are_rescaled_to_the_token() -> None:
    items, _ = run(csv_line(gross="1234.5", deductions="0.25"), decimals=18)

    assert (items[0].gross, items[0].deductions) == (1_234_500_000, 250_000)


def test_amounts_are_rescaled_per_licence_token() -> None:
    two_decimals = licence(licence_id=2, decimals=2, licensee="0x" + "bb" * 20)
    items, _ = run(
        csv_line(line_id="A", gross="12.34"),
        csv_line(line_id="B", licence_id="2", gross="12.34"),
        csv_line(line_id="C", licence_id="2", deductions="0.001"),
        l2=two_decimals,
    )

    assert [x.gross for x in items[:2]] == [12_340_000, 1_234]
    assert items[2] == Rejection(4, "deductions", "0.001", "has 3 decimals; at most 2 allowed")


def test_sale_outside_the_scope_is_reported_not_rejected() -> None:
    items, validator = run(
        csv_line(line_id="A", territory="IT"),  # Italy is not licensed
        csv_line(line_id="B", field="games"),
        csv_line(line_id="C", channel="oem"),
        csv_line(line_id="D"),
    )

    assert [(x.line_id, x.in_scope) for x in items] == [
        ("A", False),
        ("B", False),
        ("C", False),
        ("D", True),
    ]
    assert (validator.stats.valid, validator.stats.out_of_scope) == (4, 3)


def test_identical_repeat_of_a_line_is_a_duplicate_not_an_error() -> None:
    items, validator = run(csv_line(), csv_line(), csv_line(line_id="INV-2"))

    assert [x.line_number for x in items] == [2, 4]
    assert validator.stats.duplicates == 1
    assert validator.stats.rejected == 0


def test_same_id_with_different_content_is_rejected_naming_the_first_leaf() -> None:
    items, validator = run(csv_line(), csv_line(gross="199.99"))

    first = items[0]
    assert isinstance(first, ValidLine)
    assert items[1] == Rejection(
        3,
        "line_id",
        "INV-1",
        f"was seen before with different content (first leaf 0x{first.leaf.hex()})",
    )
    assert validator.stats.rejected == 1


def test_line_ids_are_unique_per_licensee_whatever_the_address_case() -> None:
    same_licensee = licence(licence_id=2, licensee=LICENSEE.upper().replace("0X", "0x"))
    other_licensee = licence(licence_id=3, licensee="0x" + "cc" * 20)
    items, _ = run(
        csv_line(),
        csv_line(licence_id="2"),  # same id, same licensee, another licence: other content
        csv_line(licence_id="3"),  # same id at another licensee: its own namespace
        l2=same_licensee,
        l3=other_licensee,
    )

    assert isinstance(items[0], ValidLine)
    assert isinstance(items[1], Rejection) and items[1].field == "line_id"
    assert isinstance(items[2], ValidLine)


def test_seen_lines_survive_across_feeds() -> None:
    seen = InMemorySeenLines()
    feed = parse_csv_bytes(csv_feed(csv_line(), csv_line(line_id="INV-2")))

    first = list(validate(feed, Validator({1: licence()}, seen)))
    again = Validator({1: licence()}, seen)
    second = list(validate(feed, again))

    assert len(first) == 2 and second == []
    assert again.stats.duplicates == 2
    assert len(seen) == 2


def test_parser_rejections_pass_through_and_are_counted() -> None:
    items, validator = run(csv_line(units="-1"), csv_line(line_id="INV-2"))

    reason = "is negative but gross is not: a return has units, gross and deductions of zero or less"
    assert items[0] == Rejection(2, "units", "-1", reason)
    assert validator.stats.rejected == 1
    assert validator.stats.valid == 1
    assert validator.stats.rejected_by_field == {"units": 1}


def test_every_input_line_is_accounted_for() -> None:
    lines = [csv_line(line_id=f"L{i}") for i in range(5)]
    lines += [csv_line(line_id="L0"), csv_line(line_id="L1", units="3"), csv_line(currency="xx")]
    items, validator = run(*lines)
    stats = validator.stats

    assert stats.valid + stats.rejected + stats.duplicates == len(lines)
    assert (stats.valid, stats.rejected, stats.duplicates) == (5, 2, 1)
    assert len(items) == stats.valid + stats.rejected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_seconds": 0}, "licence 1: period_seconds must be positive"),
        (
            {"period_seconds": 0, "calendar": Calendar(period_months=5)},
            "licence 1: calendar periods of 5 months do not divide the year",
        ),
        ({"term_end": TERM_START}, f"licence 1: term {TERM_START}..{TERM_START} is empty"),
        ({"licence_id": 0}, "licence id 0 must be positive"),
        ({"decimals": 78}, "licence 1: decimals 78 out of range"),
        ({"sell_off_days": -1}, "licence 1: sell_off_days must not be negative"),
    ],
)
def test_licence_info_refuses_terms_it_cannot_work_with(changes: dict[str, object], message: str) -> None:
    with pytest.raises(LicenceInfoError, match=message.replace(".", r"\.")):
        licence(**changes)


def test_sale_line_fields_are_immutable() -> None:
    [line] = [x for x in parse_csv_bytes(csv_feed(csv_line())) if isinstance(x, SaleLine)]

    with pytest.raises(AttributeError):
        line.gross = 0  # type: ignore[misc]
    assert PERIOD == 90 * DAY


def test_example_feed_with_errors_accounts_for_every_line() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples" / "feeds"
    validator = Validator({1: licence()}, InMemorySeenLines())
    items = list(validate(parse_feed(examples / "acme-2025q1-with-errors.jsonl", today=TODAY), validator))
    valid = [x for x in items if isinstance(x, ValidLine)]
    stats = validator.stats

    assert [(x.line_id, x.in_scope) for x in valid] == [
        ("ORD-1001", True),
        ("ORD-1002", True),
        ("ORD-1011", False),  # Italy, games: reported as a scope breach
    ]
    assert (stats.valid, stats.rejected, stats.duplicates, stats.out_of_scope) == (3, 9, 1, 1)
    last = items[-1]
    assert isinstance(last, Rejection)
    assert (last.line_number, last.field, last.value) == (13, "line_id", "ORD-1002")
