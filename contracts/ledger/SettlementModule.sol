// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {LicenceClock} from "../LicenceClock.sol";
import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";
import {RoyaltyMath} from "../libraries/RoyaltyMath.sol";
import {LicenceCalendar} from "../libraries/LicenceCalendar.sol";
import {LedgerCore} from "./LedgerCore.sol";

/// @title SettlementModule: settling signed reports and charging guarantee shortfalls
/// @notice The ledger's settlement code, deployed by the ledger and run only by its DELEGATECALL
/// (in the ledger's storage, with the ledger's pause and reentrancy checks done): a call made
/// to this contract itself is refused.
contract SettlementModule is LedgerCore {
    using SafeCast for uint256;

    error DirectCall();

    address private immutable _self;

    constructor(ILicenceRegistry registry_, LicenceClock clock_) LedgerCore(registry_, clock_) {
        _self = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == _self) revert DirectCall();
        _;
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL, after its pause and reentrancy checks.
    function settleReports(IRoyaltyLedger.Report[] calldata reports, bytes[][] calldata signatures)
        external
        onlyDelegated
        returns (uint256[] memory settlementIds)
    {
        if (reports.length == 0) revert IRoyaltyLedger.EmptyBatch();
        if (reports.length != signatures.length) revert IRoyaltyLedger.ReportsAndSignaturesMismatch(reports.length, signatures.length);
        settlementIds = new uint256[](reports.length);
        for (uint256 i; i < reports.length; ++i) {
            settlementIds[i] = _settleReport(reports[i], signatures[i]);
        }
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL, after its pause and reentrancy checks.
    function chargeMinimumGuarantee(uint256 licenceId, uint32 year)
        external
        onlyDelegated
        returns (uint256 settlementId)
    {
        _releaseMatured(licenceId, _openAccount(licenceId));
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(licenceId);
        if (year > type(uint16).max) revert IRoyaltyLedger.YearOutsideTerm(licenceId, year);
        (uint64 yearStart, uint64 yearEnd, uint64 fullLength) =
            LicenceCalendar.yearBounds(context.start, context.calendar, year);
        if (yearStart >= context.effectiveEnd) revert IRoyaltyLedger.YearOutsideTerm(licenceId, year);
        uint64 dueAt = yearEnd + uint64(context.calendar.dueDays) * 1 days;
        if (yearEnd > context.effectiveEnd) yearEnd = context.effectiveEnd;
        if (block.timestamp < yearEnd) revert IRoyaltyLedger.YearNotEnded(licenceId, year, yearEnd);
        Year storage record = _s().yearTotals[licenceId][year];
        if (record.guaranteeCharged) revert IRoyaltyLedger.GuaranteeAlreadyCharged(licenceId, year);
        // The year's royalty is only known once none of its settlements can still change.
        if (record.open != 0) revert IRoyaltyLedger.YearHasOpenSettlements(licenceId, year, record.open);
        // A year cut short (a first year that starts after the anniversary, termination, expiry)
        // owes the guarantee pro rata to its length in the 365- or 366-day year (rounded down).
        uint256 guarantee =
            uint256(registry.minimumGuaranteeAt(licenceId, yearStart)) * (yearEnd - yearStart) / fullLength;
        if (record.royalty >= guarantee) revert IRoyaltyLedger.NoShortfall(licenceId, year, record.royalty, guarantee);
        uint256 shortfall = guarantee - record.royalty;
        record.guaranteeCharged = true;
        record.guaranteeCredit = shortfall.toUint128();
        _s().accounts[licenceId].guaranteeCharged = true;
        settlementId = _createSettlement(
            Draft({
                licenceId: licenceId,
                period: year,
                year: year,
                yearSpan: 0,
                kind: IRoyaltyLedger.Kind.MinimumGuarantee,
                royalty: shortfall,
                credit: 0,
                disputeWindow: context.disputeWindow,
                dueAt: dueAt
            })
        );
    }

    function _settleReport(IRoyaltyLedger.Report calldata report, bytes[] calldata signatures) private returns (uint256 id) {
        Account storage account = _openAccount(report.licenceId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(report.licenceId);
        (uint64 periodStart, uint64 periodEnd, uint256 firstYear, uint256 lastYear) = _checkReport(report, context, account);
        Draft memory draft = _reportDraft(report, context, periodEnd, firstYear, lastYear);
        (ILicenceRegistry.Priced memory priced, uint256 guaranteeCredit) =
            _price(report, signatures, periodStart, draft.year, draft.year + draft.yearSpan);
        draft.royalty = priced.royalty > 0 ? uint256(priced.royalty) : 0;
        draft.credit = guaranteeCredit;
        account.lastSequence = report.sequence;
        id = _createSettlement(draft);
        if (priced.royalty < 0) {
            // Never paid out to the licensee, never taken back from payees: offset against its
            // next royalties of this licence.
            uint256 carried = uint256(-priced.royalty);
            account.credit += carried.toUint128();
            emit IRoyaltyLedger.CreditCarried(id, report.licenceId, carried, account.credit);
        }
        if (context.disputeWindow != 0) {
            for (uint32 y = draft.year; y <= draft.year + draft.yearSpan; ++y) {
                ++_s().yearTotals[report.licenceId][y].open;
            }
        }
        if (report.corrects != 0) _s().latestAdjustment[report.licenceId][report.period] = id;
        else _s().settledPeriod[report.licenceId][report.period] = id;
        _emitReport(id, report, priced, draft.year);
    }
    /// @dev The settlement a report makes, before pricing: its contract years, kind and due date.
    function _reportDraft(
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementContext memory context,
        uint64 periodEnd,
        uint256 firstYear,
        uint256 lastYear
    ) private view returns (Draft memory draft) {
        bool isAdjustment = report.corrects != 0;
        uint64 dueAt = periodEnd + uint64(context.calendar.dueDays) * 1 days;
        // A correction is due when it settles: interest on it runs only from then.
        if (isAdjustment && dueAt < block.timestamp) dueAt = uint64(block.timestamp);
        draft.licenceId = report.licenceId;
        draft.period = report.period;
        draft.year = firstYear.toUint16();
        draft.yearSpan = uint256(lastYear - firstYear).toUint8();
        draft.kind = isAdjustment ? IRoyaltyLedger.Kind.Adjustment : IRoyaltyLedger.Kind.Report;
        draft.disputeWindow = context.disputeWindow;
        draft.dueAt = dueAt;
    }
    /// @dev Has the registry check the oracles' signatures and price the report with the schedule
    /// in force at its period's start, each contract year of its sales at that year's tier
    /// position, then updates each year's totals (returns lower them, never below zero);
    /// `guaranteeCredit` is the part of a positive royalty that guarantee shortfalls already
    /// charged for those years cover.
    function _price(
        IRoyaltyLedger.Report calldata report,
        bytes[] calldata signatures,
        uint64 periodStart,
        uint32 firstYear,
        uint32 lastYear
    ) private returns (ILicenceRegistry.Priced memory priced, uint256 guaranteeCredit) {
        mapping(uint32 year => Year) storage yearRecords = _s().yearTotals[report.licenceId];
        uint256[] memory cumulative = new uint256[](lastYear - firstYear + 1);
        for (uint256 j; j < cumulative.length; ++j) {
            cumulative[j] = yearRecords[uint32(firstYear + j)].tierNet;
        }
        (ILicenceRegistry.Schedule memory schedule, ILicenceRegistry.Scope memory scope) =
            registry.verifyReport(report, signatures, periodStart);
        priced = RoyaltyMath.price(schedule, scope, report, firstYear, cumulative);
        // The credit can cover at most what the report charges in all; a year's credit is only
        // read (a cold slot) once some guarantee was charged.
        uint256 creditable = priced.royalty > 0 ? uint256(priced.royalty) : 0;
        if (!_s().accounts[report.licenceId].guaranteeCharged) creditable = 0;
        for (uint256 j; j < cumulative.length; ++j) {
            uint256 used = _addToYear(
                yearRecords[uint32(firstYear + j)], priced.yearRoyalty[j], priced.yearTierNet[j], creditable
            );
            creditable -= used;
            guaranteeCredit += used;
        }
    }

    /// @dev Adds a report's part of one contract year to the year's totals; returns the part of
    /// it (at most `creditable`) that a guarantee shortfall already charged for the year covers.
    function _addToYear(Year storage record, int256 royalty, int256 tierNet, uint256 creditable)
        private
        returns (uint256 used)
    {
        // Skips years the report left unchanged; a zero here decides nothing else.
        // slither-disable-next-line incorrect-equality
        if (royalty == 0 && tierNet == 0) return 0;
        if (tierNet != 0) record.tierNet = _moved(record.tierNet, tierNet);
        if (royalty != 0) record.royalty = _moved(record.royalty, royalty);
        if (royalty <= 0 || creditable == 0) return 0;
        used = record.guaranteeCredit;
        if (used == 0) return 0;
        if (uint256(royalty) < used) used = uint256(royalty);
        if (creditable < used) used = creditable;
        record.guaranteeCredit -= used.toUint128();
    }

    /// @dev `value` moved by a signed `change`, floored at zero.
    function _moved(uint128 value, int256 change) private pure returns (uint128) {
        if (change >= 0) return (uint256(value) + uint256(change)).toUint128();
        uint256 down = uint256(-change);
        return down >= value ? 0 : uint128(value - down);
    }

    function _emitReport(uint256 id, IRoyaltyLedger.Report calldata report, ILicenceRegistry.Priced memory priced, uint32 firstYear)
        private
    {
        emit IRoyaltyLedger.ReportAccepted(
            id,
            report.licenceId,
            report.sequence,
            report.linesRoot,
            report.lineCount,
            firstYear,
            priced.yearTierNet,
            priced.yearRoyalty,
            report.corrects
        );
        for (uint256 i; i < report.returned.length; ++i) {
            IRoyaltyLedger.Bucket calldata b = report.returned[i];
            emit IRoyaltyLedger.ReturnReported(id, b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions);
        }
        for (uint256 i; i < report.buckets.length; ++i) {
            IRoyaltyLedger.Bucket calldata b = report.buckets[i];
            // A bit of the scope bitmap, not a balance.
            // slither-disable-next-line incorrect-equality
            bool inScope = (priced.outOfScope >> i) & 1 == 0;
            emit IRoyaltyLedger.BucketReported(id, b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions, inScope);
            if (!inScope) emit IRoyaltyLedger.ScopeBreached(report.licenceId, id, b.territory, b.field, b.channel, b.gross);
        }
    }
    /// @dev Checks everything about a report but its signatures and buckets; returns its period.
    function _checkReport(
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementContext memory context,
        Account storage account
    ) private view returns (uint64 periodStart, uint64 periodEnd, uint256 firstYear, uint256 lastYear) {
        uint256 licenceId = report.licenceId;
        uint256 original = _s().settledPeriod[licenceId][report.period];
        if (report.corrects == 0) {
            if (original != 0) revert IRoyaltyLedger.PeriodAlreadySettled(licenceId, report.period, original);
        } else {
            // An adjustment corrects a settled period, and the period's latest settlement, so
            // each period has one original and one chain of adjustments.
            if (original == 0) revert IRoyaltyLedger.PeriodNotSettled(licenceId, report.period);
            uint256 latest = _s().latestAdjustment[licenceId][report.period];
            if (latest == 0) latest = original;
            if (report.corrects != latest) revert IRoyaltyLedger.AdjustmentNotOfLatest(licenceId, report.period, report.corrects, latest);
        }
        if (report.sequence <= account.lastSequence) {
            revert IRoyaltyLedger.StaleSequence(licenceId, report.sequence, account.lastSequence);
        }
        if (block.timestamp > report.deadline) revert IRoyaltyLedger.ReportExpired(licenceId, report.deadline, block.timestamp);
        if (report.buckets.length > MAX_BUCKETS) revert IRoyaltyLedger.TooManyBuckets(report.buckets.length, MAX_BUCKETS);
        if (report.returned.length > MAX_BUCKETS) revert IRoyaltyLedger.TooManyBuckets(report.returned.length, MAX_BUCKETS);
        // The calendar's code runs here, not by a call to the clock: one external call less per report.
        (periodStart, periodEnd) =
            LicenceCalendar.periodBounds(context.start, context.periodSeconds, context.calendar, report.period);
        (firstYear, lastYear) = LicenceCalendar.yearsOf(context.start, context.calendar, periodStart, periodEnd);
        if (periodEnd > block.timestamp) revert IRoyaltyLedger.PeriodNotEnded(licenceId, report.period, periodEnd);
        if (periodStart >= context.sellOffEnd) {
            revert IRoyaltyLedger.PeriodOutsideTerm(licenceId, report.period, periodStart, context.sellOffEnd);
        }
    }
}
