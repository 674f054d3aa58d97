// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {CivilDate} from "./libraries/CivilDate.sol";
import {LicenceCalendar} from "./libraries/LicenceCalendar.sol";

/// @title LicenceClock: a licence's reporting periods and contract years, as a contract
/// @notice Stateless: every function is LicenceCalendar's rule over the values it is given. The
/// registry deploys it and the ledger asks it, so the calendar's code lives once, outside the
/// two contracts (both would otherwise pass the 24,576-byte EIP-170 limit of public chains).
/// It also checks a term's calendar and the clauses that run by it when the registry registers
/// or renews a licence, reverting with the registry's errors.
contract LicenceClock {
    uint16 internal constant BPS = 10_000;
    uint16 public constant MAX_DUE_DAYS = 365;
    /// @notice Anniversary periods may be up to five years long.
    uint8 public constant MAX_ANNIVERSARY_MONTHS = 60;
    /// @notice 9000-01-01 00:00 UTC: terms and their sell-offs end by it, so every boundary of the
    /// term, its sell-off and its last period stays inside the date library's range (years up to 9999).
    uint64 public constant MAX_TIMESTAMP = 221_845_392_000;
    /// @notice At most half of a royalty may be held back against returns ...
    uint16 public constant MAX_RESERVE_BPS = 5_000;
    /// @notice ... and for at most 24 periods (two years of months, six of quarters).
    uint8 public constant MAX_RESERVE_PERIODS = 24;
    /// @notice The last conversion rule (fixed contractual rates, LicenceFx); see ILicenceRegistry.Calendar.fxRule.
    uint8 public constant MAX_FX_RULE = 4;

    /// @notice Reverts unless the date rule names real dates and periods every party can compute
    /// alike, and its clauses (due days, interest, reserve, audit threshold) are in range.
    function validateTerm(ILicenceRegistry.Term calldata term) external pure {
        ILicenceRegistry.Calendar calldata calendar = term.calendar;
        uint8 months = calendar.periodMonths;
        if (months == 0) {
            if (term.periodSeconds == 0) revert ILicenceRegistry.PeriodLengthZero();
        } else {
            if (term.periodSeconds != 0) revert ILicenceRegistry.PeriodSecondsWithMonths(term.periodSeconds);
            bool fits = calendar.anniversary ? months <= MAX_ANNIVERSARY_MONTHS : 12 % months == 0;
            if (!fits) revert ILicenceRegistry.PeriodMonthsInvalid(months, calendar.anniversary);
            // Month-based periods and years begin at 00:00 UTC of a date.
            if (term.start % 1 days != 0) revert ILicenceRegistry.StartNotMidnight(term.start);
        }
        (uint8 yearMonth, uint8 yearDay) = (calendar.yearMonth, calendar.yearDay);
        // The anniversary must be a day of some year: 29 February is (it falls on the 28th in
        // common years), 31 February or 31 April is not.
        if ((yearMonth != 0 || yearDay != 0) && !CivilDate.isValid(2000, yearMonth, yearDay)) {
            revert ILicenceRegistry.InvalidYearStart(yearMonth, yearDay);
        }
        if (calendar.dueDays == 0 || calendar.dueDays > MAX_DUE_DAYS) {
            revert ILicenceRegistry.DueDaysOutOfRange(calendar.dueDays);
        }
        if (calendar.interestBps > BPS) revert ILicenceRegistry.InterestRateTooHigh(calendar.interestBps);
        if (calendar.reserveBps > MAX_RESERVE_BPS) revert ILicenceRegistry.ReserveTooHigh(calendar.reserveBps);
        // A reserve needs a release date, and release periods need a reserve.
        bool periodsFit = calendar.reserveBps == 0
            ? calendar.reservePeriods == 0
            : calendar.reservePeriods >= 1 && calendar.reservePeriods <= MAX_RESERVE_PERIODS;
        if (!periodsFit) {
            revert ILicenceRegistry.ReservePeriodsOutOfRange(calendar.reserveBps, calendar.reservePeriods);
        }
        if (calendar.auditThresholdBps > BPS) {
            revert ILicenceRegistry.AuditThresholdTooHigh(calendar.auditThresholdBps);
        }
        if (calendar.fxRule > MAX_FX_RULE || (calendar.fxRule == 0) != (calendar.fxSource == bytes16(0))) {
            revert ILicenceRegistry.FxClauseInvalid(calendar.fxRule, calendar.fxSource);
        }
        validateEnd(term.end, term.sellOffDays);
    }

    /// @notice Reverts unless a term (or a renewal) and its sell-off end by MAX_TIMESTAMP. The date
    /// library counts from 1970 up to 9999, so the last period (at most 2**32 seconds, 136 years,
    /// or 60 months) ends inside it, and contract years stay far below the uint16 a settlement
    /// records.
    function validateEnd(uint64 end, uint32 sellOffDays) public pure {
        if (end > MAX_TIMESTAMP) revert ILicenceRegistry.TermEndTooLate(end);
        uint64 sellOffEnd = end + uint64(sellOffDays) * 1 days;
        if (sellOffEnd > MAX_TIMESTAMP) revert ILicenceRegistry.TermEndTooLate(sellOffEnd);
    }

    /// @notice First second and first second after period `period`, and the contract years of
    /// its first and last second.
    function reportWindow(
        uint64 start,
        uint32 periodSeconds,
        ILicenceRegistry.Calendar calldata calendar,
        uint256 period
    ) external pure returns (uint64 from, uint64 to, uint256 firstYear, uint256 lastYear) {
        (from, to) = LicenceCalendar.periodBounds(start, periodSeconds, calendar, period);
        (firstYear, lastYear) = LicenceCalendar.yearsOf(start, calendar, from, to);
    }

    function periodBounds(
        uint64 start,
        uint32 periodSeconds,
        ILicenceRegistry.Calendar calldata calendar,
        uint256 period
    ) external pure returns (uint64 from, uint64 to) {
        return LicenceCalendar.periodBounds(start, periodSeconds, calendar, period);
    }

    function periodOf(
        uint64 start,
        uint32 periodSeconds,
        ILicenceRegistry.Calendar calldata calendar,
        uint256 timestamp
    ) external pure returns (uint256) {
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
