// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {CivilDate} from "./CivilDate.sol";

/// @title A licence's reporting periods and contract years, derived from its date rule
/// @notice Every party derives the same boundaries from (start, periodSeconds, calendar):
/// - fixed periods (`periodMonths` 0): period p is [start + p * periodSeconds, + periodSeconds);
/// - calendar periods (`anniversary` false): a grid of `periodMonths`-month periods from 1 January
///   of the start's year; period 0 is the grid period holding the start, cut at the start;
/// - anniversary periods: a grid of `periodMonths`-month periods from the start date;
/// - contract years: 12-month steps from the year anchor (`yearMonth`/`yearDay`, or the start's
///   date and time of day when both are 0); year 0 is the one holding the start, cut at the start.
/// A grid date is always the anchor plus k steps, its day cut to the month's length (the
/// end-of-month rule), so grids never drift: 31 January, 28/29 February, 31 March, 30 April...
library LicenceCalendar {
    uint256 internal constant DAY = 86_400;

    /// @notice First second and first second after period `period`.
    function periodBounds(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar memory calendar, uint256 period)
        internal
        pure
        returns (uint64 from, uint64 to)
    {
        if (calendar.periodMonths == 0) {
            from = uint64(start + period * periodSeconds);
            return (from, from + periodSeconds);
        }
        (uint256 y, uint256 m, uint256 d, uint256 first) = _periodAnchor(start, calendar);
        uint256 k = first + period;
        uint256 gridFrom = CivilDate.addMonths(y, m, d, k * calendar.periodMonths);
        from = uint64(gridFrom > start ? gridFrom : start);
        to = uint64(CivilDate.addMonths(y, m, d, (k + 1) * calendar.periodMonths));
    }

    /// @notice The period holding `timestamp`, which is at or after `start`.
    function periodOf(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar memory calendar, uint256 timestamp)
        internal
        pure
        returns (uint256)
    {
        if (calendar.periodMonths == 0) return (timestamp - start) / periodSeconds;
        (uint256 y, uint256 m, uint256 d, uint256 first) = _periodAnchor(start, calendar);
        // k * periodMonths rounds the months down to the grid on purpose: the period's first month.
        // slither-disable-start divide-before-multiply
        uint256 k = CivilDate.monthsBetween(y, m, timestamp) / calendar.periodMonths;
        if (CivilDate.addMonths(y, m, d, k * calendar.periodMonths) > timestamp) --k;
        // slither-disable-end divide-before-multiply
        return k - first;
    }

    /// @notice Contract year `year`: its first second (cut at the start), its first second
    /// after, and the length of the whole 12-month step it belongs to (365 or 366 days), which
    /// prorates the guarantee of a short year.
    function yearBounds(uint64 start, ILicenceRegistry.Calendar memory calendar, uint256 year)
        internal
        pure
        returns (uint64 from, uint64 to, uint64 fullLength)
    {
        (uint256 y, uint256 m, uint256 d, uint256 timeOfDay) = _yearAnchor(start, calendar);
        uint256 gridFrom = CivilDate.addMonths(y, m, d, 12 * year) + timeOfDay;
        uint256 gridTo = CivilDate.addMonths(y, m, d, 12 * (year + 1)) + timeOfDay;
        from = uint64(gridFrom > start ? gridFrom : start);
        to = uint64(gridTo);
        fullLength = uint64(gridTo - gridFrom);
    }

    /// @notice The contract year holding `timestamp`, which is at or after `start`.
    function yearOf(uint64 start, ILicenceRegistry.Calendar memory calendar, uint256 timestamp)
        internal
        pure
        returns (uint256 year)
    {
        (uint256 y, uint256 m, uint256 d, uint256 timeOfDay) = _yearAnchor(start, calendar);
        return _yearOf(y, m, d, timeOfDay, timestamp);
    }

    /// @notice The contract years of the first and the last second of [from, to), which lies at
    /// or after `start`: the years a period's sales can fall in.
    /// @dev One anchor for both; a period that ends inside the year it starts in (the common
    /// case) costs one more date step instead of a second lookup.
    function yearsOf(uint64 start, ILicenceRegistry.Calendar memory calendar, uint256 from, uint256 to)
        internal
        pure
        returns (uint256 first, uint256 last)
    {
        (uint256 y, uint256 m, uint256 d, uint256 timeOfDay) = _yearAnchor(start, calendar);
        first = _yearOf(y, m, d, timeOfDay, from);
        // Year `first` ends at the anchor plus (first + 1) steps; the period's last second is to - 1.
        last = CivilDate.addMonths(y, m, d, 12 * (first + 1)) + timeOfDay < to
            ? _yearOf(y, m, d, timeOfDay, to - 1)
            : first;
    }

    /// @dev The year of `timestamp` on the grid anchored at (y, m, d) plus `timeOfDay`.
    function _yearOf(uint256 y, uint256 m, uint256 d, uint256 timeOfDay, uint256 timestamp)
        private
        pure
        returns (uint256 year)
    {
        // Only the calendar year of the date matters here.
        // slither-disable-next-line unused-return
        (uint256 ty,,) = CivilDate.dateOf(timestamp);
        year = ty - y;
        if (CivilDate.addMonths(y, m, d, 12 * year) + timeOfDay > timestamp) --year;
    }

    /// @dev The grid's anchor date and the grid index of the period holding the start.
    function _periodAnchor(uint64 start, ILicenceRegistry.Calendar memory calendar)
        private
        pure
        returns (uint256 y, uint256 m, uint256 d, uint256 first)
    {
        (y, m, d) = CivilDate.dateOf(start);
        if (calendar.anniversary) return (y, m, d, 0);
        return (y, 1, 1, (m - 1) / calendar.periodMonths);
    }

    /// @dev The year grid's anchor: the last anniversary at or before the start.
    function _yearAnchor(uint64 start, ILicenceRegistry.Calendar memory calendar)
        private
        pure
        returns (uint256 y, uint256 m, uint256 d, uint256 timeOfDay)
    {
        (uint256 sy, uint256 sm, uint256 sd) = CivilDate.dateOf(start);
        if (calendar.yearMonth == 0) return (sy, sm, sd, start % DAY);
        m = calendar.yearMonth;
        d = calendar.yearDay;
        // The anniversary in the start's year (its day cut to the month's length, as addMonths
        // does) is at 00:00, so it is after the start exactly when its date is after the start's
        // date: compared as dates, without computing its timestamp.
        uint256 last = CivilDate.daysInMonth(sy, m);
        uint256 anniversaryDay = d < last ? d : last;
        y = m > sm || (m == sm && anniversaryDay > sd) ? sy - 1 : sy;
    }
}
