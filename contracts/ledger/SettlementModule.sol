// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {LicenceClock} from "../LicenceClock.sol";
import {LicenceRegistry} from "../LicenceRegistry.sol";
import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";
import {RoyaltyMath} from "../libraries/RoyaltyMath.sol";
import {LicenceCalendar} from "../libraries/LicenceCalendar.sol";
import {ReportHash} from "../libraries/ReportHash.sol";
import {ILicenceFx} from "../interfaces/ILicenceFx.sol";
import {LedgerCore} from "./LedgerCore.sol";
import {DisputeModule} from "./DisputeModule.sol";

/// @dev The ledger's view of where its modules are (RoyaltyLedger.disputeModule).
interface ILedgerModules {
    function disputeModule() external view returns (address);
}

/// @title SettlementModule: settling signed reports and charging guarantee shortfalls
/// @notice The ledger's settlement code, deployed by the ledger and run only by its DELEGATECALL
/// (in the ledger's storage, with the ledger's pause and reentrancy checks done): a call made
/// to this contract itself is refused.
contract SettlementModule is LedgerCore {
    using SafeCast for uint256;

    error DirectCall();

    address private immutable _self;
    /// @dev The registry's EIP-712 domain (LicenceRegistry, version 1), in which the oracles sign
    /// reports, for the chain this was deployed on.
    bytes32 private immutable _registryDomain;
    uint256 private immutable _chainId;
    /// @notice Checks reports' conversions, fixed contractual rates included.
    ILicenceFx public immutable fx;

    constructor(ILicenceRegistry registry_, LicenceClock clock_, ILicenceFx fx_) LedgerCore(registry_, clock_) {
        _self = address(this);
        fx = fx_;
        _chainId = block.chainid;
        _registryDomain = LicenceRegistry(address(registry_)).domainSeparator();
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
        if (reports.length != signatures.length) {
            revert IRoyaltyLedger.ReportsAndSignaturesMismatch(reports.length, signatures.length);
        }
        settlementIds = new uint256[](reports.length);
        for (uint256 i; i < reports.length; ++i) {
            settlementIds[i] = _settleReport(reports[i], signatures[i]);
        }
    }

    function _settleReport(IRoyaltyLedger.Report calldata report, bytes[] calldata signatures)
        private
        returns (uint256 id)
    {
        Account storage account = _openAccount(report.licenceId);
        address[] memory signers = _signers(report, signatures);
        ILicenceRegistry.SettlementTerms memory context = _terms(report.licenceId, signers);
        _checkSigners(signers, context.threshold);
        Draft memory draft;
        ILicenceRegistry.Priced memory priced;
        uint64 periodStart;
        uint64 periodEnd;
        {
            uint256 firstYear;
            uint256 lastYear;
            (periodStart, periodEnd, firstYear, lastYear) = _checkReport(report, context, account);
            draft = _reportDraft(report, context, periodEnd, firstYear, lastYear);
            uint256 guaranteeCredit;
            (priced, guaranteeCredit) = _price(report, context, periodStart, draft.year, draft.year + draft.yearSpan);
            draft.royalty = priced.royalty > 0 ? uint256(priced.royalty) : 0;
            draft.credit = guaranteeCredit;
        }
        account.lastSequence = report.sequence;
        Finding memory finding = Finding({reported: 0, exceeded: false});
        if (report.corrects != 0) finding = _correction(report, context, draft, priced.royalty);
        id = _createSettlement(draft);
        if (priced.royalty < 0) _carryNegative(id, report.licenceId, uint256(-priced.royalty));
        if (report.audit) _chargeAudit(id, report, context, draft, finding, priced.royalty);
        if (context.disputeWindow != 0) _openYears(report.licenceId, draft);
        if (report.corrects != 0) _s().latestAdjustment[report.licenceId][report.period] = id;
        else _recordSettled(report.licenceId, report.period, id);
        _emitReport(id, report, priced, draft.year);
        if (report.fx.length != 0) {
            _convert(id, report, context.calendar.fxRule, periodStart, periodEnd, account.token);
        }
    }

    /// @dev The registry's words (LicenceRegistry.settlementTerms) decoded by the layout of its
    /// Licence and StoredSchedule structs; a schedule version with tiers or field rates is read
    /// whole by scheduleAt (its own effective date gives that same, latest, version).
    function _terms(uint256 licenceId, address[] memory signers)
        private
        view
        returns (ILicenceRegistry.SettlementTerms memory t)
    {
        uint256[7] memory w = registry.settlementTerms(licenceId, signers);
        uint256 word = w[1];
        t.start = uint40(word);
        t.sellOffEnd = uint64(w[0]);
        t.periodSeconds = uint32(word >> 152);
        t.disputeWindow = uint32(word >> 184);
        t.threshold = uint8(word >> 216);
        t.scheduleCount = uint16(word >> 224);
        word = w[2];
        ILicenceRegistry.Calendar memory calendar = t.calendar;
        calendar.periodMonths = uint8(word);
        calendar.anniversary = uint8(word >> 8) != 0;
        calendar.yearMonth = uint8(word >> 16);
        calendar.yearDay = uint8(word >> 24);
        calendar.dueDays = uint16(word >> 32);
        calendar.interestBps = uint16(word >> 48);
        calendar.reserveBps = uint16(word >> 64);
        calendar.reservePeriods = uint8(word >> 80);
        calendar.auditThresholdBps = uint16(word >> 88);
        calendar.fxRule = uint8(word >> 104);
        calendar.fxSource = bytes16(uint128(word >> 112));
        t.scope.territories = w[3];
        t.scope.fields = uint64(w[4]);
        t.scope.channels = uint32(w[4] >> 64);
        ILicenceRegistry.Schedule memory schedule = t.schedule;
        schedule.fixedFeePerPeriod = uint128(w[5]);
        schedule.perUnit = uint128(w[5] >> 128);
        word = w[6];
        schedule.minimumGuarantee = uint128(word);
        schedule.effectiveFrom = uint40(word >> 128);
        schedule.rateBps = uint16(word >> 168);
        // Tier and field rate counts.
        if (uint16(word >> 184) != 0) t.schedule = registry.scheduleAt(licenceId, schedule.effectiveFrom);
    }

    /// @dev Has the report's conversions of sales in other currencies checked (LicenceFx) and
    /// emits each with what it converts to; the buckets already hold the converted amounts.
    function _convert(
        uint256 id,
        IRoyaltyLedger.Report calldata report,
        uint8 fxRule,
        uint64 periodStart,
        uint64 periodEnd,
        address token
    ) private {
        (uint256[] memory gross, uint256[] memory deductions) =
            fx.checkConversions(report, fxRule, periodStart, periodEnd, token);
        for (uint256 i; i < report.fx.length; ++i) {
            IRoyaltyLedger.Conversion calldata c = report.fx[i];
            emit IRoyaltyLedger.CurrencyConverted(
                id,
                c.bucket,
                c.currency,
                c.minorUnits,
                c.rateDay,
                c.rate,
                c.gross,
                c.deductions,
                gross[i],
                deductions[i]
            );
        }
    }

    /// @dev A negative period: DisputeModule.carryNegative, run in the ledger's storage (this code
    /// runs there too, by the ledger's DELEGATECALL, so `address(this)` is the ledger, which names
    /// its modules). A revert comes back as it is.
    function _carryNegative(uint256 id, uint256 licenceId, uint256 amount) private {
        address disputes = ILedgerModules(address(this)).disputeModule();
        // The ledger's own immutable module, and a fixed function of it.
        // slither-disable-next-line controlled-delegatecall,low-level-calls
        (bool ok, bytes memory data) =
            disputes.delegatecall(abi.encodeCall(DisputeModule.carryNegative, (id, licenceId, amount)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(data, 32), mload(data))
            }
        }
    }

    /// @dev The report's contract years have one more settlement that may still change.
    function _openYears(uint256 licenceId, Draft memory draft) private {
        for (uint32 y = draft.year; y <= draft.year + draft.yearSpan; ++y) {
            ++_s().yearTotals[licenceId][y].open;
        }
    }

    /// @dev What an audit finding is measured against.
    struct Finding {
        uint256 reported; // royalty the period was settled at before the correction
        bool exceeded; // the underpayment exceeds the licence's audit threshold
    }

    /// @dev A correction of a period: records the royalty it changes and, for an audit, measures
    /// the underpayment. An adjustment is due when it settles (interest runs only from then); an
    /// audit whose underpayment exceeds the threshold is due from the period's original due date.
    function _correction(
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementTerms memory context,
        Draft memory draft,
        int256 change
    ) private returns (Finding memory finding) {
        mapping(uint32 period => int256) storage adjusted = _s().adjustedRoyalty[report.licenceId];
        Stored storage original = _s().settlements[_settledId(report.licenceId, report.period)];
        int256 reported = int256(uint256(original.due) + original.covered) + adjusted[report.period];
        adjusted[report.period] += change;
        finding.reported = reported > 0 ? uint256(reported) : 0;
        if (report.audit && change > 0) {
            finding.exceeded = uint256(change) * BPS > uint256(context.calendar.auditThresholdBps) * finding.reported;
        }
        if (!finding.exceeded && draft.dueAt < block.timestamp) draft.dueAt = uint64(block.timestamp);
    }

    /// @dev Charges the cost an audit finding states when its underpayment exceeds the threshold.
    function _chargeAudit(
        uint256 id,
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementTerms memory context,
        Draft memory draft,
        Finding memory finding,
        int256 change
    ) private {
        uint256 costId = 0;
        uint256 cost = finding.exceeded ? report.auditCost : 0;
        if (cost != 0) {
            costId = _createSettlement(
                Draft({
                    licenceId: report.licenceId,
                    period: report.period,
                    year: draft.year,
                    yearSpan: 0,
                    kind: IRoyaltyLedger.Kind.AuditCost,
                    royalty: cost,
                    credit: 0,
                    disputeWindow: context.disputeWindow,
                    dueAt: uint64(block.timestamp),
                    reserveBps: 0,
                    releaseAt: 0
                })
            );
        }
        emit IRoyaltyLedger.AuditSettled(
            id,
            report.licenceId,
            report.period,
            change,
            finding.reported,
            context.calendar.auditThresholdBps,
            finding.exceeded,
            costId,
            cost
        );
    }

    function _reportDraft(
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementTerms memory context,
        uint64 periodEnd,
        uint256 firstYear,
        uint256 lastYear
    ) private pure returns (Draft memory draft) {
        ILicenceRegistry.Calendar memory calendar = context.calendar;
        draft.licenceId = report.licenceId;
        draft.period = report.period;
        draft.year = firstYear.toUint16();
        draft.yearSpan = uint256(lastYear - firstYear).toUint8();
        draft.kind = report.audit
            ? IRoyaltyLedger.Kind.Audit
            : (report.corrects != 0 ? IRoyaltyLedger.Kind.Adjustment : IRoyaltyLedger.Kind.Report);
        draft.disputeWindow = context.disputeWindow;
        // The period's due date; a correction moves it (see _correction).
        draft.dueAt = periodEnd + uint64(calendar.dueDays) * 1 days;
        // Sales reported (by a report or an adjustment, not an audit's finding) are subject to
        // the reserve against returns, released at the end of the period its periods later.
        if (calendar.reserveBps != 0 && !report.audit) {
            draft.reserveBps = calendar.reserveBps;
            // Only the end of the release period matters.
            // slither-disable-next-line unused-return
            (, draft.releaseAt) = LicenceCalendar.periodBounds(
                context.start, context.periodSeconds, calendar, uint256(report.period) + calendar.reservePeriods
            );
        }
    }

    /// @dev Prices the report with the schedule in force at its period's start, each contract year of its sales at that year's tier
    /// position, then updates each year's totals (returns lower them, never below zero);
    /// `guaranteeCredit` is the part of a positive royalty that guarantee shortfalls already
    /// charged for those years cover.
    function _price(
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementTerms memory context,
        uint64 periodStart,
        uint32 firstYear,
        uint32 lastYear
    ) private returns (ILicenceRegistry.Priced memory priced, uint256 guaranteeCredit) {
        mapping(uint32 year => Year) storage yearRecords = _s().yearTotals[report.licenceId];
        uint256[] memory cumulative = new uint256[](lastYear - firstYear + 1);
        for (uint256 j; j < cumulative.length; ++j) {
            cumulative[j] = yearRecords[uint32(firstYear + j)].tierNet;
        }
        // A period that began before the latest version took effect keeps the one it began under.
        ILicenceRegistry.Schedule memory schedule = context.schedule;
        if (periodStart < schedule.effectiveFrom) schedule = registry.scheduleAt(report.licenceId, periodStart);
        priced = RoyaltyMath.price(schedule, context.scope, report, firstYear, cumulative);
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

    function _emitReport(
        uint256 id,
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.Priced memory priced,
        uint32 firstYear
    ) private {
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
            emit IRoyaltyLedger.ReturnReported(
                id, b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions
            );
        }
        for (uint256 i; i < report.buckets.length; ++i) {
            IRoyaltyLedger.Bucket calldata b = report.buckets[i];
            // A bit of the scope bitmap, not a balance.
            // slither-disable-next-line incorrect-equality
            bool inScope = (priced.outOfScope >> i) & 1 == 0;
            emit IRoyaltyLedger.BucketReported(
                id, b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions, inScope
            );
            if (!inScope) {
                emit IRoyaltyLedger.ScopeBreached(report.licenceId, id, b.territory, b.field, b.channel, b.gross);
            }
        }
    }

    /// @dev The oracles whose signatures a report carries, in the registry's EIP-712 domain; the
    /// registry says whether each is one of the licence's oracles (so an altered report names
    /// its first unknown signer), then _checkSigners their number and order.
    function _signers(IRoyaltyLedger.Report calldata report, bytes[] calldata signatures)
        private
        view
        returns (address[] memory signers)
    {
        bytes32 domain =
            block.chainid == _chainId ? _registryDomain : LicenceRegistry(address(registry)).domainSeparator();
        bytes32 digest = MessageHashUtils.toTypedDataHash(domain, ReportHash.structHash(report));
        signers = new address[](signatures.length);
        for (uint256 i; i < signatures.length; ++i) {
            // tryRecover rejects malleable (high-s) and malformed signatures.
            (address signer, ECDSA.RecoverError error, bytes32 detail) = ECDSA.tryRecover(digest, signatures[i]);
            if (error != ECDSA.RecoverError.NoError) revert IRoyaltyLedger.InvalidSignature(i, uint8(error), detail);
            signers[i] = signer;
        }
    }

    /// @dev Exactly `threshold` signers, distinct and ascending by address (which makes the
    /// duplicate check one comparison).
    function _checkSigners(address[] memory signers, uint8 threshold) private pure {
        if (signers.length != threshold) revert IRoyaltyLedger.WrongSignatureCount(signers.length, threshold);
        address previous = address(0);
        for (uint256 i; i < signers.length; ++i) {
            if (signers[i] <= previous) revert IRoyaltyLedger.SignersNotAscending(i, signers[i]);
            previous = signers[i];
        }
    }

    /// @dev Checks everything about a report but its signatures and buckets; returns its period.
    function _checkReport(
        IRoyaltyLedger.Report calldata report,
        ILicenceRegistry.SettlementTerms memory context,
        Account storage account
    ) private view returns (uint64 periodStart, uint64 periodEnd, uint256 firstYear, uint256 lastYear) {
        uint256 licenceId = report.licenceId;
        if (report.audit) {
            if (report.corrects == 0) revert IRoyaltyLedger.AuditMustCorrect(licenceId, report.period);
        } else if (report.auditCost != 0) {
            revert IRoyaltyLedger.AuditCostWithoutAudit(licenceId, report.auditCost);
        }
        uint256 original = _settledId(licenceId, report.period);
        if (report.corrects == 0) {
            if (original != 0) revert IRoyaltyLedger.PeriodAlreadySettled(licenceId, report.period, original);
        } else {
            // An adjustment corrects a settled period, and the period's latest settlement, so
            // each period has one original and one chain of adjustments.
            if (original == 0) revert IRoyaltyLedger.PeriodNotSettled(licenceId, report.period);
            uint256 latest = _s().latestAdjustment[licenceId][report.period];
            if (latest == 0) latest = original;
            if (report.corrects != latest) {
                revert IRoyaltyLedger.AdjustmentNotOfLatest(licenceId, report.period, report.corrects, latest);
            }
        }
        if (report.sequence <= account.lastSequence) {
            revert IRoyaltyLedger.StaleSequence(licenceId, report.sequence, account.lastSequence);
        }
        if (block.timestamp > report.deadline) {
            revert IRoyaltyLedger.ReportExpired(licenceId, report.deadline, block.timestamp);
        }
        if (report.buckets.length > MAX_BUCKETS) {
            revert IRoyaltyLedger.TooManyBuckets(report.buckets.length, MAX_BUCKETS);
        }
        if (report.returned.length > MAX_BUCKETS) {
            revert IRoyaltyLedger.TooManyBuckets(report.returned.length, MAX_BUCKETS);
        }
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
