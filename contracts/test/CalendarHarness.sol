// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {CivilDate} from "../libraries/CivilDate.sol";
import {LicenceClock} from "../LicenceClock.sol";

/// @title CalendarHarness
/// @notice Exposes the internal CivilDate and LicenceCalendar functions as external calls, so
/// that tests can expect their reverts (dates before 1970, timestamps before the start).
contract CalendarHarness is LicenceClock {
    function daysFromCivil(uint256 year, uint256 month, uint256 day) external pure returns (uint256) {
        return CivilDate.daysFromCivil(year, month, day);
    }

    function civilFromDays(uint256 daysSinceEpoch) external pure returns (uint256, uint256, uint256) {
        return CivilDate.civilFromDays(daysSinceEpoch);
    }

    function addMonths(uint256 year, uint256 month, uint256 day, uint256 months) external pure returns (uint256) {
        return CivilDate.addMonths(year, month, day, months);
    }
}
