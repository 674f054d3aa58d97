// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice The registry hands the ledger its storage words as they are (settlementTerms) and the
/// ledger decodes them by the registry's layout: every field the ledger settles by, read back by
/// that layout, is what the registry's own views say (a reordered Licence or StoredSchedule fails here).
contract SettlementTermsLayoutTest is Base {
    /// @dev 2024-01-01 00:00 UTC.
    uint64 internal constant Q_START = 1_704_067_200;

    function _distinctTerms() private returns (ILicenceRegistry.Terms memory t) {
        vm.warp(Q_START + 12 hours);
        t = defaultTerms();
        t.term.start = Q_START;
        t.term.end = Q_START + 3 * 365 days;
        t.term.periodSeconds = 0;
        t.term.calendar = ILicenceRegistry.Calendar({
            periodMonths: 3,
            anniversary: true,
            yearMonth: 4,
            yearDay: 6,
            dueDays: 45,
            interestBps: 700,
            reserveBps: 1_200,
            reservePeriods: 3,
            auditThresholdBps: 500,
            fxRule: 2,
            fxSource: bytes16("ECB")
        });
        t.disputeWindow = 3 days;
        t.threshold = 2;
        t.schedule.fixedFeePerPeriod = 7 * USD;
        t.schedule.perUnit = 3 * USD;
        t.schedule.minimumGuarantee = 11 * USD;
        t.schedule.rateBps = 900;
    }

    function _check(uint256 licenceId, address[] memory signers) private view {
        uint256[7] memory w = registry.settlementTerms(licenceId, signers);
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        assertEq(w[0], c.sellOffEnd, "sell-off end");
        assertEq(uint40(w[1]), c.start, "start");
        assertEq(uint32(w[1] >> 152), c.periodSeconds, "period seconds");
        assertEq(uint32(w[1] >> 184), c.disputeWindow, "dispute window");
        assertEq(uint8(w[1] >> 216), c.threshold, "threshold");
        assertEq(uint16(w[1] >> 224), registry.scheduleCount(licenceId), "versions");
        ILicenceRegistry.Calendar memory k = c.calendar;
        uint256 word = w[2];
        assertEq(uint8(word), k.periodMonths, "periodMonths");
        assertEq(uint8(word >> 8) != 0, k.anniversary, "anniversary");
        assertEq(uint8(word >> 16), k.yearMonth, "yearMonth");
        assertEq(uint8(word >> 24), k.yearDay, "yearDay");
        assertEq(uint16(word >> 32), k.dueDays, "dueDays");
        assertEq(uint16(word >> 48), k.interestBps, "interestBps");
        assertEq(uint16(word >> 64), k.reserveBps, "reserveBps");
        assertEq(uint8(word >> 80), k.reservePeriods, "reservePeriods");
        assertEq(uint16(word >> 88), k.auditThresholdBps, "auditThresholdBps");
        assertEq(uint8(word >> 104), k.fxRule, "fxRule");
        assertEq(bytes16(uint128(word >> 112)), k.fxSource, "fxSource");
        assertEq(w[3], c.scope.territories, "territories");
        assertEq(uint64(w[4]), c.scope.fields, "fields");
        assertEq(uint32(w[4] >> 64), c.scope.channels, "channels");
        ILicenceRegistry.Schedule memory latest = registry.scheduleAt(licenceId, type(uint64).max);
        assertEq(uint128(w[5]), latest.fixedFeePerPeriod, "fixed fee");
        assertEq(uint128(w[5] >> 128), latest.perUnit, "per unit");
        assertEq(uint128(w[6]), latest.minimumGuarantee, "guarantee");
        assertEq(uint40(w[6] >> 128), latest.effectiveFrom, "effective from");
        assertEq(uint16(w[6] >> 168), latest.rateBps, "rate");
        assertEq(uint8(w[6] >> 184), latest.tiers.length, "tiers");
        assertEq(uint8(w[6] >> 192), latest.fieldRates.length, "field rates");
    }

    function test_settlementTerms_WordsAreTheRegistrysTerms() public {
        uint256 licenceId = register(_distinctTerms());
        address[] memory signers = new address[](2);
        (signers[0], signers[1]) = (oracle1, oracle2);
        _check(licenceId, signers);

        // A later version with tiers and field rates, and a new end; then a termination.
        ILicenceRegistry.Schedule memory next;
        next.effectiveFrom = Q_START + 365 days;
        next.fixedFeePerPeriod = 5 * USD;
        next.perUnit = 2 * USD;
        next.minimumGuarantee = 13 * USD;
        next.tiers = new ILicenceRegistry.Tier[](2);
        next.tiers[0] = tier(0, 400);
        next.tiers[1] = tier(1_000_000 * USD, 600);
        next.fieldRates = new ILicenceRegistry.FieldRate[](1);
        next.fieldRates[0] = fieldRate(1, 300);
        amend(licenceId, next, Q_START + 4 * 365 days);
        _check(licenceId, signers);
        terminateByConsent(licenceId);
        _check(licenceId, signers);
    }

    function test_settlementTerms_RevertWhen_SignerIsNoOracle() public {
        uint256 licenceId = register(_distinctTerms());
        address[] memory signers = new address[](2);
        (signers[0], signers[1]) = (oracle1, licensee);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, 1, licensee));
        registry.settlementTerms(licenceId, signers);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.UnknownLicence.selector, licenceId + 1));
        registry.settlementTerms(licenceId + 1, signers);
    }
}
