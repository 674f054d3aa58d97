// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {CivilDate} from "../libraries/CivilDate.sol";
import {LicenceCalendar} from "../libraries/LicenceCalendar.sol";

/// @title CalendarHarness
/// @notice Exposes the internal CivilDate and LicenceCalendar functions as external calls, so
/// that tests can expect their reverts (dates before 1970, timestamps before the start).
contract CalendarHarness {
    function daysFromCivil(uint256 year, uint256 month, uint256 day) external pure returns (uint256) {
        return CivilDate.daysFromCivil(year, month, day);
    }

    function civilFromDays(uint256 daysSinceEpoch) external pure returns (uint256, uint256, uint256) {
        return CivilDate.civilFromDays(daysSinceEpoch);
    }

    function addMonths(uint256 year, uint256 month, uint256 day, uint256 months) external pure returns (uint256) {
        return CivilDate.addMonths(year, month, day, months);
    }

    function periodBounds(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar memory calendar, uint256 period)
        external
        pure
        returns (uint64, uint64)
    {
        return LicenceCalendar.periodBounds(start, periodSeconds, calendar, period);
    }

    function periodOf(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar memory calendar, uint256 timestamp)
        external
        pure
        returns (uint256)
    {
        return LicenceCalendar.periodOf(start, periodSeconds, calendar, timestamp);
    }

    function yearBounds(uint64 start, ILicenceRegistry.Calendar memory calendar, uint256 year)
        external
        pure
        returns (uint64, uint64, uint64)
    {
        return LicenceCalendar.yearBounds(start, calendar, year);
    }

    function yearOf(uint64 start, ILicenceRegistry.Calendar memory calendar, uint256 timestamp)
        external
        pure
        returns (uint256)
    {
        return LicenceCalendar.yearOf(start, calendar, timestamp);
    }
}
