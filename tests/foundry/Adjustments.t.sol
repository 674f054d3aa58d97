// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Returns net against a period's sales; a negative period becomes the licensee's
/// credit against its next royalties; adjustment reports correct a settled period by the
/// difference only, priced at its schedule and at its contract year's tier position.
/// @dev Default licence (Base): 5% of net sales, fixed 90-day periods from 2023-11-15, 10% tax
/// withheld, payees 70% / 30%, 2 of 3 oracles, no dispute window.
contract AdjustmentsTest is Base {
    uint256 internal constant ESCROW = 1_000_000 * USD;


    function _tiered() private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](2);
        t.schedule.tiers[0] = tier(0, 200); // 2% up to 100,000
        t.schedule.tiers[1] = tier(100_000 * USD, 500); // 5% above
    }

    function _report(uint256 licenceId, uint32 period, uint128 sales, uint128 returns_)
        private
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        r = makeReport(licenceId, period, sales == 0 ? new IRoyaltyLedger.Bucket[](0) : salesOf(sales));
        if (returns_ != 0) {
            r.returned = new IRoyaltyLedger.Bucket[](1);
            // a fresh struct: assigning r.buckets[0] would alias it in memory
            r.returned[0] = yearSales(r.buckets.length > 0 ? r.buckets[0].year : 0, returns_);
        }
    }

    /// @dev An adjustment of `period` correcting settlement `corrects`: adds `added`, cancels `cancelled`.
    function _adjustment(uint256 licenceId, uint32 period, uint256 corrects, uint128 added, uint128 cancelled)
        private
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        (uint64 from,,) = registry.periodBounds(licenceId, period);
        uint16 year = uint16(registry.contractYearOf(licenceId, from));
        r = makeReport(licenceId, period, new IRoyaltyLedger.Bucket[](0));
        r.corrects = corrects;
        if (added != 0) {
            r.buckets = new IRoyaltyLedger.Bucket[](1);
            r.buckets[0] = yearSales(year, added);
        }
        if (cancelled != 0) {
            r.returned = new IRoyaltyLedger.Bucket[](1);
            r.returned[0] = yearSales(year, cancelled);
        }
    }

    // ------------------------------------------------------------------ returns

    function test_settleReports_ReturnsNetAgainstThePeriodsSales() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = _report(licenceId, 0, 100_000 * USD, 20_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        // (100,000 - 20,000) x 5% = 4,000
        emit IRoyaltyLedger.ReportAccepted(
            1, licenceId, 1, r.linesRoot, r.lineCount, 0, signedOne(80_000 * USD), signedOne(4_000 * USD), 0
        );
        uint256 id = settle(r);
        assertSettlement(id, IRoyaltyLedger.State.Final, 4_000 * USD, 4_000 * USD, 4_000 * USD, 4_000 * USD);
        assertEq(ledger.creditOf(licenceId), 0);
    }

    function test_settleReports_NegativePeriodCarriesCreditToTheNextRoyalties() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD); // 5,000
        uint256 distributed = ledger.distributedOf(licenceId);
        warpPastPeriod(1);
        // 10,000 sold, 30,000 returned: -20,000 x 5% = -1,000, carried as the licensee's credit
        IRoyaltyLedger.Report memory r = _report(licenceId, 1, 10_000 * USD, 30_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.CreditCarried(2, licenceId, 1_000 * USD, 1_000 * USD);
        uint256 id = settle(r);
        // nothing is paid back and nothing is taken from the payees
        assertSettlement(id, IRoyaltyLedger.State.Final, 0, 0, 0, 0);
        assertEq(ledger.creditOf(licenceId), 1_000 * USD);
        assertEq(ledger.distributedOf(licenceId), distributed);
        assertEq(ledger.settledPeriod(licenceId, 1), id);

        warpPastPeriod(2);
        r = makeReport(licenceId, 2, salesOf(40_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.CreditApplied(3, licenceId, 1_000 * USD, 0);
        id = settle(r);
        // 40,000 x 5% = 2,000 less the 1,000 credit
        assertSettlement(id, IRoyaltyLedger.State.Final, 2_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
        assertEq(ledger.creditOf(licenceId), 0);
    }

    function test_settleReports_ReturnsComeOffTheTopOfTheYearsTiers() public {
        uint256 licenceId = registerFunded(_tiered(), ESCROW);
        // 150,000: 100,000 x 2% + 50,000 x 5% = 2,000 + 2,500 = 4,500
        assertEq(ledger.settlement(settlePeriod(licenceId, 0, 150_000 * USD)).royalty, 4_500 * USD);
        warpPastPeriod(1);
        // 60,000 returned, nothing sold: the slice [90,000, 150,000) comes back,
        // 50,000 x 5% + 10,000 x 2% = 2,500 + 200 = 2,700
        IRoyaltyLedger.Report memory r = _report(licenceId, 1, 0, 60_000 * USD);
        r.returned[0].year = 0;
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.CreditCarried(2, licenceId, 2_700 * USD, 2_700 * USD);
        settle(r);
        // the year's cumulative is 90,000 again: 20,000 more is 10,000 x 2% + 10,000 x 5% = 700, all
        // covered by the credit (2,700 - 700 = 2,000 left)
        uint256 id = settlePeriod(licenceId, 2, 20_000 * USD);
        assertSettlement(id, IRoyaltyLedger.State.Final, 700 * USD, 0, 0, 0);
        assertEq(ledger.creditOf(licenceId), 2_000 * USD);
    }

    function test_settleReports_ReturnBeyondTheYearsSalesAtTheFirstTier() public {
        uint256 licenceId = registerFunded(_tiered(), ESCROW);
        settlePeriod(licenceId, 0, 30_000 * USD); // 30,000 x 2% = 600
        warpPastPeriod(1);
        // 50,000 returned against 30,000 of the year: 30,000 x 2% back, the other 20,000 at the
        // first tier's 2% too: 1,000 in all
        IRoyaltyLedger.Report memory r = _report(licenceId, 1, 0, 50_000 * USD);
        r.returned[0].year = 0;
        settle(r);
        assertEq(ledger.creditOf(licenceId), 1_000 * USD);
    }

    function test_settleReports_NegativeRoundsInTheLicenseesFavour() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        warpPastPeriod(0);
        // 19 token units returned at 5%: -0.95, a credit of 1 unit (rounded away from zero)
        IRoyaltyLedger.Report memory r = _report(licenceId, 0, 0, 19);
        r.returned[0].year = 0;
        settle(r);
        assertEq(ledger.creditOf(licenceId), 1);
    }

    function test_settleReports_ReturnedUnitsTakeBackPerUnitAmounts() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.perUnit = 2 * USD;
        uint256 licenceId = registerFunded(t, ESCROW);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(1_000 * USD));
        r.buckets[0].units = 100;
        r.returned = new IRoyaltyLedger.Bucket[](1);
        r.returned[0] = yearSales(0, 300 * USD);
        r.returned[0].units = 30;
        // (100 - 30) units x 2 = 140
        assertEq(ledger.settlement(settle(r)).royalty, 140 * USD);
    }

    function test_settleReports_OutOfScopeReturnTakesNothingBack() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        r.returned = new IRoyaltyLedger.Bucket[](1);
        r.returned[0] = yearSales(0, 50_000 * USD);
        r.returned[0].territory = 12; // outside the licence's territories
        assertEq(ledger.settlement(settle(r)).royalty, 5_000 * USD);
    }

    function test_chargeMinimumGuarantee_ReturnsLowerTheYearsRoyalty() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.minimumGuarantee = 10_000 * USD;
        uint256 licenceId = registerFunded(t, ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD); // 5,000
        warpPastPeriod(1);
        IRoyaltyLedger.Report memory r = _report(licenceId, 1, 0, 20_000 * USD); // -1,000
        r.returned[0].year = 0;
        settle(r);
        (uint64 end,) = yearEnd(licenceId, 0);
        vm.warp(end);
        // the year earned 5,000 - 1,000 = 4,000: shortfall 10,000 - 4,000 = 6,000
        uint256 id = ledger.chargeMinimumGuarantee(licenceId, 0);
        assertEq(ledger.settlement(id).royalty, 6_000 * USD);
    }

    // ------------------------------------------------------------------ adjustments

    function test_settleReports_AdjustmentSettlesOnlyTheDifference() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fixedFeePerPeriod = 1_000 * USD;
        uint256 licenceId = registerFunded(t, ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        assertEq(ledger.settlement(original).royalty, 6_000 * USD); // 1,000 + 5,000
        // 10,000 of omitted sales: 10,000 x 5% = 500; the fixed fee is not charged again
        IRoyaltyLedger.Report memory r = _adjustment(licenceId, 0, original, 10_000 * USD, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(
            2, licenceId, 2, r.linesRoot, r.lineCount, 0, signedOne(10_000 * USD), signedOne(500 * USD), original
        );
        uint256 id = settle(r);
        assertEq(uint8(ledger.settlement(id).kind), uint8(IRoyaltyLedger.Kind.Adjustment));
        assertEq(ledger.settlement(id).period, 0);
        assertSettlement(id, IRoyaltyLedger.State.Final, 500 * USD, 500 * USD, 500 * USD, 500 * USD);
        assertEq(ledger.latestOfPeriod(licenceId, 0), id);
        assertEq(ledger.settledPeriod(licenceId, 0), original);
        // 6,500 released in all: 650 tax, 5,850 to payees
        assertEq(ledger.taxClaimable(licenceId), 650 * USD);
        assertEq(ledger.distributedOf(licenceId), 5_850 * USD);
    }

    function test_settleReports_DownwardAdjustmentIsACreditNeverAClawBack() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        uint256 distributed = ledger.distributedOf(licenceId);
        // 30,000 of lines cancelled: -1,500
        settle(_adjustment(licenceId, 0, original, 0, 30_000 * USD));
        assertEq(ledger.creditOf(licenceId), 1_500 * USD);
        assertEq(ledger.distributedOf(licenceId), distributed);
        // next period 100,000: 5,000 - 1,500 = 3,500 drawn
        uint256 id = settlePeriod(licenceId, 1, 100_000 * USD);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 3_500 * USD, 3_500 * USD, 3_500 * USD);
    }

    function test_settleReports_ReplacedLineSettlesItsDifference() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        // a line of 10,000 replaced by 12,000: cancel 10,000, add 12,000: +2,000 x 5% = 100
        uint256 id = settle(_adjustment(licenceId, 0, original, 12_000 * USD, 10_000 * USD));
        assertEq(ledger.settlement(id).royalty, 100 * USD);
    }

    function test_settleReports_AdjustmentPricedAtTheYearsTierPosition() public {
        uint256 licenceId = registerFunded(_tiered(), ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 90_000 * USD); // 90,000 x 2% = 1,800
        // 20,000 more: 10,000 x 2% + 10,000 x 5% = 700
        assertEq(ledger.settlement(settlePeriod(licenceId, 1, 20_000 * USD)).royalty, 700 * USD);
        // 5,000 omitted from period 0: the year's cumulative is 110,000, so 5,000 x 5% = 250,
        // and the year's total is the tiers of 115,000: 2,000 + 750 = 2,750 = 1,800 + 700 + 250
        uint256 id = settle(_adjustment(licenceId, 0, original, 5_000 * USD, 0));
        assertEq(ledger.settlement(id).royalty, 250 * USD);
    }

    function test_settleReports_AdjustmentsFormAChain() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        uint256 first = settle(_adjustment(licenceId, 0, original, 10_000 * USD, 0));
        // a second adjustment must correct the first, not the original
        IRoyaltyLedger.Report memory stale = _adjustment(licenceId, 0, original, 1_000 * USD, 0);
        expectSettleRevert(
            stale,
            abi.encodeWithSelector(IRoyaltyLedger.AdjustmentNotOfLatest.selector, licenceId, 0, original, first)
        );
        uint256 second = settle(_adjustment(licenceId, 0, first, 1_000 * USD, 0));
        assertEq(ledger.latestOfPeriod(licenceId, 0), second);
        assertEq(ledger.settlement(second).royalty, 50 * USD);
    }

    function test_settleReports_RevertWhen_AdjustmentOfUnsettledPeriod() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = _adjustment(licenceId, 0, 7, 1_000 * USD, 0);
        expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.PeriodNotSettled.selector, licenceId, 0));
        assertEq(ledger.settlementCount(), 0);
    }

    function test_settleReports_RevertWhen_AdjustmentNamesAnotherSettlement() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        IRoyaltyLedger.Report memory r = _adjustment(licenceId, 0, original + 5, 1_000 * USD, 0);
        expectSettleRevert(
            r,
            abi.encodeWithSelector(
                IRoyaltyLedger.AdjustmentNotOfLatest.selector, licenceId, 0, original + 5, original
            )
        );
    }

    function test_settleReports_RevertWhen_AdjustmentSignedAsAnOriginal() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        IRoyaltyLedger.Report memory r = _adjustment(licenceId, 0, original, 1_000 * USD, 0);
        // the oracles signed the same lines as a second original; the link is part of what they sign
        r.corrects = 0;
        bytes[] memory sigs = signReport(r, THRESHOLD);
        r.corrects = original;
        vm.expectPartialRevert(IRoyaltyLedger.UnknownSigner.selector);
        vm.prank(relayer);
        ledger.settleReports(asBatch(r), asBatch(sigs));
    }

    function test_settleReports_AdjustmentIsNotLateAndCarriesNoInterest() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.interestBps = 1200;
        uint256 licenceId = registerFunded(t, ESCROW);
        uint256 original = settlePeriod(licenceId, 0, 100_000 * USD);
        vm.warp(periodEnd(0) + 200 days);
        uint256 id = settle(_adjustment(licenceId, 0, original, 10_000 * USD, 0));
        assertEq(ledger.settlement(id).dueAt, block.timestamp);
        assertEq(ledger.settlementCount(), id); // no interest settlement after it
    }
}
