// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {CivilDate} from "../../contracts/libraries/CivilDate.sol";
import {LicenceCalendar} from "../../contracts/libraries/LicenceCalendar.sol";
import {CalendarHarness} from "../../contracts/test/CalendarHarness.sol";

/// @notice CivilDate and LicenceCalendar against an independent model: a day-by-day walk of
/// (year, month, day) with its own month-length table and leap rule, month stepping one month at
/// a time, and dates counted as sums of year and month lengths. The example tables
/// (`_periodExamples`, `_yearExamples`) are the same rows as tests/python/chain/test_calendar.py.
contract CalendarTest is Test {
    uint256 internal constant DAY = 86_400;
    /// @dev Month lengths of a common year, January first, one byte each.
    bytes12 internal constant MONTH_LENGTHS = 0x1f1c1f1e1f1e1f1f1e1f1e1f;

    CalendarHarness internal harness;

    function setUp() public {
        harness = new CalendarHarness();
    }

    // ------------------------------------------------------------------ independent model

    function _leap(uint256 y) private pure returns (bool) {
        if (y % 400 == 0) return true;
        if (y % 100 == 0) return false;
        return y % 4 == 0;
    }

    function _monthLength(uint256 y, uint256 m) private pure returns (uint256) {
        return uint8(MONTH_LENGTHS[m - 1]) + (m == 2 && _leap(y) ? 1 : 0);
    }

    /// @dev Days from 1970-01-01 to 1 January of `y`, summing year lengths.
    function _daysBeforeYear(uint256 y) private pure returns (uint256 n) {
        for (uint256 year = 1970; year < y; ++year) {
            n += _leap(year) ? 366 : 365;
        }
    }

    /// @dev Days from 1970-01-01 to (y, m, d), summing year and month lengths.
    function _modelDays(uint256 y, uint256 m, uint256 d) private pure returns (uint256 n) {
        n = _daysBeforeYear(y);
        for (uint256 month = 1; month < m; ++month) {
            n += _monthLength(y, month);
        }
        n += d - 1;
    }

    /// @dev `months` months after (y, m, d), one month at a time, the day cut to the month's length.
    function _modelAddMonths(uint256 y, uint256 m, uint256 d, uint256 months) private pure returns (uint256) {
        for (uint256 i; i < months; ++i) {
            if (m == 12) {
                m = 1;
                ++y;
            } else {
                ++m;
            }
        }
        uint256 last = _monthLength(y, m);
        return _modelDays(y, m, d < last ? d : last) * DAY;
    }

    function _monthIndex(uint256 timestamp) private pure returns (uint256) {
        (uint256 y, uint256 m,) = CivilDate.dateOf(timestamp);
        return y * 12 + m - 1;
    }

    // ------------------------------------------------------------------ exhaustive civil dates

    /// @dev Every day of years [fromYear, toYear): civilFromDays and daysFromCivil (round trip),
    /// dateOf/timestampOf, isValid of the day and of the day after a month's last day.
    function _walk(uint256 fromYear, uint256 toYear) private pure {
        uint256 n = _daysBeforeYear(fromYear);
        uint256 y = fromYear;
        uint256 m = 1;
        uint256 d = 1;
        uint256 last = _monthLength(y, m);
        while (y < toYear) {
            (uint256 cy, uint256 cm, uint256 cd) = CivilDate.civilFromDays(n);
            if (cy != y || cm != m || cd != d) {
                assertEq(cy, y, string.concat("civilFromDays year, day ", vm.toString(n)));
                assertEq(cm, m, string.concat("civilFromDays month, day ", vm.toString(n)));
                assertEq(cd, d, string.concat("civilFromDays day, day ", vm.toString(n)));
            }
            if (CivilDate.daysFromCivil(y, m, d) != n) {
                assertEq(CivilDate.daysFromCivil(y, m, d), n, "daysFromCivil");
            }
            (cy, cm, cd) = CivilDate.dateOf(n * DAY + DAY - 1);
            if (cy != y || cm != m || cd != d || CivilDate.timestampOf(y, m, d) != n * DAY) {
                assertEq(CivilDate.timestampOf(y, m, d), n * DAY, string.concat("timestampOf, day ", vm.toString(n)));
                revert(string.concat("dateOf, day ", vm.toString(n)));
            }
            if (!CivilDate.isValid(y, m, d)) revert(string.concat("isValid false, day ", vm.toString(n)));
            ++n;
            if (d < last) {
                ++d;
                continue;
            }
            if (CivilDate.isValid(y, m, d + 1) || CivilDate.daysInMonth(y, m) != last) {
                revert(string.concat("month length, day ", vm.toString(n)));
            }
            d = 1;
            if (m == 12) {
                m = 1;
                ++y;
            } else {
                ++m;
            }
            last = _monthLength(y, m);
        }
        assertEq(n, _daysBeforeYear(toYear), "walk length");
    }

    function test_civil_1970_2000() public pure {
        _walk(1970, 2000);
    }

    function test_civil_2000_2030() public pure {
        _walk(2000, 2030);
    }

    function test_civil_2030_2060() public pure {
        _walk(2030, 2060);
    }

    function test_civil_2060_2090() public pure {
        _walk(2060, 2090);
    }

    function test_civil_2090_2120() public pure {
        _walk(2090, 2120);
    }

    function test_civil_2120_2150() public pure {
        _walk(2120, 2150);
    }

    function test_civil_2150_2180() public pure {
        _walk(2150, 2180);
    }

    function test_civil_2180_2201() public pure {
        _walk(2180, 2201);
    }

    /// @dev Pins the model itself to known day numbers (from Python's datetime.date).
    function test_civil_KnownDays() public pure {
        assertEq(_daysBeforeYear(1970), 0);
        assertEq(_modelDays(2000, 3, 1), 11_017);
        assertEq(_modelDays(2023, 11, 15), 19_676);
        assertEq(_modelDays(2100, 3, 1), 47_541);
        assertEq(_modelDays(2200, 12, 31), 84_370);
        assertEq(CivilDate.timestampOf(1970, 1, 1), 0);
        assertEq(CivilDate.timestampOf(2000, 3, 1), 951_868_800);
        assertEq(CivilDate.timestampOf(2023, 11, 15), 1_700_006_400);
        assertEq(CivilDate.timestampOf(2025, 1, 1), 1_735_689_600);
        assertEq(CivilDate.timestampOf(2100, 2, 28), 4_107_456_000);
        assertEq(CivilDate.timestampOf(2100, 3, 1), 4_107_542_400);
        assertEq(CivilDate.timestampOf(2200, 12, 31), 7_289_568_000);
        (uint256 y, uint256 m, uint256 d) = CivilDate.civilFromDays(2_932_896); // the last day supported
        assertEq(y * 10_000 + m * 100 + d, 99_991_231);
        assertEq(CivilDate.daysFromCivil(9999, 12, 31), 2_932_896);
    }

    function test_civil_BeforeEpochReverts() public {
        vm.expectRevert();
        harness.daysFromCivil(1969, 12, 31);
        assertEq(harness.daysFromCivil(1970, 1, 1), 0);
    }

    // ------------------------------------------------------------------ isValid

    function test_isValid() public pure {
        assertFalse(CivilDate.isValid(2025, 2, 31), "31 Feb");
        assertFalse(CivilDate.isValid(2024, 2, 30), "30 Feb 2024");
        assertFalse(CivilDate.isValid(2025, 2, 29), "29 Feb 2025");
        assertTrue(CivilDate.isValid(2024, 2, 29), "29 Feb 2024");
        assertTrue(CivilDate.isValid(2000, 2, 29), "29 Feb 2000: divisible by 400");
        assertFalse(CivilDate.isValid(2100, 2, 29), "29 Feb 2100: divisible by 100");
        assertFalse(CivilDate.isValid(1900, 2, 29), "1900: not leap and before 1970");
        assertFalse(CivilDate.isValid(1900, 2, 28), "1900: before 1970");
        assertFalse(CivilDate.isValid(1969, 12, 31), "before 1970");
        assertTrue(CivilDate.isValid(1970, 1, 1), "1970-01-01");
        assertTrue(CivilDate.isValid(9999, 12, 31), "9999-12-31");
        assertFalse(CivilDate.isValid(10_000, 1, 1), "10000-01-01");
        assertFalse(CivilDate.isValid(2025, 0, 1), "month 0");
        assertFalse(CivilDate.isValid(2025, 13, 1), "month 13");
        assertFalse(CivilDate.isValid(2025, 1, 0), "day 0");
        assertFalse(CivilDate.isValid(2025, 4, 31), "31 April");
        assertTrue(CivilDate.isValid(2025, 12, 31), "31 December");
        assertTrue(CivilDate.isLeapYear(2000));
        assertFalse(CivilDate.isLeapYear(2100));
        assertFalse(CivilDate.isLeapYear(1900));
        assertTrue(CivilDate.isLeapYear(2024));
        assertFalse(CivilDate.isLeapYear(2025));
    }

    // ------------------------------------------------------------------ addMonths

    function _day(uint256 y, uint256 m, uint256 d) private pure returns (uint64) {
        return uint64(CivilDate.timestampOf(y, m, d));
    }

    function _time(uint256 y, uint256 m, uint256 d, uint256 hour, uint256 minute) private pure returns (uint64) {
        return uint64(CivilDate.timestampOf(y, m, d) + hour * 3600 + minute * 60);
    }

    function test_addMonths_EndOfMonthRule() public pure {
        assertEq(CivilDate.addMonths(2025, 1, 31, 0), _day(2025, 1, 31));
        assertEq(CivilDate.addMonths(2025, 1, 31, 1), _day(2025, 2, 28), "31 Jan 2025 + 1");
        assertEq(CivilDate.addMonths(2024, 1, 31, 1), _day(2024, 2, 29), "31 Jan 2024 + 1");
        assertEq(CivilDate.addMonths(2025, 1, 31, 2), _day(2025, 3, 31), "31 Jan + 2: back to the 31st");
        assertEq(CivilDate.addMonths(2025, 1, 31, 3), _day(2025, 4, 30));
        assertEq(CivilDate.addMonths(2025, 11, 30, 3), _day(2026, 2, 28), "across the year");
        assertEq(CivilDate.addMonths(2024, 2, 29, 12), _day(2025, 2, 28), "29 Feb + 12");
        assertEq(CivilDate.addMonths(2024, 2, 29, 48), _day(2028, 2, 29), "29 Feb + 48");
        assertEq(CivilDate.addMonths(2025, 12, 15, 1), _day(2026, 1, 15));
        // Stepping from a result drifts (28 Feb + 1 = 28 Mar): the grid always counts from its anchor.
        assertEq(CivilDate.addMonths(2025, 2, 28, 1), _day(2025, 3, 28));
    }

    function test_addMonths_NoDriftOver24Steps() public pure {
        // 2025-01-31 + k months, k = 0..24: the last day of every month, never the 28th after February.
        uint8[25] memory day =
            [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31];
        for (uint256 k; k <= 24; ++k) {
            uint256 y = 2025 + k / 12;
            uint256 m = k % 12 + 1;
            assertEq(CivilDate.addMonths(2025, 1, 31, k), _day(y, m, day[k]), vm.toString(k));
        }
    }

    function test_monthsBetween() public pure {
        assertEq(CivilDate.monthsBetween(2025, 1, _day(2025, 1, 31)), 0);
        assertEq(CivilDate.monthsBetween(2025, 1, _day(2025, 2, 1)), 1);
        assertEq(CivilDate.monthsBetween(2025, 11, _time(2027, 2, 28, 23, 59)), 15);
    }

    function testFuzz_addMonths_MatchesModel(uint256 seed) public pure {
        uint256 y = 1970 + _rand(seed, 1) % 531; // 1970..2500
        uint256 m = 1 + _rand(seed, 2) % 12;
        uint256 d = 1 + _rand(seed, 3) % _monthLength(y, m);
        uint256 months = _rand(seed, 4) % 1201; // up to 100 years
        assertEq(CivilDate.addMonths(y, m, d, months), _modelAddMonths(y, m, d, months));
    }

    function testFuzz_civil_RoundTripAnyDay(uint256 n) public pure {
        n = bound(n, 0, 2_932_896); // 1970-01-01 .. 9999-12-31
        (uint256 y, uint256 m, uint256 d) = CivilDate.civilFromDays(n);
        assertTrue(CivilDate.isValid(y, m, d));
        assertEq(CivilDate.daysFromCivil(y, m, d), n);
    }

    // ------------------------------------------------------------------ calendars

    function _cal(uint8 periodMonths, bool anniversary, uint8 yearMonth, uint8 yearDay)
        private
        pure
        returns (ILicenceRegistry.Calendar memory)
    {
        return ILicenceRegistry.Calendar({
            periodMonths: periodMonths,
            anniversary: anniversary,
            yearMonth: yearMonth,
            yearDay: yearDay,
            dueDays: 30,
            interestBps: 0,
            reserveBps: 0,
            reservePeriods: 0,
            auditThresholdBps: 0, fxRule: 0, fxSource: bytes16(0)
        });
    }

    struct PeriodExample {
        string label;
        uint64 start;
        uint32 periodSeconds;
        ILicenceRegistry.Calendar calendar;
        uint256 period;
        uint64 from;
        uint64 to;
    }

    struct YearExample {
        string label;
        uint64 start;
        ILicenceRegistry.Calendar calendar;
        uint256 year;
        uint64 from;
        uint64 to;
        uint64 fullLength;
    }

    /// @dev The same rows as PERIOD_EXAMPLES in tests/python/chain/test_calendar.py.
    function _periodExamples() private pure returns (PeriodExample[] memory e) {
        e = new PeriodExample[](27);
        uint256 i;
        // calendar quarters from 2025-02-10: period 0 is cut at the start
        ILicenceRegistry.Calendar memory c = _cal(3, false, 0, 0);
        uint64 s = _day(2025, 2, 10);
        e[i++] = PeriodExample("quarters p0", s, 0, c, 0, s, _day(2025, 4, 1));
        e[i++] = PeriodExample("quarters p1", s, 0, c, 1, _day(2025, 4, 1), _day(2025, 7, 1));
        e[i++] = PeriodExample("quarters p3", s, 0, c, 3, _day(2025, 10, 1), _day(2026, 1, 1));
        e[i++] = PeriodExample("quarters p4", s, 0, c, 4, _day(2026, 1, 1), _day(2026, 4, 1));
        // calendar months from 2024-02-15 09:30
        c = _cal(1, false, 0, 0);
        s = _time(2024, 2, 15, 9, 30);
        e[i++] = PeriodExample("months p0", s, 0, c, 0, s, _day(2024, 3, 1));
        e[i++] = PeriodExample("months p1", s, 0, c, 1, _day(2024, 3, 1), _day(2024, 4, 1));
        e[i++] = PeriodExample("months p11", s, 0, c, 11, _day(2025, 1, 1), _day(2025, 2, 1));
        // calendar halves from 2025-08-20
        c = _cal(6, false, 0, 0);
        s = _day(2025, 8, 20);
        e[i++] = PeriodExample("halves p0", s, 0, c, 0, s, _day(2026, 1, 1));
        e[i++] = PeriodExample("halves p1", s, 0, c, 1, _day(2026, 1, 1), _day(2026, 7, 1));
        // calendar years from 2025-03-01
        c = _cal(12, false, 0, 0);
        s = _day(2025, 3, 1);
        e[i++] = PeriodExample("years p0", s, 0, c, 0, s, _day(2026, 1, 1));
        e[i++] = PeriodExample("years p1", s, 0, c, 1, _day(2026, 1, 1), _day(2027, 1, 1));
        // 2-month and 4-month calendar grids from 2025-02-10
        c = _cal(2, false, 0, 0);
        s = _day(2025, 2, 10);
        e[i++] = PeriodExample("2 months p0", s, 0, c, 0, s, _day(2025, 3, 1));
        e[i++] = PeriodExample("2 months p1", s, 0, c, 1, _day(2025, 3, 1), _day(2025, 5, 1));
        c = _cal(4, false, 0, 0);
        e[i++] = PeriodExample("4 months p0", s, 0, c, 0, s, _day(2025, 5, 1));
        e[i++] = PeriodExample("4 months p2", s, 0, c, 2, _day(2025, 9, 1), _day(2026, 1, 1));
        // anniversary quarters from 2025-01-31: the end-of-month rule, no drift
        c = _cal(3, true, 0, 0);
        s = _day(2025, 1, 31);
        e[i++] = PeriodExample("anniversary quarters p0", s, 0, c, 0, s, _day(2025, 4, 30));
        e[i++] = PeriodExample("anniversary quarters p1", s, 0, c, 1, _day(2025, 4, 30), _day(2025, 7, 31));
        e[i++] = PeriodExample("anniversary quarters p3", s, 0, c, 3, _day(2025, 10, 31), _day(2026, 1, 31));
        e[i++] = PeriodExample("anniversary quarters p4", s, 0, c, 4, _day(2026, 1, 31), _day(2026, 4, 30));
        // anniversary months from 2024-01-31
        c = _cal(1, true, 0, 0);
        s = _day(2024, 1, 31);
        e[i++] = PeriodExample("anniversary months p1", s, 0, c, 1, _day(2024, 2, 29), _day(2024, 3, 31));
        e[i++] = PeriodExample("anniversary months p12", s, 0, c, 12, _day(2025, 1, 31), _day(2025, 2, 28));
        e[i++] = PeriodExample("anniversary months p24", s, 0, c, 24, _day(2026, 1, 31), _day(2026, 2, 28));
        // anniversary months from 2025-01-31 15:00: grid dates are at 00:00
        s = _time(2025, 1, 31, 15, 0);
        e[i++] = PeriodExample("anniversary months at 15:00 p0", s, 0, c, 0, s, _day(2025, 2, 28));
        // anniversary 18 months from 2024-08-31
        c = _cal(18, true, 0, 0);
        s = _day(2024, 8, 31);
        e[i++] = PeriodExample("anniversary 18 months p0", s, 0, c, 0, s, _day(2026, 2, 28));
        e[i++] = PeriodExample("anniversary 18 months p1", s, 0, c, 1, _day(2026, 2, 28), _day(2027, 8, 31));
        // fixed 90-day periods from 2023-11-15
        c = _cal(0, false, 0, 0);
        s = _day(2023, 11, 15);
        e[i++] = PeriodExample("90 days p0", s, 90 days, c, 0, s, _day(2024, 2, 13));
        e[i++] = PeriodExample("90 days p3", s, 90 days, c, 3, _day(2024, 8, 11), _day(2024, 11, 9));
        assertEq(i, e.length);
    }

    /// @dev The same rows as YEAR_EXAMPLES in tests/python/chain/test_calendar.py.
    function _yearExamples() private pure returns (YearExample[] memory e) {
        e = new YearExample[](18);
        uint256 i;
        // anchor 0/0: contract years from the start's date and time of day
        ILicenceRegistry.Calendar memory c = _cal(3, false, 0, 0);
        uint64 s = _time(2025, 2, 10, 13, 45);
        e[i++] = YearExample("start 13:45 y0", s, c, 0, s, _time(2026, 2, 10, 13, 45), 365 days);
        e[i++] =
            YearExample("start 13:45 y2", s, c, 2, _time(2027, 2, 10, 13, 45), _time(2028, 2, 10, 13, 45), 365 days);
        e[i++] =
            YearExample("start 13:45 y3", s, c, 3, _time(2028, 2, 10, 13, 45), _time(2029, 2, 10, 13, 45), 366 days);
        // anchor 1/1: calendar years, the first one short
        c = _cal(3, false, 1, 1);
        s = _day(2025, 2, 10);
        e[i++] = YearExample("calendar y0", s, c, 0, s, _day(2026, 1, 1), 365 days);
        e[i++] = YearExample("calendar y1", s, c, 1, _day(2026, 1, 1), _day(2027, 1, 1), 365 days);
        e[i++] = YearExample("calendar y3", s, c, 3, _day(2028, 1, 1), _day(2029, 1, 1), 366 days);
        // anchor 29 February: 28 February in common years
        c = _cal(3, false, 2, 29);
        s = _day(2025, 6, 1);
        e[i++] = YearExample("29 Feb y0", s, c, 0, s, _day(2026, 2, 28), 365 days);
        e[i++] = YearExample("29 Feb y1", s, c, 1, _day(2026, 2, 28), _day(2027, 2, 28), 365 days);
        e[i++] = YearExample("29 Feb y2", s, c, 2, _day(2027, 2, 28), _day(2028, 2, 29), 366 days);
        e[i++] = YearExample("29 Feb y3", s, c, 3, _day(2028, 2, 29), _day(2029, 2, 28), 365 days);
        // anchor 0/0 from 2024-02-29 10:00
        c = _cal(1, true, 0, 0);
        s = _time(2024, 2, 29, 10, 0);
        e[i++] = YearExample("from 29 Feb y0", s, c, 0, s, _time(2025, 2, 28, 10, 0), 365 days);
        e[i++] = YearExample("from 29 Feb y3", s, c, 3, _time(2027, 2, 28, 10, 0), _time(2028, 2, 29, 10, 0), 366 days);
        e[i++] = YearExample("from 29 Feb y4", s, c, 4, _time(2028, 2, 29, 10, 0), _time(2029, 2, 28, 10, 0), 365 days);
        // anchor 07-01, start on the anchor
        c = _cal(0, false, 7, 1);
        s = _day(2025, 7, 1);
        e[i++] = YearExample("07-01 y0", s, c, 0, s, _day(2026, 7, 1), 365 days);
        e[i++] = YearExample("07-01 y2", s, c, 2, _day(2027, 7, 1), _day(2028, 7, 1), 366 days);
        // anchor 04-06: a short first year in a 365-day and in a 366-day step
        c = _cal(3, false, 4, 6);
        s = _day(2025, 2, 10);
        e[i++] = YearExample("04-06 y0", s, c, 0, s, _day(2025, 4, 6), 365 days);
        e[i++] = YearExample("04-06 y1", s, c, 1, _day(2025, 4, 6), _day(2026, 4, 6), 365 days);
        s = _day(2024, 2, 10);
        e[i++] = YearExample("04-06 from 2024 y0", s, c, 0, s, _day(2024, 4, 6), 366 days);
        assertEq(i, e.length);
    }

    function test_periodExamples() public pure {
        PeriodExample[] memory e = _periodExamples();
        for (uint256 i; i < e.length; ++i) {
            (uint64 from, uint64 to) =
                LicenceCalendar.periodBounds(e[i].start, e[i].periodSeconds, e[i].calendar, e[i].period);
            assertEq(from, e[i].from, string.concat(e[i].label, ": from"));
            assertEq(to, e[i].to, string.concat(e[i].label, ": to"));
            assertEq(
                LicenceCalendar.periodOf(e[i].start, e[i].periodSeconds, e[i].calendar, from), e[i].period, e[i].label
            );
            assertEq(
                LicenceCalendar.periodOf(e[i].start, e[i].periodSeconds, e[i].calendar, to - 1), e[i].period, e[i].label
            );
            assertEq(
                LicenceCalendar.periodOf(e[i].start, e[i].periodSeconds, e[i].calendar, to), e[i].period + 1, e[i].label
            );
        }
    }

    function test_yearExamples() public pure {
        YearExample[] memory e = _yearExamples();
        for (uint256 i; i < e.length; ++i) {
            (uint64 from, uint64 to, uint64 fullLength) =
                LicenceCalendar.yearBounds(e[i].start, e[i].calendar, e[i].year);
            assertEq(from, e[i].from, string.concat(e[i].label, ": from"));
            assertEq(to, e[i].to, string.concat(e[i].label, ": to"));
            assertEq(fullLength, e[i].fullLength, string.concat(e[i].label, ": fullLength"));
            assertEq(LicenceCalendar.yearOf(e[i].start, e[i].calendar, from), e[i].year, e[i].label);
            assertEq(LicenceCalendar.yearOf(e[i].start, e[i].calendar, to - 1), e[i].year, e[i].label);
            assertEq(LicenceCalendar.yearOf(e[i].start, e[i].calendar, to), e[i].year + 1, e[i].label);
        }
    }

    /// @dev periodOf/yearOf take a timestamp at or after the start: callers check it. Before the
    /// start, fixed and anniversary periods and start-anchored years underflow (revert), while
    /// a calendar grid or a fixed year anchor answers 0 when the grid's first period or year
    /// (which begins before the start) holds the timestamp.
    function test_periodOf_BeforeStart() public {
        uint64 s = _day(2025, 2, 10);
        vm.expectRevert();
        harness.periodOf(s, 90 days, _cal(0, false, 0, 0), s - 1);
        vm.expectRevert();
        harness.periodOf(s, 0, _cal(3, true, 0, 0), s - 1);
        vm.expectRevert();
        harness.yearOf(s, _cal(3, false, 0, 0), s - 1);
        assertEq(harness.periodOf(s, 0, _cal(3, false, 0, 0), s - 1), 0, "2025-02-09 is in grid quarter 2025-Q1");
        assertEq(harness.yearOf(s, _cal(3, false, 1, 1), s - 1), 0, "2025-02-09 is in grid year 2025");
        vm.expectRevert();
        harness.periodOf(s, 0, _cal(3, false, 0, 0), _day(2024, 12, 31));
        vm.expectRevert();
        harness.yearOf(s, _cal(3, false, 1, 1), _day(2024, 12, 31));
    }

    /// @dev The year grid's anchor is the last anniversary at or before the start: for a start in
    /// 1970 before the anchor date that is in 1969, before CivilDate's epoch, so it reverts.
    function test_yearBounds_AnchorBefore1970Reverts() public {
        vm.expectRevert();
        harness.yearBounds(_day(1970, 3, 1), _cal(3, false, 7, 1), 0);
        (uint64 from, uint64 to,) = harness.yearBounds(_day(1970, 7, 1), _cal(3, false, 7, 1), 0);
        assertEq(from, _day(1970, 7, 1));
        assertEq(to, _day(1971, 7, 1));
    }

    // ------------------------------------------------------------------ calendar properties

    function _rand(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// @dev A valid calendar (as the registry accepts them) and its periodSeconds.
    function _randomCalendar(uint256 seed)
        private
        pure
        returns (ILicenceRegistry.Calendar memory c, uint32 periodSeconds)
    {
        uint256 kind = _rand(seed, 1) % 3;
        if (kind == 0) {
            periodSeconds = uint32(1 hours + _rand(seed, 2) % 400 days);
        } else if (kind == 1) {
            uint8[6] memory divisors = [1, 2, 3, 4, 6, 12];
            c.periodMonths = divisors[_rand(seed, 2) % 6];
        } else {
            c.periodMonths = uint8(1 + _rand(seed, 2) % 60);
            c.anniversary = true;
        }
        if (_rand(seed, 3) % 3 != 0) {
            c.yearMonth = uint8(1 + _rand(seed, 4) % 12);
            c.yearDay = uint8(1 + _rand(seed, 5) % _monthLength(2000, c.yearMonth)); // 29 Feb included
        }
        c.dueDays = uint16(1 + _rand(seed, 6) % 365);
        c.interestBps = uint16(_rand(seed, 7) % 10_001);
    }

    function _randomStartAndTime(uint256 seed) private pure returns (uint64 start, uint256 t) {
        // 1971-01-01 .. 2200-01-01 (a year anchor before 1970 reverts, see above)
        start = uint64(31_536_000 + _rand(seed, 8) % (7_258_118_400 - 31_536_000));
        if (_rand(seed, 9) % 2 == 0) start -= start % uint64(DAY); // half of them at 00:00
        uint256 r = _rand(seed, 10);
        // within a day, a year or a century of the start
        t = start + (r % 3 == 0 ? (r >> 8) % DAY : r % 3 == 1 ? (r >> 8) % 400 days : (r >> 8) % 36_600 days);
    }

    function testFuzz_periods_ContainAndAbut(uint256 seed) public pure {
        (ILicenceRegistry.Calendar memory c, uint32 ps) = _randomCalendar(seed);
        (uint64 start, uint256 t) = _randomStartAndTime(seed);
        uint256 p = LicenceCalendar.periodOf(start, ps, c, t);
        (uint64 from, uint64 to) = LicenceCalendar.periodBounds(start, ps, c, p);
        assertLe(from, t, "from <= t");
        assertGt(to, t, "t < to");
        (uint64 nextFrom, uint64 nextTo) = LicenceCalendar.periodBounds(start, ps, c, p + 1);
        assertEq(nextFrom, to, "abuts the next");
        assertGt(nextTo, nextFrom, "next not empty");
        assertEq(LicenceCalendar.periodOf(start, ps, c, to), p + 1, "periodOf(to)");
        if (p == 0) {
            assertEq(from, start, "period 0 starts at the start");
        } else {
            (, uint64 previousTo) = LicenceCalendar.periodBounds(start, ps, c, p - 1);
            assertEq(previousTo, from, "abuts the previous");
        }
        if (c.periodMonths == 0) {
            assertEq(to - from, ps, "fixed length");
            return;
        }
        // `to` is a grid date: anchor + (grid index + 1) steps, its day cut to the month's length
        (uint256 sy, uint256 sm, uint256 sd) = CivilDate.dateOf(start);
        (, uint256 tm, uint256 td) = CivilDate.dateOf(to);
        assertEq(to % DAY, 0, "grid dates at 00:00");
        if (c.anniversary) {
            assertEq(_monthIndex(to), sy * 12 + sm - 1 + (p + 1) * c.periodMonths, "anniversary month");
            uint256 last = _monthLength(_yearOf(to), tm);
            assertEq(td, sd < last ? sd : last, "anniversary day");
        } else {
            assertEq(td, 1, "calendar periods end on a 1st");
            assertEq((tm - 1) % c.periodMonths, 0, "calendar grid month");
            assertEq(_monthIndex(nextTo) - _monthIndex(to), c.periodMonths, "calendar step");
            assertLe(_monthIndex(to) - _monthIndex(from), c.periodMonths, "period 0 is cut, never longer");
        }
    }

    function _yearOf(uint256 timestamp) private pure returns (uint256 y) {
        (y,,) = CivilDate.dateOf(timestamp);
    }

    function testFuzz_years_ContainAndAbut(uint256 seed) public pure {
        (ILicenceRegistry.Calendar memory c,) = _randomCalendar(seed);
        (uint64 start, uint256 t) = _randomStartAndTime(seed);
        uint256 y = LicenceCalendar.yearOf(start, c, t);
        (uint64 from, uint64 to, uint64 fullLength) = LicenceCalendar.yearBounds(start, c, y);
        assertLe(from, t, "from <= t");
        assertGt(to, t, "t < to");
        assertTrue(fullLength == 365 days || fullLength == 366 days, "fullLength 365 or 366 days");
        (uint64 nextFrom,, uint64 nextFull) = LicenceCalendar.yearBounds(start, c, y + 1);
        assertEq(nextFrom, to, "abuts the next");
        assertTrue(nextFull == 365 days || nextFull == 366 days, "next fullLength");
        assertEq(LicenceCalendar.yearOf(start, c, to), y + 1, "yearOf(to)");
        if (y == 0) {
            assertEq(from, start, "year 0 starts at the start");
            assertLe(to - fullLength, start, "year 0's grid step starts at or before the start");
        } else {
            assertEq(to - from, fullLength, "whole year");
            (, uint64 previousTo,) = LicenceCalendar.yearBounds(start, c, y - 1);
            assertEq(previousTo, from, "abuts the previous");
        }
        _checkAnniversary(start, c, to, fullLength);
    }

    /// @dev `to` is an anniversary of the year anchor, `fullLength` after the previous one.
    function _checkAnniversary(uint64 start, ILicenceRegistry.Calendar memory c, uint64 to, uint64 fullLength)
        private
        pure
    {
        (uint256 ty, uint256 tm, uint256 td) = CivilDate.dateOf(to);
        (, uint256 sm, uint256 sd) = CivilDate.dateOf(start);
        uint256 anchorMonth = c.yearMonth == 0 ? sm : c.yearMonth;
        uint256 anchorDay = c.yearMonth == 0 ? sd : c.yearDay;
        uint256 last = _monthLength(ty, tm);
        assertEq(tm, anchorMonth, "anniversary month");
        assertEq(td, anchorDay < last ? anchorDay : last, "anniversary day");
        assertEq(to % DAY, c.yearMonth == 0 ? start % DAY : 0, "time of day");
        // the full length counts the days of the grid step (a 29 February in it makes 366)
        uint256 stepFrom = to - fullLength;
        (uint256 fy, uint256 fm, uint256 fd) = CivilDate.dateOf(stepFrom);
        assertEq(
            _modelDays(ty, tm, td) - _modelDays(fy, fm, fd), fullLength / DAY, "fullLength = days between anniversaries"
        );
    }
}
