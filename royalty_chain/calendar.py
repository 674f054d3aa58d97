"""A licence's reporting periods and contract years: the Python mirror of LicenceCalendar.sol.

Every party derives the same boundaries from ``(start, period_seconds, Calendar)``; this module
gives the same answers as ``contracts/libraries/CivilDate.sol`` and
``contracts/libraries/LicenceCalendar.sol`` (read their NatSpec: it is the rule), with the same
integer arithmetic:

- fixed periods (``period_months`` 0): period p is ``[start + p * period_seconds, + period_seconds)``;
- calendar periods (``anniversary`` false, ``period_months`` in 1, 2, 3, 4, 6, 12): a grid from
  1 January of the start's year; period 0 is the grid period holding the start, cut at the start;
- anniversary periods (``period_months`` 1..60): a grid from the start's date (00:00 UTC);
- contract years: 12-month steps from ``year_month``/``year_day`` at 00:00 UTC, or from the start's
  date and time of day when both are 0; year 0 holds the start, cut at the start.

A grid date is always the anchor plus k steps with its day cut to the month's length (the
end-of-month rule), so grids never drift: 31 January, 28/29 February, 31 March, 30 April...
Times are unix seconds (UTC); dates before 1970-01-01 are outside the calendar (Solidity reverts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from royalty_chain.fx import MAX_FX_RULE, source_bytes, source_text

DAY = 86_400
BPS = 10_000
YEAR_DAYS = 365

CALENDAR_GRID_MONTHS = (1, 2, 3, 4, 6, 12)
MAX_ANNIVERSARY_MONTHS = 60
MAX_DUE_DAYS = 365
MAX_RESERVE_BPS = 5_000  # LicenceClock.MAX_RESERVE_BPS
MAX_RESERVE_PERIODS = 24  # LicenceClock.MAX_RESERVE_PERIODS
# ILicenceRegistry.Calendar's fields in their order: the Python name and the Solidity one.
CALENDAR_FIELDS = (
    ("period_months", "periodMonths"),
    ("anniversary", "anniversary"),
    ("year_month", "yearMonth"),
    ("year_day", "yearDay"),
    ("due_days", "dueDays"),
    ("interest_bps", "interestBps"),
    ("reserve_bps", "reserveBps"),
    ("reserve_periods", "reservePeriods"),
    ("audit_threshold_bps", "auditThresholdBps"),
    ("fx_rule", "fxRule"),
    ("fx_source", "fxSource"),
)


def calendar_fields(calendar: Sequence[Any] | Mapping[str, Any]) -> dict[str, Any]:
    """The Python fields of an on-chain ``Calendar``: its tuple, or its web3 / event dict form
    (``fx_source`` as text: :func:`royalty_chain.fx.source_text`)."""
    if isinstance(calendar, Mapping):
        calendar = [calendar[solidity] for _, solidity in CALENDAR_FIELDS]
    if len(calendar) != len(CALENDAR_FIELDS):
        raise ValueError(f"a Calendar has {len(CALENDAR_FIELDS)} fields, not {len(calendar)}")
    fields: dict[str, Any] = {}
    for (name, _), value in zip(CALENDAR_FIELDS, calendar, strict=True):
        if name == "anniversary":
            fields[name] = bool(value)
        elif name == "fx_source":
            fields[name] = source_text(value)
        else:
            fields[name] = int(value)
    return fields


def calendar_abi(calendar: Any) -> tuple[int | bool | bytes, ...]:
    """The on-chain ``Calendar`` tuple of anything with CALENDAR_FIELDS' attributes (the source as bytes16)."""
    return tuple(
        source_bytes(calendar.fx_source) if name == "fx_source" else getattr(calendar, name)
        for name, _ in CALENDAR_FIELDS
    )


MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_UINT64_MAX = 2**64 - 1
_UINT32_MAX = 2**32 - 1

# ---------------------------------------------------------------------------------- civil dates
# CivilDate.sol: Howard Hinnant's days-from-civil / civil-from-days, years 1970..9999.


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return _MONTH_LENGTHS[month - 1]


def is_valid(year: int, month: int, day: int) -> bool:
    """Whether (year, month, day) names a real day from 1970 to 9999 (CivilDate.isValid)."""
    return 1970 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= days_in_month(year, month)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a valid date; ValueError before 1970 (where Solidity underflows)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    year_of_era = y - era * 400
    shifted_month = month - 3 if month > 2 else month + 9
    day_of_year = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    if days < 0:
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is before 1970-01-01")
    return days


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) ``days`` days after 1970-01-01."""
    if days < 0:
        raise ValueError(f"day {days} is before 1970-01-01")
    z = days + 719_468
    era = z // 146_097
    day_of_era = z - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (1 if month <= 2 else 0), month, day


def timestamp_of(year: int, month: int, day: int) -> int:
    """Unix time of 00:00 UTC on a valid date."""
    return days_from_civil(year, month, day) * DAY


def date_of(timestamp: int) -> tuple[int, int, int]:
    """The UTC (year, month, day) of a unix time."""
    return civil_from_days(timestamp // DAY)


def iso_date(timestamp: int) -> str:
    year, month, day = date_of(timestamp)
    return f"{year:04d}-{month:02d}-{day:02d}"


def add_months(year: int, month: int, day: int, months: int) -> int:
    """00:00 UTC of the day ``months`` months after (year, month, day), the day cut to the month's length."""
    total = year * 12 + (month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    return timestamp_of(y, m, min(day, days_in_month(y, m)))


def months_between(from_year: int, from_month: int, timestamp: int) -> int:
    """Whole months from (from_year, from_month) to the month of ``timestamp``, ignoring days."""
    y, m, _ = date_of(timestamp)
    return (y * 12 + m) - (from_year * 12 + from_month)


# ---------------------------------------------------------------------------------- the calendar


@dataclass(frozen=True, slots=True)
class LicenceCalendar:
    """The date rule of one licence: ``start`` and ``period_seconds`` of its term, and its Calendar."""

    start: int
    period_seconds: int
    period_months: int = 0
    anniversary: bool = False
    year_month: int = 0
    year_day: int = 0
    due_days: int = 30
    interest_bps: int = 0
    reserve_bps: int = 0
    reserve_periods: int = 0
    audit_threshold_bps: int = 0
    fx_rule: int = 0  # the conversion clause (royalty_chain.fx): not a date rule, kept to mirror the Calendar
    fx_source: str = ""
    # period_and_year_of_day's memo: day start -> (period, year)
    _days: dict[int, tuple[int, int]] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    # the period grid's anchor (y, m, d) and the grid index of period 0
    _period_anchor: tuple[int, int, int, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not 0 <= self.start <= _UINT64_MAX:
            raise ValueError(f"start {self.start} does not fit uint64")
        if not 0 <= self.period_seconds <= _UINT32_MAX:
            raise ValueError(f"period_seconds {self.period_seconds} does not fit uint32")
        if self.period_months == 0:
            if self.anniversary:
                raise ValueError("anniversary periods need period_months 1..60")
            if self.period_seconds == 0:
                raise ValueError("fixed periods (period_months 0) need period_seconds > 0")
        elif self.anniversary:
            if not 1 <= self.period_months <= MAX_ANNIVERSARY_MONTHS:
                raise ValueError(f"anniversary periods of {self.period_months} months: use 1..60 months")
        elif self.period_months not in CALENDAR_GRID_MONTHS:
            raise ValueError(
                f"calendar periods of {self.period_months} months do not divide the year: "
                "use 1, 2, 3, 4, 6 or 12 months, or anniversary periods"
            )
        if (self.year_month, self.year_day) != (0, 0):
            _check_day_of_year(self.year_month, self.year_day, f"contract year start {self.year_month}/{self.year_day}")
        if not 1 <= self.due_days <= MAX_DUE_DAYS:
            raise ValueError(f"due_days {self.due_days}: use 1..365 days")
        if not 0 <= self.interest_bps <= 0xFFFF:
            raise ValueError(f"interest_bps {self.interest_bps} does not fit uint16")
        if not 0 <= self.reserve_bps <= MAX_RESERVE_BPS:
            raise ValueError(f"reserve_bps {self.reserve_bps}: at most {MAX_RESERVE_BPS} (half of each royalty)")
        if self.reserve_bps == 0 and self.reserve_periods != 0:
            raise ValueError(f"reserve_periods {self.reserve_periods} without a reserve (reserve_bps 0)")
        if self.reserve_bps != 0 and not 1 <= self.reserve_periods <= MAX_RESERVE_PERIODS:
            raise ValueError(f"reserve_periods {self.reserve_periods}: a reserve is released after 1..24 periods")
        if not 0 <= self.audit_threshold_bps <= BPS:
            raise ValueError(f"audit_threshold_bps {self.audit_threshold_bps}: at most 10,000 (100%)")
        if not 0 <= self.fx_rule <= MAX_FX_RULE or (self.fx_rule == 0) != (self.fx_source == ""):
            raise ValueError(
                f"fx rule {self.fx_rule} with source {self.fx_source!r}: rules 0..{MAX_FX_RULE}, "
                "a source exactly when the rule is not 0 (FxClauseInvalid)"
            )
        y, m, d = date_of(self.start)
        if self.period_months == 0 or self.anniversary:
            anchor = (y, m, d, 0)
        else:
            anchor = (y, 1, 1, (m - 1) // self.period_months)
        object.__setattr__(self, "_period_anchor", anchor)

    @classmethod
    def from_abi(
        cls, calendar: Sequence[Any] | Mapping[str, Any], *, start: int, period_seconds: int
    ) -> LicenceCalendar:
        """From the on-chain ``Calendar`` tuple (or its web3 dict form) and the licence's term."""
        return cls(start=int(start), period_seconds=int(period_seconds), **calendar_fields(calendar))

    def as_abi(self) -> tuple[int | bool | bytes, ...]:
        """The ``Calendar`` struct, without start and period_seconds (they are the Term's)."""
        return calendar_abi(self)

    def reserve_release(self, period: int) -> int:
        """When the reserve held from period ``period``'s royalty is released: the end of the
        period ``reserve_periods`` later (SettlementModule._reportDraft)."""
        return self.period_bounds(period + self.reserve_periods)[1]

    def reserve_of(self, payable: int) -> int:
        """The reserve held from a payable royalty (after credits and recoupment), rounded down."""
        return payable * self.reserve_bps // BPS

    def audit_exceeds(self, underpayment: int, reported: int) -> bool:
        """Whether an audit's underpayment exceeds the threshold: u * 10,000 > bps * reported."""
        return underpayment > 0 and underpayment * BPS > self.audit_threshold_bps * max(reported, 0)

    # ------------------------------------------------------------------ periods

    def period_bounds(self, period: int) -> tuple[int, int]:
        """First second of period ``period`` and first second after it."""
        if period < 0:
            raise ValueError(f"period {period} is negative")
        if self.period_months == 0:
            start = self.start + period * self.period_seconds
            return start, start + self.period_seconds
        y, m, d, first = self._period_anchor
        k = first + period
        grid_from = add_months(y, m, d, k * self.period_months)
        return max(grid_from, self.start), add_months(y, m, d, (k + 1) * self.period_months)

    def period_of(self, timestamp: int) -> int:
        """The period holding ``timestamp``; ValueError before the start."""
        self._check_after_start(timestamp)
        if self.period_months == 0:
            return (timestamp - self.start) // self.period_seconds
        y, m, d, first = self._period_anchor
        k = months_between(y, m, timestamp) // self.period_months
        if add_months(y, m, d, k * self.period_months) > timestamp:
            k -= 1
        return k - first

    def period_due_at(self, period: int) -> int:
        """When the report and payment of ``period`` are due: ``due_days`` after it ends."""
        return self.period_bounds(period)[1] + self.due_days * DAY

    def period_name(self, period: int) -> str:
        """``2025-03``, ``2025-Q1``, ``2025-H2``, ``2025`` for calendar months, quarters, halves and years
        (a period cut at the start keeps its grid name); else first--last day, ``2025-02-10--2025-05-09``."""
        if not self.anniversary and self.period_months in (1, 3, 6, 12):
            y, _, _, first = self._period_anchor
            year, month0 = divmod((first + period) * self.period_months, 12)
            year += y
            if self.period_months == 1:
                return f"{year:04d}-{month0 + 1:02d}"
            if self.period_months == 3:
                return f"{year:04d}-Q{month0 // 3 + 1}"
            if self.period_months == 6:
                return f"{year:04d}-H{month0 // 6 + 1}"
            return f"{year:04d}"
        start, end = self.period_bounds(period)
        return f"{iso_date(start)}--{iso_date(end - 1)}"

    # ------------------------------------------------------------------ contract years

    def _year_anchor(self) -> tuple[int, int, int, int]:
        """The year grid's anchor (y, m, d, time of day): the last anniversary at or before the start."""
        sy, sm, sd = date_of(self.start)
        if self.year_month == 0:
            return sy, sm, sd, self.start % DAY
        m, d = self.year_month, self.year_day
        y = sy - 1 if add_months(sy, m, d, 0) > self.start else sy
        if y < 1970:
            raise ValueError(f"contract years from {m:02d}-{d:02d} before a start in 1970 begin before 1970-01-01")
        return y, m, d, 0

    def year_bounds(self, year: int) -> tuple[int, int, int]:
        """Contract year ``year``: first second (cut at the start), first second after, and the
        length of its whole 12-month step (365 or 366 days), which prorates a short year's guarantee."""
        if year < 0:
            raise ValueError(f"contract year {year} is negative")
        y, m, d, time_of_day = self._year_anchor()
        grid_from = add_months(y, m, d, 12 * year) + time_of_day
        grid_to = add_months(y, m, d, 12 * (year + 1)) + time_of_day
        return max(grid_from, self.start), grid_to, grid_to - grid_from

    def year_of(self, timestamp: int) -> int:
        """The contract year holding ``timestamp``; ValueError before the start."""
        self._check_after_start(timestamp)
        y, m, d, time_of_day = self._year_anchor()
        year = date_of(timestamp)[0] - y
        if add_months(y, m, d, 12 * year) + time_of_day > timestamp:
            year -= 1
        return year

    def year_due_at(self, year: int) -> int:
        """When a contract year's guarantee is due: ``due_days`` after the year ends."""
        return self.year_bounds(year)[1] + self.due_days * DAY

    def year_name(self, year: int) -> str:
        """First day--last day (inclusive) of the contract year, ``2025-02-10--2026-02-09``."""
        start, end, _ = self.year_bounds(year)
        return f"{iso_date(start)}--{iso_date(end - 1)}"

    def years_of_period(self, period: int) -> range:
        """The contract years that period ``period`` overlaps."""
        start, end = self.period_bounds(period)
        return range(self.year_of(start), self.year_of(end - 1) + 1)

    # ------------------------------------------------------------------ the feed validator's path

    def period_and_year_of_day(self, day_start: int) -> tuple[int, int]:
        """(period, contract year) of a sales day given by its 00:00 UTC, memoised per day.

        A day is classified by its first second at or after the start: on the start day that is
        the start itself. Where a boundary falls inside a day (a start-anchored contract year from
        a start that is not at 00:00, fixed periods that are not whole days) the day goes with
        its first second. ValueError for a day wholly before the start or not at 00:00.
        """
        hit = self._days.get(day_start)
        if hit is not None:
            return hit
        if day_start % DAY:
            raise ValueError(f"{day_start} is not 00:00 UTC of a day")
        at = self.start if day_start < self.start < day_start + DAY else day_start
        found = (self.period_of(at), self.year_of(at))
        self._days[day_start] = found
        return found

    # ------------------------------------------------------------------ late payment

    def interest(self, principal: int, from_ts: int, to_ts: int) -> int:
        """Simple yearly interest at ``interest_bps``, actual/365, on ``principal`` from ``from_ts`` to ``to_ts``."""
        if to_ts <= from_ts:
            return 0
        return principal * self.interest_bps * (to_ts - from_ts) // (BPS * YEAR_DAYS * DAY)

    def _check_after_start(self, timestamp: int) -> None:
        if timestamp < self.start:
            raise ValueError(f"{timestamp} is before the licence start {self.start}")


# ---------------------------------------------------------------------------------- terms format

PERIOD_WORDS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_MM_DD = re.compile(r"(\d{2})-(\d{2})")
_YYYY_MM_DD = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _check_day_of_year(month: int, day: int, what: str) -> None:
    """A month/day that exists in some year (29 February included)."""
    if not 1 <= month <= 12:
        raise ValueError(f"{what} is not a day of the year: there is no month {month}")
    longest = days_in_month(2000, month)
    if not 1 <= day <= longest:
        if day < 1:
            raise ValueError(f"{what} is not a day of the year: days start at 1")
        at_most = "at most " if month == 2 else ""
        raise ValueError(f"{what} is not a day of the year: {MONTH_NAMES[month - 1]} has {at_most}{longest} days")


def parse_period_rule(value: object) -> tuple[int, bool]:
    """``"month"``, ``"quarter"``, ``"half"``, ``"year"`` (calendar grid from 1 January), or
    ``{"months": N, "anniversary": true}`` (a grid from the start date; ``"anniversary": false``
    for a calendar grid of 1, 2, 3, 4, 6 or 12 months) -> (period_months, anniversary)."""
    if isinstance(value, str):
        if value in PERIOD_WORDS:
            return PERIOD_WORDS[value], False
        raise ValueError(f'period {value!r}: use "month", "quarter", "half", "year" or {{"months": N, ...}}')
    if not isinstance(value, Mapping):
        raise ValueError(f'period {value!r}: use "month", "quarter", "half", "year" or {{"months": N, ...}}')
    unknown = set(value) - {"months", "anniversary"}
    if unknown:
        raise ValueError(f"period: unknown keys {sorted(unknown)}; use months and anniversary")
    months = value.get("months")
    anniversary = value.get("anniversary", False)
    if not isinstance(months, int) or isinstance(months, bool):
        raise ValueError(f"period months {months!r}: a whole number of months is required")
    if not isinstance(anniversary, bool):
        raise ValueError(f"period anniversary {anniversary!r}: true or false")
    if anniversary:
        if not 1 <= months <= MAX_ANNIVERSARY_MONTHS:
            raise ValueError(f"anniversary periods of {months} months: use 1..60 months")
    elif months not in CALENDAR_GRID_MONTHS:
        raise ValueError(
            f"calendar periods of {months} months do not divide the year: "
            'use 1, 2, 3, 4, 6 or 12 months, or "anniversary": true'
        )
    return months, anniversary


def parse_year_start(value: object) -> tuple[int, int]:
    """``"start"`` (contract years from the start's date and time, -> (0, 0)), ``"calendar"``
    (from 1 January, -> (1, 1)) or ``"MM-DD"`` (29 February is 28 February in common years)."""
    if value == "start":
        return 0, 0
    if value == "calendar":
        return 1, 1
    match = _MM_DD.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'contract year start {value!r}: use "start", "calendar" or "MM-DD" such as "07-01"')
    month, day = int(match[1]), int(match[2])
    _check_day_of_year(month, day, f"contract year start {value}")
    return month, day


def parse_date(value: str) -> int:
    """``YYYY-MM-DD`` -> unix time of its 00:00 UTC, for dates 1970-01-01..9999-12-31."""
    match = _YYYY_MM_DD.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a date: write YYYY-MM-DD")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12:
        raise ValueError(f"{value} is not a date: there is no month {month}")
    length = days_in_month(year, month)
    if not 1 <= day <= length:
        if day < 1:
            raise ValueError(f"{value} is not a date: days start at 01")
        raise ValueError(f"{value} is not a date: {MONTH_NAMES[month - 1]} {year} has {length} days")
    if not 1970 <= year <= 9999:
        raise ValueError(f"{value} is outside the calendar: dates from 1970-01-01 to 9999-12-31")
    return timestamp_of(year, month, day)
