// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {LicenceCalendar} from "./libraries/LicenceCalendar.sol";

/// @title LicenceClock: a licence's reporting periods and contract years, as a contract
/// @notice Stateless: every function is LicenceCalendar's rule over the values it is given. The
/// registry deploys it and the ledger asks it, so the calendar's code lives once, outside the
/// two contracts (both would otherwise pass the 24,576-byte EIP-170 limit of public chains).
contract LicenceClock {
    /// @notice First second and first second after period `period`, and the contract years of
    /// its first and last second.
    function reportWindow(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar calldata calendar, uint256 period)
        external
        pure
        returns (uint64 from, uint64 to, uint256 firstYear, uint256 lastYear)
    {
        (from, to) = LicenceCalendar.periodBounds(start, periodSeconds, calendar, period);
        (firstYear, lastYear) = LicenceCalendar.yearsOf(start, calendar, from, to);
    }

    function periodBounds(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar calldata calendar, uint256 period)
        external
        pure
        returns (uint64 from, uint64 to)
    {
        return LicenceCalendar.periodBounds(start, periodSeconds, calendar, period);
    }

    function periodOf(uint64 start, uint32 periodSeconds, ILicenceRegistry.Calendar calldata calendar, uint256 timestamp)
        external
        pure
        returns (uint256)
    {
        return LicenceCalendar.periodOf(start, periodSeconds, calendar, timestamp);
    }

    function yearBounds(uint64 start, ILicenceRegistry.Calendar calldata calendar, uint256 year)
        external
        pure
        returns (uint64 from, uint64 to, uint64 fullLength)
    {
        return LicenceCalendar.yearBounds(start, calendar, year);
    }

    function yearOf(uint64 start, ILicenceRegistry.Calendar calldata calendar, uint256 timestamp)
        external
        pure
        returns (uint256)
    {
        return LicenceCalendar.yearOf(start, calendar, timestamp);
    }

    /// @notice The end of the period that holds `moment` (the last second before it).
    function endOfPeriodBefore(
        uint64 start,
        uint32 periodSeconds,
        ILicenceRegistry.Calendar calldata calendar,
        uint64 moment
    ) external pure returns (uint64 to) {
        uint256 period = LicenceCalendar.periodOf(start, periodSeconds, calendar, moment - 1);
        // Only the period's end matters.
        // slither-disable-next-line unused-return
        (, to) = LicenceCalendar.periodBounds(start, periodSeconds, calendar, period);
    }
}
