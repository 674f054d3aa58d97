"""royalty_chain.calendar mirrors CivilDate.sol and LicenceCalendar.sol.

PERIOD_EXAMPLES and YEAR_EXAMPLES are the same rows as ``_periodExamples`` and ``_yearExamples``
in tests/foundry/Calendar.t.sol, so both sides are held to one table. Times are written as UTC
dates and converted here with ``datetime`` (independent of the module under test).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from royalty_chain.calendar import (
    DAY,
    LicenceCalendar,
    add_months,
    civil_from_days,
    date_of,
    days_from_civil,
    days_in_month,
    is_valid,
    parse_date,
    parse_period_rule,
    parse_year_start,
    timestamp_of,
)

EPOCH = date(1970, 1, 1)


def ts(text: str) -> int:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM`` in UTC -> unix seconds."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp())


def cal(start: str, period_months: int = 0, anniversary: bool = False, year: tuple[int, int] = (0, 0), **kw: int):
    return LicenceCalendar(
        start=ts(start),
        period_seconds=kw.pop("period_seconds", 0),
        period_months=period_months,
        anniversary=anniversary,
        year_month=year[0],
        year_day=year[1],
        **kw,
    )


class PeriodExample(NamedTuple):
    label: str
    calendar: LicenceCalendar
    period: int
    start: str
    end: str


class YearExample(NamedTuple):
    label: str
    calendar: LicenceCalendar
    year: int
    start: str
    end: str
    full_days: int


QUARTERS = cal("2025-02-10", 3)
MONTHS = cal("2024-02-15 09:30", 1)
HALVES = cal("2025-08-20", 6)
YEARS = cal("2025-03-01", 12)
TWO_MONTHS = cal("2025-02-10", 2)
FOUR_MONTHS = cal("2025-02-10", 4)
ANNIVERSARY_QUARTERS = cal("2025-01-31", 3, anniversary=True)
ANNIVERSARY_MONTHS = cal("2024-01-31", 1, anniversary=True)
ANNIVERSARY_MONTHS_1500 = cal("2025-01-31 15:00", 1, anniversary=True)
ANNIVERSARY_18 = cal("2024-08-31", 18, anniversary=True)
DAYS_90 = cal("2023-11-15", period_seconds=90 * DAY)

# Same rows as _periodExamples() in tests/foundry/Calendar.t.sol.
PERIOD_EXAMPLES = [
    PeriodExample("quarters p0", QUARTERS, 0, "2025-02-10", "2025-04-01"),
    PeriodExample("quarters p1", QUARTERS, 1, "2025-04-01", "2025-07-01"),
    PeriodExample("quarters p3", QUARTERS, 3, "2025-10-01", "2026-01-01"),
    PeriodExample("quarters p4", QUARTERS, 4, "2026-01-01", "2026-04-01"),
    PeriodExample("months p0", MONTHS, 0, "2024-02-15 09:30", "2024-03-01"),
    PeriodExample("months p1", MONTHS, 1, "2024-03-01", "2024-04-01"),
    PeriodExample("months p11", MONTHS, 11, "2025-01-01", "2025-02-01"),
    PeriodExample("halves p0", HALVES, 0, "2025-08-20", "2026-01-01"),
    PeriodExample("halves p1", HALVES, 1, "2026-01-01", "2026-07-01"),
    PeriodExample("years p0", YEARS, 0, "2025-03-01", "2026-01-01"),
    PeriodExample("years p1", YEARS, 1, "2026-01-01", "2027-01-01"),
    PeriodExample("2 months p0", TWO_MONTHS, 0, "2025-02-10", "2025-03-01"),
    PeriodExample("2 months p1", TWO_MONTHS, 1, "2025-03-01", "2025-05-01"),
    PeriodExample("4 months p0", FOUR_MONTHS, 0, "2025-02-10", "2025-05-01"),
    PeriodExample("4 months p2", FOUR_MONTHS, 2, "2025-09-01", "2026-01-01"),
    PeriodExample("anniversary quarters p0", ANNIVERSARY_QUARTERS, 0, "2025-01-31", "2025-04-30"),
    PeriodExample("anniversary quarters p1", ANNIVERSARY_QUARTERS, 1, "2025-04-30", "2025-07-31"),
    PeriodExample("anniversary quarters p3", ANNIVERSARY_QUARTERS, 3, "2025-10-31", "2026-01-31"),
    PeriodExample("anniversary quarters p4", ANNIVERSARY_QUARTERS, 4, "2026-01-31", "2026-04-30"),
    PeriodExample("anniversary months p1", ANNIVERSARY_MONTHS, 1, "2024-02-29", "2024-03-31"),
    PeriodExample("anniversary months p12", ANNIVERSARY_MONTHS, 12, "2025-01-31", "2025-02-28"),
    PeriodExample("anniversary months p24", ANNIVERSARY_MONTHS, 24, "2026-01-31", "2026-02-28"),
    PeriodExample("anniversary months at 15:00 p0", ANNIVERSARY_MONTHS_1500, 0, "2025-01-31 15:00", "2025-02-28"),
    PeriodExample("anniversary 18 months p0", ANNIVERSARY_18, 0, "2024-08-31", "2026-02-28"),
    PeriodExample("anniversary 18 months p1", ANNIVERSARY_18, 1, "2026-02-28", "2027-08-31"),
    PeriodExample("90 days p0", DAYS_90, 0, "2023-11-15", "2024-02-13"),
    PeriodExample("90 days p3", DAYS_90, 3, "2024-08-11", "2024-11-09"),
]

FROM_START_1345 = cal("2025-02-10 13:45", 3)
CALENDAR_YEARS = cal("2025-02-10", 3, year=(1, 1))
FROM_29_FEB = cal("2025-06-01", 3, year=(2, 29))
START_29_FEB = cal("2024-02-29 10:00", 1, anniversary=True)
FROM_07_01 = cal("2025-07-01", period_seconds=90 * DAY, year=(7, 1))
FROM_04_06 = cal("2025-02-10", 3, year=(4, 6))
FROM_04_06_2024 = cal("2024-02-10", 3, year=(4, 6))

# Same rows as _yearExamples() in tests/foundry/Calendar.t.sol.
YEAR_EXAMPLES = [
    YearExample("start 13:45 y0", FROM_START_1345, 0, "2025-02-10 13:45", "2026-02-10 13:45", 365),
    YearExample("start 13:45 y2", FROM_START_1345, 2, "2027-02-10 13:45", "2028-02-10 13:45", 365),
    YearExample("start 13:45 y3", FROM_START_1345, 3, "2028-02-10 13:45", "2029-02-10 13:45", 366),
    YearExample("calendar y0", CALENDAR_YEARS, 0, "2025-02-10", "2026-01-01", 365),
    YearExample("calendar y1", CALENDAR_YEARS, 1, "2026-01-01", "2027-01-01", 365),
    YearExample("calendar y3", CALENDAR_YEARS, 3, "2028-01-01", "2029-01-01", 366),
    YearExample("29 Feb y0", FROM_29_FEB, 0, "2025-06-01", "2026-02-28", 365),
    YearExample("29 Feb y1", FROM_29_FEB, 1, "2026-02-28", "2027-02-28", 365),
    YearExample("29 Feb y2", FROM_29_FEB, 2, "2027-02-28", "2028-02-29", 366),
    YearExample("29 Feb y3", FROM_29_FEB, 3, "2028-02-29", "2029-02-28", 365),
    YearExample("from 29 Feb y0", START_29_FEB, 0, "2024-02-29 10:00", "2025-02-28 10:00", 365),
    YearExample("from 29 Feb y3", START_29_FEB, 3, "2027-02-28 10:00", "2028-02-29 10:00", 366),
    YearExample("from 29 Feb y4", START_29_FEB, 4, "2028-02-29 10:00", "2029-02-28 10:00", 365),
    YearExample("07-01 y0", FROM_07_01, 0, "2025-07-01", "2026-07-01", 365),
    YearExample("07-01 y2", FROM_07_01, 2, "2027-07-01", "2028-07-01", 366),
    YearExample("04-06 y0", FROM_04_06, 0, "2025-02-10", "2025-04-06", 365),
    YearExample("04-06 y1", FROM_04_06, 1, "2025-04-06", "2026-04-06", 365),
    YearExample("04-06 from 2024 y0", FROM_04_06_2024, 0, "2024-02-10", "2024-04-06", 366),
]


# ---------------------------------------------------------------------------------- civil dates


def test_civil_every_day_1970_to_2200_matches_datetime() -> None:
    base = EPOCH.toordinal()
    last = (date(2200, 12, 31) - EPOCH).days
    assert last == 84_370
    for n in range(last + 1):
        expected = date.fromordinal(base + n)
        ymd = (expected.year, expected.month, expected.day)
        assert civil_from_days(n) == ymd, n
        assert days_from_civil(*ymd) == n, ymd


def test_known_timestamps() -> None:
    assert timestamp_of(1970, 1, 1) == 0
    assert timestamp_of(2000, 3, 1) == 951_868_800
    assert timestamp_of(2023, 11, 15) == 1_700_006_400
    assert timestamp_of(2025, 1, 1) == 1_735_689_600
    assert timestamp_of(2100, 3, 1) == 4_107_542_400
    assert timestamp_of(2200, 12, 31) == 7_289_568_000
    assert civil_from_days(2_932_896) == (9999, 12, 31)
    assert date_of(1_735_689_600 - 1) == (2024, 12, 31)
    with pytest.raises(ValueError, match="before 1970-01-01"):
        days_from_civil(1969, 12, 31)


def test_is_valid() -> None:
    assert not is_valid(2025, 2, 31)
    assert not is_valid(2024, 2, 30)
    assert not is_valid(2025, 2, 29)
    assert is_valid(2024, 2, 29)
    assert is_valid(2000, 2, 29)  # divisible by 400
    assert not is_valid(2100, 2, 29)  # divisible by 100
    assert not is_valid(1900, 2, 28)  # before 1970
    assert not is_valid(2025, 0, 1)
    assert not is_valid(2025, 13, 1)
    assert not is_valid(2025, 1, 0)
    assert not is_valid(2025, 4, 31)
    assert is_valid(9999, 12, 31) and not is_valid(10_000, 1, 1)


def test_add_months_end_of_month_rule() -> None:
    assert add_months(2025, 1, 31, 1) == ts("2025-02-28")
    assert add_months(2024, 1, 31, 1) == ts("2024-02-29")
    assert add_months(2025, 1, 31, 2) == ts("2025-03-31")
    assert add_months(2025, 11, 30, 3) == ts("2026-02-28")
    assert add_months(2024, 2, 29, 12) == ts("2025-02-28")
    assert add_months(2024, 2, 29, 48) == ts("2028-02-29")
    assert add_months(2025, 2, 28, 1) == ts("2025-03-28")  # stepping from a result drifts; grids never do
    # 24 steps from 2025-01-31: the last day of every month
    expected = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] * 2 + [31]
    for k, day in enumerate(expected):
        assert add_months(2025, 1, 31, k) == timestamp_of(2025 + k // 12, k % 12 + 1, day), k


def _model_add_months(year: int, month: int, day: int, months: int) -> int:
    """One month at a time with datetime; the month's last day from the next month's first."""
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last = (nxt - timedelta(days=1)).day
    return (date(year, month, min(day, last)) - EPOCH).days * DAY


@given(st.dates(date(1970, 1, 1), date(2500, 12, 31)), st.integers(0, 1200))
def test_add_months_matches_model(start: date, months: int) -> None:
    assert add_months(start.year, start.month, start.day, months) == _model_add_months(
        start.year, start.month, start.day, months
    )


# ---------------------------------------------------------------------------------- examples


@pytest.mark.parametrize("example", PERIOD_EXAMPLES, ids=[e.label for e in PERIOD_EXAMPLES])
def test_period_examples(example: PeriodExample) -> None:
    c, p = example.calendar, example.period
    assert c.period_bounds(p) == (ts(example.start), ts(example.end))
    assert c.period_of(ts(example.start)) == p
    assert c.period_of(ts(example.end) - 1) == p
    assert c.period_of(ts(example.end)) == p + 1


@pytest.mark.parametrize("example", YEAR_EXAMPLES, ids=[e.label for e in YEAR_EXAMPLES])
def test_year_examples(example: YearExample) -> None:
    c, y = example.calendar, example.year
    assert c.year_bounds(y) == (ts(example.start), ts(example.end), example.full_days * DAY)
    assert c.year_of(ts(example.start)) == y
    assert c.year_of(ts(example.end) - 1) == y
    assert c.year_of(ts(example.end)) == y + 1


@pytest.mark.parametrize(
    ("calendar", "period", "name"),
    [
        (QUARTERS, 0, "2025-Q1"),  # cut at the start, [2025-02-10, 2025-04-01), keeps its name
        (QUARTERS, 1, "2025-Q2"),
        (QUARTERS, 3, "2025-Q4"),
        (QUARTERS, 4, "2026-Q1"),
        (MONTHS, 0, "2024-02"),
        (MONTHS, 11, "2025-01"),
        (HALVES, 0, "2025-H2"),
        (HALVES, 1, "2026-H1"),
        (YEARS, 0, "2025"),
        (YEARS, 1, "2026"),
        (TWO_MONTHS, 0, "2025-02-10--2025-02-28"),
        (TWO_MONTHS, 1, "2025-03-01--2025-04-30"),
        (FOUR_MONTHS, 0, "2025-02-10--2025-04-30"),
        (FOUR_MONTHS, 2, "2025-09-01--2025-12-31"),
        (cal("2025-02-10", 3, anniversary=True), 0, "2025-02-10--2025-05-09"),
        (ANNIVERSARY_QUARTERS, 0, "2025-01-31--2025-04-29"),
        (ANNIVERSARY_QUARTERS, 1, "2025-04-30--2025-07-30"),
        (ANNIVERSARY_MONTHS_1500, 0, "2025-01-31--2025-02-27"),
        (DAYS_90, 0, "2023-11-15--2024-02-12"),
        (DAYS_90, 3, "2024-08-11--2024-11-08"),
        (cal("2025-02-10 12:00", period_seconds=DAY), 0, "2025-02-10--2025-02-11"),  # noon to noon
    ],
)
def test_period_names(calendar: LicenceCalendar, period: int, name: str) -> None:
    assert calendar.period_name(period) == name


def test_year_names() -> None:
    assert cal("2025-02-10", 3).year_name(0) == "2025-02-10--2026-02-09"
    assert FROM_START_1345.year_name(0) == "2025-02-10--2026-02-10"  # ends 13:45 on 2026-02-10
    assert CALENDAR_YEARS.year_name(0) == "2025-02-10--2025-12-31"
    assert CALENDAR_YEARS.year_name(1) == "2026-01-01--2026-12-31"
    assert FROM_29_FEB.year_name(2) == "2027-02-28--2028-02-28"


def test_due_dates() -> None:
    quarters = cal("2025-02-10", 3, due_days=30)
    assert quarters.period_due_at(0) == ts("2025-05-01")  # 2025-04-01 + 30 days
    assert quarters.period_due_at(3) == ts("2026-01-31")  # 2026-01-01 + 30 days
    years = cal("2025-02-10", 3, year=(1, 1), due_days=60)
    assert years.year_due_at(0) == ts("2026-03-02")  # 2026-01-01 + 60 days (31 + 28 + 1)
    assert years.year_due_at(3) == ts("2029-03-02")  # 2029-01-01 + 60 days
    fixed = cal("2023-11-15", period_seconds=90 * DAY, due_days=45)
    assert fixed.period_due_at(0) == ts("2024-03-29")  # 2024-02-13 + 45 days (16 + 29)


def test_years_of_period() -> None:
    # contract years from 04-06: year 0 is [2025-02-10, 2025-04-06), year 1 [2025-04-06, 2026-04-06)
    assert FROM_04_06.years_of_period(0) == range(0, 1)  # [2025-02-10, 2025-04-01)
    assert FROM_04_06.years_of_period(1) == range(0, 2)  # [2025-04-01, 2025-07-01)
    assert FROM_04_06.years_of_period(2) == range(1, 2)
    assert CALENDAR_YEARS.years_of_period(3) == range(0, 1)  # 2025-Q4 in calendar year 2025
    assert YEARS.years_of_period(1) == range(0, 2)  # 2026 overlaps contract years from 2025-03-01 and 2026-03-01


def test_interest() -> None:
    c = cal("2025-01-01", 3, interest_bps=1200)  # 12% a year
    # 10,000.000000 units for 30 days: 10_000_000_000 * 1200 * 2_592_000 // (10_000 * 31_536_000)
    assert c.interest(10_000_000_000, ts("2025-05-01"), ts("2025-05-31")) == 98_630_136
    assert c.interest(10_000_000_000, ts("2025-05-01"), ts("2026-05-01")) == 1_200_000_000  # 365 days
    assert c.interest(10_000_000_000, ts("2025-05-31"), ts("2025-05-01")) == 0
    assert c.interest(10_000_000_000, ts("2025-05-01"), ts("2025-05-01")) == 0


def test_before_the_start_is_an_error() -> None:
    with pytest.raises(ValueError, match="before the licence start"):
        QUARTERS.period_of(ts("2025-02-10") - 1)
    with pytest.raises(ValueError, match="before the licence start"):
        CALENDAR_YEARS.year_of(ts("2025-02-10") - 1)


def test_year_anchor_before_1970_is_an_error() -> None:
    # Solidity reverts too: the last 07-01 at or before 1970-03-01 is 1969-07-01
    with pytest.raises(ValueError, match="before 1970-01-01"):
        cal("1970-03-01", 3, year=(7, 1)).year_bounds(0)
    assert cal("1970-07-01", 3, year=(7, 1)).year_bounds(0) == (ts("1970-07-01"), ts("1971-07-01"), 365 * DAY)


# ---------------------------------------------------------------------------------- on-chain form


def test_reserve_release_and_audit_measure() -> None:
    # 20% held for two quarters: 2025-Q1's reserve is released when 2025-Q3 ends, on 2025-10-01
    c = cal("2025-01-01", 3, reserve_bps=2000, reserve_periods=2, audit_threshold_bps=500)
    assert c.reserve_release(0) == ts("2025-10-01")
    assert c.reserve_of(3_000_003_503) == 600_000_700  # 600,000,700.6 rounded down
    assert c.audit_exceeds(251, 5_000) and not c.audit_exceeds(250, 5_000)  # strictly above 5%
    assert c.audit_exceeds(1, 0) and not c.audit_exceeds(-500, 5_000)


def test_from_abi_tuple_and_dict() -> None:
    ecb = b"ECB" + bytes(13)  # the conversion clause's source: a bytes16, right-padded
    c = LicenceCalendar.from_abi(
        (3, False, 7, 1, 45, 800, 1000, 2, 500, 2, ecb), start=ts("2025-02-10"), period_seconds=0
    )
    assert c == LicenceCalendar(ts("2025-02-10"), 0, 3, False, 7, 1, 45, 800, 1000, 2, 500, 2, "ECB")
    assert c.as_abi() == (3, False, 7, 1, 45, 800, 1000, 2, 500, 2, ecb)
    named = {
        "periodMonths": 3,
        "anniversary": False,
        "yearMonth": 7,
        "yearDay": 1,
        "dueDays": 45,
        "interestBps": 800,
        "reserveBps": 1000,
        "reservePeriods": 2,
        "auditThresholdBps": 500,
        "fxRule": 2,
        "fxSource": "0x" + ecb.hex(),  # as events decode a bytes16
    }
    assert LicenceCalendar.from_abi(named, start=ts("2025-02-10"), period_seconds=0) == c
    assert LicenceCalendar.from_abi({**named, "fxSource": ecb}, start=ts("2025-02-10"), period_seconds=0) == c
    # Without a clause the source is sixteen zero bytes.
    none = LicenceCalendar.from_abi({**named, "fxRule": 0, "fxSource": bytes(16)}, start=0, period_seconds=0)
    assert (none.fx_rule, none.fx_source, none.as_abi()[-1]) == (0, "", bytes(16))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period_months": 0, "period_seconds": 0}, "period_seconds > 0"),
        ({"period_months": 5}, "5 months do not divide the year"),
        ({"period_months": 61, "anniversary": True}, "1..60"),
        ({"period_months": 0, "anniversary": True, "period_seconds": DAY}, "1..60"),
        ({"period_months": 3, "year_month": 2, "year_day": 30}, "February has at most 29 days"),
        ({"period_months": 3, "year_month": 0, "year_day": 5}, "no month 0"),
        ({"period_months": 3, "due_days": 0}, "due_days 0"),
        ({"period_months": 3, "due_days": 366}, "due_days 366"),
        ({"period_months": 3, "reserve_bps": 5001, "reserve_periods": 2}, "reserve_bps 5001: at most 5000"),
        ({"period_months": 3, "reserve_periods": 2}, "reserve_periods 2 without a reserve"),
        ({"period_months": 3, "reserve_bps": 1000, "reserve_periods": 25}, "released after 1..24 periods"),
        ({"period_months": 3, "audit_threshold_bps": 10001}, "audit_threshold_bps 10001"),
        # LicenceClock's FxClauseInvalid: a rule 0..3, and a source exactly when there is a rule
        ({"period_months": 3, "fx_rule": 5, "fx_source": "ECB"}, "fx rule 5 with source 'ECB'"),
        ({"period_months": 3, "fx_rule": 1}, "fx rule 1 with source ''"),
        ({"period_months": 3, "fx_source": "ECB"}, "fx rule 0 with source 'ECB'"),
    ],
)
def test_invalid_calendars(kwargs: dict[str, int | str], message: str) -> None:
    args: dict[str, int | str] = {"start": ts("2025-02-10"), "period_seconds": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        LicenceCalendar(**args)


# ---------------------------------------------------------------------------------- the validator's path


def test_period_and_year_of_day_matches_and_memoises() -> None:
    c = cal("2025-02-10 13:45", 3, year=(4, 6))
    first = ts("2025-02-10")
    assert c.period_and_year_of_day(first) == (0, 0)  # the start day, classified by the start
    for day in range(first + DAY, first + 3 * 366 * DAY, DAY):
        assert c.period_and_year_of_day(day) == (c.period_of(day), c.year_of(day))
    assert c.period_and_year_of_day(ts("2025-04-06")) == (1, 1)
    assert c.period_and_year_of_day(ts("2025-04-05")) == (1, 0)
    assert len(c._days) == 3 * 366
    with pytest.raises(ValueError, match="before the licence start"):
        c.period_and_year_of_day(first - DAY)
    with pytest.raises(ValueError, match="not 00:00"):
        c.period_and_year_of_day(first + 3600)


def test_memo_is_not_part_of_equality_or_hash() -> None:
    a, b = cal("2025-02-10", 3), cal("2025-02-10", 3)
    a.period_and_year_of_day(ts("2025-03-01"))
    assert a == b and hash(a) == hash(b)


# ---------------------------------------------------------------------------------- terms format


def test_parse_period_rule() -> None:
    assert parse_period_rule("month") == (1, False)
    assert parse_period_rule("quarter") == (3, False)
    assert parse_period_rule("half") == (6, False)
    assert parse_period_rule("year") == (12, False)
    assert parse_period_rule({"months": 3, "anniversary": True}) == (3, True)
    assert parse_period_rule({"months": 18, "anniversary": True}) == (18, True)
    assert parse_period_rule({"months": 2}) == (2, False)
    with pytest.raises(ValueError, match="'fortnight'"):
        parse_period_rule("fortnight")
    with pytest.raises(ValueError, match="5 months do not divide the year"):
        parse_period_rule({"months": 5})
    with pytest.raises(ValueError, match=r"61 months: use 1\.\.60"):
        parse_period_rule({"months": 61, "anniversary": True})
    with pytest.raises(ValueError, match="unknown keys"):
        parse_period_rule({"months": 3, "days": 1})
    with pytest.raises(ValueError, match="whole number"):
        parse_period_rule({"months": "3"})


def test_parse_year_start() -> None:
    assert parse_year_start("start") == (0, 0)
    assert parse_year_start("calendar") == (1, 1)
    assert parse_year_start("07-01") == (7, 1)
    assert parse_year_start("02-29") == (2, 29)
    with pytest.raises(ValueError, match="02-31 is not a day of the year: February has at most 29 days"):
        parse_year_start("02-31")
    with pytest.raises(ValueError, match="04-31 is not a day of the year: April has 30 days"):
        parse_year_start("04-31")
    with pytest.raises(ValueError, match="13-01 is not a day of the year: there is no month 13"):
        parse_year_start("13-01")
    with pytest.raises(ValueError, match="days start at 1"):
        parse_year_start("03-00")
    with pytest.raises(ValueError, match="MM-DD"):
        parse_year_start("7-1")


def test_parse_date() -> None:
    assert parse_date("2025-02-10") == ts("2025-02-10")
    assert parse_date("2024-02-29") == ts("2024-02-29")
    with pytest.raises(ValueError, match="2025-02-31 is not a date: February 2025 has 28 days"):
        parse_date("2025-02-31")
    with pytest.raises(ValueError, match="2025-02-29 is not a date: February 2025 has 28 days"):
        parse_date("2025-02-29")
    with pytest.raises(ValueError, match="2100-02-29 is not a date: February 2100 has 28 days"):
        parse_date("2100-02-29")
    with pytest.raises(ValueError, match="there is no month 13"):
        parse_date("2025-13-01")
    with pytest.raises(ValueError, match="write YYYY-MM-DD"):
        parse_date("10/02/2025")
    with pytest.raises(ValueError, match="from 1970-01-01"):
        parse_date("1969-12-31")


# ---------------------------------------------------------------------------------- properties


@st.composite
def calendars(draw: st.DrawFn) -> LicenceCalendar:
    start = draw(st.integers(ts("1971-01-01"), ts("2200-01-01")))
    if draw(st.booleans()):
        start -= start % DAY
    kind = draw(st.sampled_from(["fixed", "calendar", "anniversary"]))
    period_seconds, months, anniversary = 0, 0, False
    if kind == "fixed":
        period_seconds = draw(st.integers(3600, 400 * DAY))
    elif kind == "calendar":
        months = draw(st.sampled_from([1, 2, 3, 4, 6, 12]))
    else:
        months, anniversary = draw(st.integers(1, 60)), True
    year = (0, 0)
    if draw(st.booleans()):
        month = draw(st.integers(1, 12))
        year = (month, draw(st.integers(1, days_in_month(2000, month))))
    return LicenceCalendar(start, period_seconds, months, anniversary, *year, draw(st.integers(1, 365)))


offsets = st.one_of(st.integers(0, DAY), st.integers(0, 400 * DAY), st.integers(0, 36_600 * DAY))


def _grid(c: LicenceCalendar) -> tuple[date, int]:
    """An independent period grid: the anchor date and the grid index of period 0."""
    start = datetime.fromtimestamp(c.start, UTC).date()
    if c.anniversary:
        return start, 0
    return date(start.year, 1, 1), (start.month - 1) // c.period_months


@settings(max_examples=300)
@given(calendars(), offsets)
def test_periods_contain_abut_and_match_a_scan(c: LicenceCalendar, offset: int) -> None:
    t = c.start + offset
    p = c.period_of(t)
    start, end = c.period_bounds(p)
    assert start <= t < end
    assert c.period_bounds(p + 1)[0] == end
    assert c.period_of(end) == p + 1
    if p == 0:
        assert start == c.start
    else:
        assert c.period_bounds(p - 1)[1] == start
    if c.period_months == 0:
        assert end - start == c.period_seconds
        return
    anchor, first = _grid(c)
    k = first + p
    expected_end = _model_add_months(anchor.year, anchor.month, anchor.day, (k + 1) * c.period_months)
    assert end == expected_end
    assert start == max(c.start, _model_add_months(anchor.year, anchor.month, anchor.day, k * c.period_months))


@settings(max_examples=300)
@given(calendars(), offsets)
def test_years_contain_abut_and_last_365_or_366_days(c: LicenceCalendar, offset: int) -> None:
    t = c.start + offset
    y = c.year_of(t)
    start, end, full = c.year_bounds(y)
    assert start <= t < end
    assert full in (365 * DAY, 366 * DAY)
    assert c.year_bounds(y + 1)[0] == end
    assert c.year_of(end) == y + 1
    if y == 0:
        assert start == c.start and end - full <= c.start
    else:
        assert end - start == full
        assert c.year_bounds(y - 1)[1] == start
    # `end` and `end - full` are anniversaries of the anchor, at the same time of day
    s = datetime.fromtimestamp(c.start, UTC)
    month, day = (s.month, s.day) if c.year_month == 0 else (c.year_month, c.year_day)
    for edge in (datetime.fromtimestamp(end, UTC), datetime.fromtimestamp(end - full, UTC)):
        assert edge.month == month
        assert edge.day == min(day, days_in_month(edge.year, month))
    assert end % DAY == (c.start % DAY if c.year_month == 0 else 0)


@settings(max_examples=100)
@given(calendars(), offsets)
def test_years_of_period_cover_the_period(c: LicenceCalendar, offset: int) -> None:
    p = c.period_of(c.start + offset)
    start, end = c.period_bounds(p)
    years = c.years_of_period(p)
    assert len(years) >= 1
    assert c.year_bounds(years[0])[0] <= start and c.year_bounds(years[-1])[1] >= end
