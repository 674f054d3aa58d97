// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Proleptic Gregorian calendar dates as whole days since 1970-01-01 (UTC)
/// @notice Days-from-civil and civil-from-days conversions (Howard Hinnant's era algorithms),
/// month arithmetic with the end-of-month rule, for years 1970 to 9999.
/// @dev Pure integer arithmetic. A date before 1970-01-01 underflows and reverts.
library CivilDate {
    uint256 internal constant DAY = 86_400;

    /// @notice Whether (year, month, day) names a real day, e.g. not 31 February or 29 February 2025.
    function isValid(uint256 year, uint256 month, uint256 day) internal pure returns (bool) {
        return year >= 1970 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
    }

    function isLeapYear(uint256 year) internal pure returns (bool) {
        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    }

    function daysInMonth(uint256 year, uint256 month) internal pure returns (uint256) {
        if (month == 2) return isLeapYear(year) ? 29 : 28;
        return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
    }

    /// @notice Days from 1970-01-01 to (year, month, day); the date must be valid.
    function daysFromCivil(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        // Years start in March, so the leap day is the last day of the (shifted) year.
        // The divisions are floors of whole eras, years and months, exact by construction: Slither's
        // divide-before-multiply (a precision check) does not apply to calendar arithmetic.
        // slither-disable-start divide-before-multiply
        uint256 y = month <= 2 ? year - 1 : year;
        uint256 sinceEraZero;
        // Every intermediate value is non-negative and far below 2**256 for a valid date (day and
        // month in range): unchecked saves ~1,000 gas a date. The last subtraction stays checked,
        // so a date before 1970 still reverts.
        unchecked {
            uint256 era = y / 400;
            uint256 yearOfEra = y - era * 400;
            uint256 shiftedMonth = month > 2 ? month - 3 : month + 9;
            uint256 dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1;
            uint256 dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
            sinceEraZero = era * 146_097 + dayOfEra;
        }
        return sinceEraZero - 719_468;
        // slither-disable-end divide-before-multiply
    }

    /// @notice The date `daysSinceEpoch` days after 1970-01-01.
    function civilFromDays(uint256 daysSinceEpoch) internal pure returns (uint256 year, uint256 month, uint256 day) {
        // Floors of whole eras, years and months, as in daysFromCivil.
        // slither-disable-start divide-before-multiply
        uint256 z = daysSinceEpoch + 719_468;
        // Each step stays within [0, z] by Hinnant's construction (a day of the era minus its
        // whole years, and so on): unchecked.
        unchecked {
            uint256 era = z / 146_097;
            uint256 dayOfEra = z - era * 146_097;
            uint256 yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
            uint256 dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
            uint256 shiftedMonth = (5 * dayOfYear + 2) / 153;
            day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1;
            month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        }
        // slither-disable-end divide-before-multiply
    }

    /// @notice The unix time of 00:00 UTC on a valid date.
    function timestampOf(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        return daysFromCivil(year, month, day) * DAY;
    }

    /// @notice The date of a unix time (its UTC day).
    function dateOf(uint256 timestamp) internal pure returns (uint256 year, uint256 month, uint256 day) {
        return civilFromDays(timestamp / DAY);
    }

    /// @notice 00:00 UTC of the day `months` months after (year, month, day). When that month is
    /// shorter, the day becomes its last day (31 January + 1 month = 28 or 29 February), and
    /// every step counts from the same anchor, so a grid of dates never drifts.
    function addMonths(uint256 year, uint256 month, uint256 day, uint256 months) internal pure returns (uint256) {
        uint256 total = year * 12 + (month - 1) + months;
        uint256 y;
        uint256 m;
        unchecked {
            y = total / 12;
            m = total % 12 + 1;
        }
        uint256 last = daysInMonth(y, m);
        return timestampOf(y, m, day < last ? day : last);
    }

    /// @notice Whole months from (fromYear, fromMonth) to the month of `timestamp`, ignoring days.
    function monthsBetween(uint256 fromYear, uint256 fromMonth, uint256 timestamp) internal pure returns (uint256) {
        (uint256 y, uint256 m,) = dateOf(timestamp);
        return (y * 12 + m) - (fromYear * 12 + fromMonth);
    }
}
