// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";

import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {RoyaltyMath} from "../../contracts/libraries/RoyaltyMath.sol";
import {Base} from "./Base.t.sol";

/// @notice Pricing of reports under each kind of rate schedule, minimum guarantees and advances.
contract RateScheduleTest is Base {
    uint64 internal constant ESCROW = 1_000_000 * 1e6;

    function _register(ILicenceRegistry.Terms memory t) private returns (uint256 licenceId) {
        licenceId = register(t);
        deposit(licenceId, ESCROW);
    }

    function _royalty(uint256 settlementId) private view returns (uint256) {
        return ledger.settlement(settlementId).royalty;
    }

    // ------------------------------------------------------------------ percentage

    function test_settleReports_PercentageOfNetSales() public {
        uint256 licenceId = _register(defaultTerms());
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(3, 2, 1, 40, 120_000 * USD, 20_000 * USD);
        warpPastPeriod(0);
        uint256 id = settle(makeReport(licenceId, 0, buckets));

        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertEq(ledger.escrowOf(licenceId), ESCROW - 5_000 * USD);
        assertEq(ledger.taxClaimable(licenceId), 500 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 1_350 * USD);
    }

    function test_settleReports_PercentageRoundsDownOncePerReport() public {
        uint256 licenceId = _register(defaultTerms());
        // Two buckets of 10 wei each: 5% of each is 0.5 wei, of their sum exactly 1 wei.
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = bucket(0, 0, 0, 0, 10, 0);
        buckets[1] = bucket(1, 1, 1, 0, 10, 0);
        warpPastPeriod(0);
        assertEq(_royalty(settle(makeReport(licenceId, 0, buckets))), 1);
        // 5% of 19,999 wei is 999.95: rounded down in the licensee's favour.
        warpPastPeriod(1);
        assertEq(_royalty(settle(makeReport(licenceId, 1, salesOf(19_999)))), 999);
    }

    function test_settleReports_DeductionsEqualToGrossEarnNothing() public {
        uint256 licenceId = _register(defaultTerms());
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(0, 0, 0, 5, 1_000 * USD, 1_000 * USD);
        warpPastPeriod(0);
        uint256 id = settle(makeReport(licenceId, 0, buckets));
        assertSettlement(id, IRoyaltyLedger.State.Final, 0, 0, 0, 0);
    }

    function test_settleReports_RevertWhen_DeductionsExceedGross() public {
        uint256 licenceId = _register(defaultTerms());
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = bucket(0, 0, 0, 0, 1_000 * USD, 0);
        buckets[1] = bucket(1, 0, 0, 0, 1_000 * USD, 1_000 * USD + 1);
        warpPastPeriod(0);
        expectSettleRevert(
            makeReport(licenceId, 0, buckets),
            abi.encodeWithSelector(IRoyaltyLedger.DeductionsExceedGross.selector, 1, 1_000 * USD, 1_000 * USD + 1)
        );
    }

    // ------------------------------------------------------------------ per unit and fixed fee

    function test_settleReports_PerUnit() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.perUnit = 2 * USD;
        uint256 licenceId = _register(t);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = bucket(0, 0, 0, 100, 9_999 * USD, 0);
        buckets[1] = bucket(4, 3, 2, 50, 1 * USD, 0);
        warpPastPeriod(0);
        assertEq(_royalty(settle(makeReport(licenceId, 0, buckets))), 300 * USD);
    }

    function test_settleReports_FixedFeePerPeriod() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.fixedFeePerPeriod = 1_000 * USD;
        uint256 licenceId = _register(t);
        warpPastPeriod(0);
        // A period without sales still owes the fixed fee.
        uint256 id = settle(makeReport(licenceId, 0, new IRoyaltyLedger.Bucket[](0)));
        assertSettlement(id, IRoyaltyLedger.State.Final, 1_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
        warpPastPeriod(1);
        assertEq(_royalty(settle(makeReport(licenceId, 1, salesOf(7 * USD)))), 1_000 * USD);
    }

    function test_settleReports_FixedFeePerUnitAndPercentageAddUp() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fixedFeePerPeriod = 1_000 * USD;
        t.schedule.perUnit = 2 * USD;
        uint256 licenceId = _register(t);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(0, 0, 0, 150, 110_000 * USD, 10_000 * USD);
        warpPastPeriod(0);
        // 1,000 fixed + 150 * 2 per unit + 5% of 100,000 net
        assertEq(_royalty(settle(makeReport(licenceId, 0, buckets))), 6_300 * USD);
    }

    // ------------------------------------------------------------------ tiers

    function _tieredTerms() private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](3);
        t.schedule.tiers[0] = tier(0, 300);
        t.schedule.tiers[1] = tier(100_000 * USD, 500);
        t.schedule.tiers[2] = tier(250_000 * USD, 800);
    }

    function test_settleReports_TiersCrossInsideOneReport() public {
        uint256 licenceId = _register(_tieredTerms());
        // 300,000 net: 100,000 at 3% + 150,000 at 5% + 50,000 at 8%
        assertEq(_royalty(settlePeriod(licenceId, 0, 300_000 * USD)), (3_000 + 7_500 + 4_000) * USD);
    }

    function test_settleReports_TiersCumulateAcrossReportsOfTheYear() public {
        uint256 licenceId = _register(_tieredTerms());
        // 150,000: 100,000 at 3% + 50,000 at 5%
        assertEq(_royalty(settlePeriod(licenceId, 0, 150_000 * USD)), 5_500 * USD);
        // cumulative 150,000 -> 350,000: 100,000 at 5% + 100,000 at 8%
        warpPastPeriod(1);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 1, salesOf(200_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(2, licenceId, 2, r.linesRoot, r.lineCount, 0, signedOne(200_000 * USD), signedOne(13_000 * USD), 0);
        assertEq(_royalty(settle(r)), 13_000 * USD);
        // period 4 (days 360..450) starts in contract year 0 and crosses into year 1 on day 366
        // (the 366-day year 2023-11-15..2024-11-15); its one bucket holds year-0 sales: all at 8%
        assertEq(_royalty(settlePeriod(licenceId, 4, 10_000 * USD)), 800 * USD);
    }

    function test_settleReports_TiersResetInNextContractYear() public {
        uint256 licenceId = _register(_tieredTerms());
        assertEq(_royalty(settlePeriod(licenceId, 0, 300_000 * USD)), 14_500 * USD);
        // period 5 starts on day 450, in contract year 1 (from day 366): the first tier again
        assertEq(_royalty(settlePeriod(licenceId, 5, 150_000 * USD)), 5_500 * USD);
    }

    function test_price_MatchesSettlement() public {
        uint256 licenceId = _register(_tieredTerms());
        ILicenceRegistry.Priced memory priced =
            verifyPrice(licenceId, salesOf(200_000 * USD), 150_000 * USD);
        assertEq(priced.royalty, int256(uint256(13_000 * USD)));
        assertEq(priced.yearTierNet, signedOne(200_000 * USD));
        assertEq(priced.yearRoyalty, signedOne(13_000 * USD));
        assertEq(priced.outOfScope, 0);
    }

    // ------------------------------------------------------------------ per-field rates

    function test_settleReports_PerFieldRates() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fieldRates = new ILicenceRegistry.FieldRate[](2);
        t.schedule.fieldRates[0] = fieldRate(1, 800); // model training 8%
        t.schedule.fieldRates[1] = fieldRate(2, 300); // analytics 3%
        uint256 licenceId = _register(t);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](3);
        buckets[0] = bucket(0, 0, 0, 0, 100_000 * USD, 0); // base 5%
        buckets[1] = bucket(1, 1, 0, 0, 100_000 * USD, 0);
        buckets[2] = bucket(2, 2, 1, 0, 100_000 * USD, 0);
        warpPastPeriod(0);
        assertEq(_royalty(settle(makeReport(licenceId, 0, buckets))), 16_000 * USD);
    }

    function test_settleReports_FieldRateSalesDoNotCountTowardsTiers() public {
        ILicenceRegistry.Terms memory t = _tieredTerms();
        t.schedule.fieldRates = new ILicenceRegistry.FieldRate[](1);
        t.schedule.fieldRates[0] = fieldRate(1, 1_000);
        uint256 licenceId = _register(t);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = bucket(0, 0, 0, 0, 150_000 * USD, 0); // tiered: 3,000 + 2,500
        buckets[1] = bucket(0, 1, 0, 0, 100_000 * USD, 0); // field 1 at 10%: 10,000
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, buckets);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(1, licenceId, 1, r.linesRoot, r.lineCount, 0, signedOne(150_000 * USD), signedOne(15_500 * USD), 0);
        assertEq(_royalty(settle(r)), 15_500 * USD);
    }

    // ------------------------------------------------------------------ minimum guarantee

    function _guaranteeTerms() private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.schedule.minimumGuarantee = 50_000 * USD;
    }

    /// @dev Periods 0..3 of year 0, 100,000 net each: 20,000 of royalty in the year.
    function _settleYearZero(uint256 licenceId) private {
        for (uint32 p; p < 4; ++p) {
            settlePeriod(licenceId, p, 100_000 * USD);
        }
    }

    function test_chargeMinimumGuarantee_ShortfallAfterYearEnd() public {
        uint256 licenceId = _register(_guaranteeTerms());
        _settleYearZero(licenceId);
        (uint64 end, uint64 dueAt) = yearEnd(licenceId, 0);
        // 2023-11-15 to 2024-11-15 holds 29 February 2024: 366 days
        assertEq(end, START + 366 days);
        vm.warp(end);
        uint256 escrowBefore = ledger.escrowOf(licenceId);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(
            5,
            licenceId,
            IRoyaltyLedger.Kind.MinimumGuarantee,
            0,
            30_000 * USD,
            0,
            30_000 * USD,
            30_000 * USD,
            false,
            dueAt
        );
        vm.prank(stranger); // anyone may charge it
        uint256 id = ledger.chargeMinimumGuarantee(licenceId, 0);

        assertEq(id, 5);
        assertSettlement(id, IRoyaltyLedger.State.Final, 30_000 * USD, 30_000 * USD, 30_000 * USD, 30_000 * USD);
        assertEq(uint8(ledger.settlement(id).kind), uint8(IRoyaltyLedger.Kind.MinimumGuarantee));
        assertEq(ledger.escrowOf(licenceId), escrowBefore - 30_000 * USD);
        // 50,000 paid in the year in total: 5,000 tax, 45,000 to payees
        assertEq(ledger.taxClaimable(licenceId), 5_000 * USD);
        assertEq(ledger.distributedOf(licenceId), 45_000 * USD);
    }

    function test_chargeMinimumGuarantee_RevertWhen_YearNotEnded() public {
        uint256 licenceId = _register(_guaranteeTerms());
        // Year 0 ends on its anniversary 2024-11-15, START + 366 days (29 February 2024), not 365.
        vm.warp(START + 366 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.YearNotEnded.selector, licenceId, 0, START + 366 days)
        );
        ledger.chargeMinimumGuarantee(licenceId, 0);
    }

    function test_chargeMinimumGuarantee_RevertWhen_AlreadyCharged() public {
        uint256 licenceId = _register(_guaranteeTerms());
        vm.warp(START + 366 days); // the end of year 0, 2024-11-15
        ledger.chargeMinimumGuarantee(licenceId, 0);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.GuaranteeAlreadyCharged.selector, licenceId, 0));
        ledger.chargeMinimumGuarantee(licenceId, 0);
    }

    function test_chargeMinimumGuarantee_RevertWhen_NoShortfall() public {
        uint256 licenceId = _register(_guaranteeTerms());
        settlePeriod(licenceId, 0, 1_000_000 * USD); // 50,000 of royalty: exactly the guarantee
        vm.warp(START + 366 days); // the end of year 0, 2024-11-15
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.NoShortfall.selector, licenceId, 0, 50_000 * USD, 50_000 * USD)
        );
        ledger.chargeMinimumGuarantee(licenceId, 0);
    }

    function test_chargeMinimumGuarantee_RevertWhen_NoGuarantee() public {
        uint256 licenceId = _register(defaultTerms());
        vm.warp(START + 366 days); // the end of year 0, 2024-11-15
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NoShortfall.selector, licenceId, 0, 0, 0));
        ledger.chargeMinimumGuarantee(licenceId, 0);
    }

    function test_chargeMinimumGuarantee_RevertWhen_YearOutsideTerm() public {
        uint256 licenceId = _register(_guaranteeTerms());
        // Year 3 would begin on its anniversary 2026-11-15, START + 366 + 365 + 365 = 1,096 days,
        // after the end of term START + 3 * 365 = 1,095 days.
        (uint64 year2End,) = yearEnd(licenceId, 2);
        assertEq(year2End, START + 1_096 days);
        vm.warp(END + 400 days);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearOutsideTerm.selector, licenceId, 3));
        ledger.chargeMinimumGuarantee(licenceId, 3);
    }

    function test_chargeMinimumGuarantee_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 9));
        ledger.chargeMinimumGuarantee(9, 0);
    }

    function test_chargeMinimumGuarantee_ProRataForYearCutShortByTermination() public {
        uint256 licenceId = _register(_guaranteeTerms());
        // Year 1 is 2024-11-15..2025-11-15: days 366..731 of the term, 365 days long. Terminated
        // 73 days into it: 50,000 * 73 / 365 = 10,000 exactly.
        (uint64 year0End,) = yearEnd(licenceId, 0);
        assertEq(year0End, START + 366 days);
        vm.warp(year0End + 73 days);
        terminateByConsent(licenceId);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearOutsideTerm.selector, licenceId, 2));
        ledger.chargeMinimumGuarantee(licenceId, 2);

        uint256 id = ledger.chargeMinimumGuarantee(licenceId, 1);
        assertEq(ledger.settlement(id).royalty, 10_000 * USD, "50,000 * 73 / 365");
        assertEq(ledger.settlement(id).period, 1, "the contract year");
    }

    function test_chargeMinimumGuarantee_ProRataCountsTheYearsReports() public {
        uint256 licenceId = _register(_guaranteeTerms());
        // 146 of year 1's 365 days (days 366..731 of the term): 50,000 * 146 / 365 = 20,000.
        vm.warp(START + 366 days + 146 days);
        terminateByConsent(licenceId);
        // period 5 (days 450..540) lies in year 1, reported in the sell-off: 5,000
        settlePeriod(licenceId, 5, 100_000 * USD);
        uint256 id = ledger.chargeMinimumGuarantee(licenceId, 1);
        assertEq(ledger.settlement(id).royalty, 15_000 * USD, "20,000 pro rata less 5,000 earned");
    }

    function test_settleReports_LateReportOffsetByChargedShortfall() public {
        uint256 licenceId = _register(_guaranteeTerms());
        _settleYearZero(licenceId);
        vm.warp(START + 366 days); // the end of year 0, 2024-11-15
        ledger.chargeMinimumGuarantee(licenceId, 0); // 30,000 charged for year 0
        uint256 escrowBefore = ledger.escrowOf(licenceId);

        // Period 4 (days 360..450) starts in year 0 and crosses into year 1 on day 366; its one
        // bucket holds year-0 sales (days 360..366), reported after the charge: their 12,000 are
        // already covered by the shortfall paid.
        warpPastPeriod(4);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 4, salesOf(240_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(6, licenceId, IRoyaltyLedger.Kind.Report, 4, 12_000 * USD, 12_000 * USD, 0, 0, false, periodEnd(4) + DUE_DAYS * 1 days);
        uint256 id = settle(r);
        assertSettlement(id, IRoyaltyLedger.State.Final, 12_000 * USD, 0, 0, 0);
        assertEq(ledger.escrowOf(licenceId), escrowBefore);

        // Year 1's first period owes in full: the credit belongs to year 0 only.
        assertEq(ledger.settlement(settlePeriod(licenceId, 5, 100_000 * USD)).due, 5_000 * USD);
    }

    function test_settleReports_LateReportBeyondShortfallOwesTheRest() public {
        uint256 licenceId = _register(_guaranteeTerms());
        _settleYearZero(licenceId);
        vm.warp(START + 366 days); // the end of year 0, 2024-11-15
        ledger.chargeMinimumGuarantee(licenceId, 0); // 30,000 credit
        warpPastPeriod(4);
        uint256 id = settle(makeReport(licenceId, 4, salesOf(800_000 * USD))); // 40,000 royalty
        assertSettlement(id, IRoyaltyLedger.State.Final, 40_000 * USD, 10_000 * USD, 10_000 * USD, 10_000 * USD);
    }

    // ------------------------------------------------------------------ advance

    function test_settleReports_AdvanceRecoupedBeforeAnythingIsDue() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.advance = 10_000 * USD;
        uint256 licenceId = _register(t);
        assertEq(ledger.advanceRemaining(licenceId), 10_000 * USD);

        // 4,000 of royalty: all recouped
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(80_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(2, licenceId, IRoyaltyLedger.Kind.Report, 0, 4_000 * USD, 4_000 * USD, 0, 0, false, periodEnd(0) + DUE_DAYS * 1 days);
        uint256 first = settle(r);
        assertSettlement(first, IRoyaltyLedger.State.Final, 4_000 * USD, 0, 0, 0);
        assertEq(ledger.advanceRemaining(licenceId), 6_000 * USD);
        assertEq(ledger.escrowOf(licenceId), ESCROW);

        // 8,000 of royalty: 6,000 recouped, 2,000 drawn from escrow
        uint256 second = settlePeriod(licenceId, 1, 160_000 * USD);
        assertSettlement(second, IRoyaltyLedger.State.Final, 8_000 * USD, 2_000 * USD, 2_000 * USD, 2_000 * USD);
        assertEq(ledger.advanceRemaining(licenceId), 0);
        assertEq(ledger.escrowOf(licenceId), ESCROW - 2_000 * USD);
        // Payees got the advance at registration and the 2,000 now: 12,000 in all.
        assertEq(ledger.taxClaimable(licenceId), 1_200 * USD);
        assertEq(ledger.distributedOf(licenceId), 10_800 * USD);
    }

    function test_chargeMinimumGuarantee_RecoupsAdvance() public {
        ILicenceRegistry.Terms memory t = _guaranteeTerms();
        t.advance = 40_000 * USD;
        uint256 licenceId = _register(t);
        vm.warp(START + 366 days); // the end of year 0, 2024-11-15
        uint256 id = ledger.chargeMinimumGuarantee(licenceId, 0);
        assertSettlement(id, IRoyaltyLedger.State.Final, 50_000 * USD, 10_000 * USD, 10_000 * USD, 10_000 * USD);
        assertEq(ledger.advanceRemaining(licenceId), 0);
    }

    // ------------------------------------------------------------------ contract-year range

    /// @dev 9000-01-01 00:00 UTC (2,567,655 days after 1970-01-01): the latest end of term.
    uint64 internal constant YEAR_9000 = 221_845_392_000;
    /// @dev 8999-11-15 and 9000-11-15 00:00 UTC: the last anniversaries of START that a term can reach.
    uint64 internal constant NOV_15_8999 = 221_841_331_200;
    uint64 internal constant NOV_15_9000 = 221_872_867_200;

    /// @dev The longest term: START to 9000-01-01 with no sell-off (the sell-off must end by then
    /// too), one-year anniversary periods (period N is contract year N), a 1,000 guarantee and a
    /// dispute window.
    function _longestTerm() private returns (uint256 licenceId) {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.end = YEAR_9000;
        t.term.sellOffDays = 0;
        t.term.periodSeconds = 0;
        t.term.calendar.periodMonths = 12;
        t.term.calendar.anniversary = true;
        t.schedule.minimumGuarantee = 1_000 * USD;
        t.disputeWindow = 7 days;
        licenceId = _register(t);
    }

    /// @notice Contract years used to be 365-day blocks and could run past uint16 (a term of
    /// 65,537 years); the registry now ends every term by 9000-01-01 (TermEndTooLate), which
    /// keeps dates inside the calendar library's range and years far below 65,536.
    function test_register_RevertWhen_TermEndsAfterYear9000() public {
        assertEq(registry.clock().MAX_TIMESTAMP(), YEAR_9000);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.end = YEAR_9000 + 1;
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
        assertEq(registry.licenceCount(), 0);
        // Ending on 9000-01-01 itself is allowed (with no sell-off after it).
        t.term.end = YEAR_9000;
        t.term.sellOffDays = 0;
        assertEq(register(t), 1);
    }

    /// @notice The last contract year of the longest term (6,976: 8999-11-15..9000-11-15, cut at
    /// the end of term 9000-01-01) settles, releases and counts towards its own year: the
    /// guarantee sees its royalty and no open settlement.
    /// @dev 8999 - 2023 = 6,976 anniversaries of 2023-11-15. The uint16 guard on a settlement's
    /// year (SafeCast in _createSettlement and _settleReport) cannot be reached any more: a term
    /// and its sell-off end by 9000-01-01, and its last period at most 136 years later (the
    /// longest periodSeconds), so a year index stays below 9999 - 1970 = 8,029.
    function test_settleReports_LastContractYearOfTheLongestTerm() public {
        uint256 licenceId = _longestTerm();
        (uint64 from, uint64 to,) = registry.periodBounds(licenceId, 6_976);
        assertEq(from, NOV_15_8999);
        assertEq(to, NOV_15_9000);
        assertEq(registry.contractYearOf(licenceId, NOV_15_8999), 6_976);
        assertEq(registry.contractYearOf(licenceId, NOV_15_8999 - 1), 6_975);
        (uint64 yFrom, uint64 yTo,, uint64 fullLength) = registry.contractYearBounds(licenceId, 6_976);
        assertEq(yFrom, NOV_15_8999);
        assertEq(yTo, NOV_15_9000);
        assertEq(fullLength, 365 days, "9000 is not a leap year (divisible by 100, not by 400)");

        vm.warp(NOV_15_9000);
        uint256 id = settle(makeReport(licenceId, 6_976, salesOf(1_000 * USD))); // 5%: 50
        assertEq(ledger.settlement(id).year, 6_976);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearHasOpenSettlements.selector, licenceId, 6_976, 1));
        ledger.chargeMinimumGuarantee(licenceId, 6_976);
        vm.warp(block.timestamp + 7 days);
        ledger.releaseMatured(licenceId);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Final));
        // The year is cut at the end of term: 8999-11-15..9000-01-01 is 16 + 31 = 47 days of 365.
        // 1,000 * 47 / 365 = 128.767123..., floored to 128,767,123 units; less the 50 earned.
        uint256 shortfall = ledger.chargeMinimumGuarantee(licenceId, 6_976);
        assertEq(ledger.settlement(shortfall).royalty, 128_767_123 - 50 * USD);
        // The next period starts after the term (no sell-off).
        (uint64 nextFrom, uint64 nextTo,) = registry.periodBounds(licenceId, 6_977);
        assertEq(nextFrom, NOV_15_9000);
        vm.warp(nextTo);
        expectSettleRevert(
            makeReport(licenceId, 6_977, salesOf(1_000 * USD)),
            abi.encodeWithSelector(
                IRoyaltyLedger.PeriodOutsideTerm.selector, licenceId, 6_977, nextFrom, YEAR_9000
            )
        );
    }

    /// @notice A year beyond uint16 is refused as outside the term before anything is cast.
    function test_chargeMinimumGuarantee_RevertWhen_YearExceedsUint16() public {
        uint256 licenceId = _longestTerm();
        vm.warp(NOV_15_9000);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearOutsideTerm.selector, licenceId, 65_536));
        ledger.chargeMinimumGuarantee(licenceId, 65_536);
        // Year 6,977 begins on 9000-11-15, after the end of term.
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearOutsideTerm.selector, licenceId, 6_977));
        ledger.chargeMinimumGuarantee(licenceId, 6_977);
    }
}
