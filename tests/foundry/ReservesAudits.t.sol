// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice The reserve against returns (held back from each report, released after the
/// licence's reserve periods or consumed by a negative period) and audit true-ups (an audit
/// finding above the licence's threshold bears interest from the original due date and its cost).
/// @dev Default licence (Base): 5% of net sales, fixed 90-day periods from 2023-11-15 due 30 days
/// after they end, 10% tax withheld, payees 70% / 30%, 2 of 3 oracles, no dispute window.
contract ReservesAuditsTest is Base {
    uint256 internal constant ESCROW = 1_000_000 * USD;
    uint16 internal constant RESERVE_BPS = 2_000; // 20% held back
    uint8 internal constant RESERVE_PERIODS = 2; // released at the end of the period two later
    uint16 internal constant INTEREST_BPS = 1_200; // 12% a year
    uint16 internal constant AUDIT_THRESHOLD_BPS = 500; // 5%

    function _reserveTerms() private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.calendar.reserveBps = RESERVE_BPS;
        t.term.calendar.reservePeriods = RESERVE_PERIODS;
    }

    function _auditTerms() private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.calendar.interestBps = INTEREST_BPS;
        t.term.calendar.auditThresholdBps = AUDIT_THRESHOLD_BPS;
    }


    /// @dev A report of `period` with `sales` sold and `returns_` returned (either may be 0).
    function _report(uint256 licenceId, uint32 period, uint128 sales, uint128 returns_)
        private
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        r = makeReport(licenceId, period, sales == 0 ? new IRoyaltyLedger.Bucket[](0) : salesOf(sales));
        if (returns_ != 0) {
            r.returned = new IRoyaltyLedger.Bucket[](1);
            r.returned[0] = yearSales(uint16(registry.contractYearOf(licenceId, periodStart(period))), returns_);
        }
    }

    /// @dev A correction of `period` (its latest settlement) adding `added` and cancelling `cancelled`.
    function _correction(uint256 licenceId, uint32 period, uint128 added, uint128 cancelled)
        private
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        r = _report(licenceId, period, 0, cancelled);
        if (added != 0) {
            r.buckets = new IRoyaltyLedger.Bucket[](1);
            r.buckets[0] = yearSales(uint16(registry.contractYearOf(licenceId, periodStart(period))), added);
        }
        r.corrects = ledger.latestOfPeriod(licenceId, period);
    }

    function _audit(uint256 licenceId, uint32 period, uint128 added, uint128 cancelled, uint128 cost)
        private
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        r = _correction(licenceId, period, added, cancelled);
        r.audit = true;
        r.auditCost = cost;
    }

    // ------------------------------------------------------------------ reserves

    function test_reserve_HeldFromEachReportAndReleasedAfterItsPeriods() public {
        uint256 licenceId = registerFunded(_reserveTerms(), ESCROW);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = _report(licenceId, 0, 100_000 * USD, 0);
        // 100,000 x 5% = 5,000; 20% of it, 1,000, is held until the end of period 2
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReserveHeld(2, 1, licenceId, 1_000 * USD, periodEnd(2));
        uint256 id = settle(r);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 4_000 * USD, 4_000 * USD, 4_000 * USD);
        IRoyaltyLedger.Settlement memory reserve = ledger.settlement(2);
        assertEq(uint8(reserve.kind), uint8(IRoyaltyLedger.Kind.Reserve));
        assertEq(reserve.period, 0);
        assertEq(reserve.disputeUntil, periodEnd(2), "held until the end of period 2");
        assertSettlement(2, IRoyaltyLedger.State.Held, 1_000 * USD, 1_000 * USD, 1_000 * USD, 0);
        // the licensee paid all 5,000; the payees were credited 4,000 less 10% tax
        assertEq(ledger.escrowOf(licenceId), ESCROW - 5_000 * USD);
        assertEq(ledger.distributedOf(licenceId), 3_600 * USD);

        vm.warp(periodEnd(2) - 1);
        ledger.releaseMatured(licenceId);
        assertSettlement(2, IRoyaltyLedger.State.Held, 1_000 * USD, 1_000 * USD, 1_000 * USD, 0);

        vm.warp(periodEnd(2));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(2, licenceId, 1_000 * USD, 100 * USD, 4_500 * USD);
        ledger.releaseMatured(licenceId);
        assertSettlement(2, IRoyaltyLedger.State.Final, 1_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
        // 4,500 distributed: 70% and 30%
        assertEq(ledger.claimable(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 1_350 * USD);
    }

    function test_reserve_RoundsDownAndComesAfterRecoupment() public {
        ILicenceRegistry.Terms memory t = _reserveTerms();
        t.advance = 2_000 * USD;
        token.mint(licensee, t.advance);
        uint256 licenceId = registerFunded(t, ESCROW);
        warpPastPeriod(0);
        // 100,000,070,070 units x 5% = 5,000,003,503.5 -> 5,000,003,503; the advance recoups
        // 2,000,000,000; of the 3,000,003,503 payable, 20% = 600,000,700.6 -> 600,000,700 is held
        // and 2,400,002,803 paid out
        uint256 id = settle(_report(licenceId, 0, 100_000_070_070, 0));
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000_003_503, 2_400_002_803, 2_400_002_803, 2_400_002_803);
        assertSettlement(3, IRoyaltyLedger.State.Held, 600_000_700, 600_000_700, 600_000_700, 0); // 1 is the advance
        assertEq(ledger.advanceRemaining(licenceId), 0);
    }

    function test_reserve_ConsumedByANegativePeriodAndRefundedToTheLicensee() public {
        uint256 licenceId = registerFunded(_reserveTerms(), ESCROW);
        settle(_reportAfter(licenceId, 0, 100_000 * USD, 0)); // 5,000: 4,000 paid out, reserve 2 holds 1,000
        uint256 distributed = ledger.distributedOf(licenceId);
        // period 1: 10,000 sold and 30,000 returned, (10,000 - 30,000) x 5% = -1,000: all of it
        // comes back from the reserve, to the licensee's escrow; nothing is carried as credit
        warpPastPeriod(1);
        IRoyaltyLedger.Report memory r = _report(licenceId, 1, 10_000 * USD, 30_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReserveConsumed(2, 3, licenceId, 1_000 * USD, 1_000 * USD, 0);
        uint256 id = settle(r);
        assertSettlement(id, IRoyaltyLedger.State.Final, 0, 0, 0, 0);
        assertSettlement(2, IRoyaltyLedger.State.Final, 1_000 * USD, 0, 0, 0);
        assertEq(ledger.creditOf(licenceId), 0);
        assertEq(ledger.escrowOf(licenceId), ESCROW - 4_000 * USD);
        // its release time passes: nothing is left to release
        vm.warp(periodEnd(2));
        ledger.releaseMatured(licenceId);
        assertEq(ledger.distributedOf(licenceId), distributed);
    }

    function test_reserve_PartlyConsumedThenTheRestReleased() public {
        uint256 licenceId = registerFunded(_reserveTerms(), ESCROW);
        settle(_reportAfter(licenceId, 0, 100_000 * USD, 0)); // reserve 2 holds 1,000
        warpPastPeriod(1);
        // 8,000 returned: -400, taken from the reserve; 600 stays held
        settle(_report(licenceId, 1, 0, 8_000 * USD));
        assertSettlement(2, IRoyaltyLedger.State.Held, 1_000 * USD, 600 * USD, 600 * USD, 0);
        assertEq(ledger.escrowOf(licenceId), ESCROW - 4_600 * USD);
        vm.warp(periodEnd(2));
        ledger.releaseMatured(licenceId);
        assertSettlement(2, IRoyaltyLedger.State.Final, 1_000 * USD, 600 * USD, 600 * USD, 600 * USD);
        // 3,600 + 600 less 10%
        assertEq(ledger.distributedOf(licenceId), 4_140 * USD);
    }

    function test_reserve_ReturnsBeyondTheReserveCarryTheRestAsCredit() public {
        uint256 licenceId = registerFunded(_reserveTerms(), ESCROW);
        settle(_reportAfter(licenceId, 0, 100_000 * USD, 0)); // reserve 2 holds 1,000
        warpPastPeriod(1);
        // 30,000 returned: -1,500; 1,000 from the reserve, 500 carried forward
        IRoyaltyLedger.Report memory r = _report(licenceId, 1, 0, 30_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReserveConsumed(2, 3, licenceId, 1_000 * USD, 1_000 * USD, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.CreditCarried(3, licenceId, 500 * USD, 500 * USD);
        settle(r);
        assertEq(ledger.creditOf(licenceId), 500 * USD);
    }

    function test_reserve_OldestConsumedFirst() public {
        uint256 licenceId = registerFunded(_reserveTerms(), ESCROW);
        settle(_reportAfter(licenceId, 0, 100_000 * USD, 0)); // reserve 2: 1,000
        settle(_reportAfter(licenceId, 1, 50_000 * USD, 0)); // 2,500: reserve 4: 500
        warpPastPeriod(2);
        // 26,000 returned: -1,300: 1,000 from reserve 2, 300 from reserve 4
        settle(_report(licenceId, 2, 0, 26_000 * USD));
        assertSettlement(2, IRoyaltyLedger.State.Final, 1_000 * USD, 0, 0, 0);
        assertSettlement(4, IRoyaltyLedger.State.Held, 500 * USD, 200 * USD, 200 * USD, 0);
    }

    function test_reserve_UnpaidReserveConsumedIsNoLongerOwed() public {
        uint256 licenceId = register(_reserveTerms()); // no escrow
        settlePeriod(licenceId, 0, 100_000 * USD);
        // nothing paid: 4,000 and 1,000 are arrears
        assertEq(ledger.arrearsOf(licenceId), 5_000 * USD);
        warpPastPeriod(1);
        settle(_report(licenceId, 1, 0, 10_000 * USD)); // -500 from the unpaid reserve
        assertSettlement(2, IRoyaltyLedger.State.Held, 1_000 * USD, 500 * USD, 0, 0);
        assertEq(ledger.arrearsOf(licenceId), 4_500 * USD);
        // a deposit pays the report, then the reserve (held, not released)
        deposit(licenceId, 4_500 * USD);
        assertEq(ledger.arrearsOf(licenceId), 0);
        assertSettlement(2, IRoyaltyLedger.State.Held, 1_000 * USD, 500 * USD, 500 * USD, 0);
        assertEq(ledger.distributedOf(licenceId), 3_600 * USD);
    }

    function test_reserve_LateReportReleasedOnItsOwnDateNotBehindAnother() public {
        uint256 licenceId = registerFunded(_reserveTerms(), ESCROW);
        settlePeriod(licenceId, 1, 100_000 * USD); // reserve 2, until the end of period 3
        settle(_report(licenceId, 0, 100_000 * USD, 0)); // late: reserve 4, until the end of period 2
        vm.warp(periodEnd(2));
        ledger.releaseMatured(licenceId);
        assertEq(uint8(ledger.settlement(4).state), uint8(IRoyaltyLedger.State.Final));
        assertEq(uint8(ledger.settlement(2).state), uint8(IRoyaltyLedger.State.Held));
        vm.warp(periodEnd(3));
        ledger.releaseMatured(licenceId);
        assertEq(uint8(ledger.settlement(2).state), uint8(IRoyaltyLedger.State.Final));
    }

    function test_reserve_CannotBeDisputed() public {
        ILicenceRegistry.Terms memory t = _reserveTerms();
        t.disputeWindow = 7 days;
        uint256 licenceId = registerFunded(t, ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD);
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.NotDisputable.selector, 2, IRoyaltyLedger.State.Held)
        );
        vm.prank(licensee);
        ledger.dispute(2);
    }

    function test_reserve_NoneWithoutTheClause() public {
        uint256 licenceId = registerFunded(defaultTerms(), ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD);
        assertEq(ledger.settlementCount(), 1);
    }

    // ------------------------------------------------------------------ audits

    /// @dev Period 0 (2023-11-15 + 90 days) is due 30 days after it ends; the audit settles 100
    /// days after that.
    function _auditedLicence() private returns (uint256 licenceId, uint64 dueAt) {
        licenceId = registerFunded(_auditTerms(), ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD); // 5,000, on time
        dueAt = periodEnd(0) + 30 days;
        vm.warp(dueAt + 100 days);
    }

    function test_audit_AboveThresholdInterestFromTheOriginalDueDateAndItsCost() public {
        (uint256 licenceId, uint64 dueAt) = _auditedLicence();
        // 20,000 of unreported sales: 1,000 underpaid, 20% of the 5,000 settled (> 5%)
        IRoyaltyLedger.Report memory r = _audit(licenceId, 0, 20_000 * USD, 0, 3_000 * USD);
        // interest: 1,000 x 12% x 100 / 365 = 32.876712... -> 32,876,712 units
        uint256 interest = 32_876_712;
        assertEq(uint256(1_000 * USD) * 1_200 * (100 days) / (10_000 * 365 days), interest);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(3, 2, licenceId, 1_000 * USD, dueAt, dueAt + 100 days, INTEREST_BPS, interest);
        vm.expectEmit(true, true, true, true, address(ledger));
        // the audit cost is not a royalty: no tax is withheld from it
        emit IRoyaltyLedger.Released(4, licenceId, 3_000 * USD, 0, 4_500 * USD + 900 * USD + (interest - interest / 10) + 3_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.AuditSettled(
            2, licenceId, 0, int256(uint256(1_000 * USD)), 5_000 * USD, AUDIT_THRESHOLD_BPS, true, 4, 3_000 * USD
        );
        uint256 id = settle(r);
        assertEq(id, 2);
        IRoyaltyLedger.Settlement memory s = ledger.settlement(2);
        assertEq(uint8(s.kind), uint8(IRoyaltyLedger.Kind.Audit));
        assertEq(s.dueAt, dueAt, "due from the original due date");
        assertSettlement(2, IRoyaltyLedger.State.Final, 1_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
        assertEq(uint8(ledger.settlement(3).kind), uint8(IRoyaltyLedger.Kind.Interest));
        assertEq(uint8(ledger.settlement(4).kind), uint8(IRoyaltyLedger.Kind.AuditCost));
        assertSettlement(4, IRoyaltyLedger.State.Final, 3_000 * USD, 3_000 * USD, 3_000 * USD, 3_000 * USD);
        assertEq(ledger.escrowOf(licenceId), ESCROW - 5_000 * USD - 1_000 * USD - interest - 3_000 * USD);
        assertEq(ledger.latestOfPeriod(licenceId, 0), 2);
    }

    function test_audit_AtOrBelowThresholdIsAPlainTrueUp() public {
        (uint256 licenceId,) = _auditedLicence();
        // 5,000 more sales: 250 underpaid, exactly 5% of 5,000: not above the threshold
        IRoyaltyLedger.Report memory r = _audit(licenceId, 0, 5_000 * USD, 0, 3_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.AuditSettled(
            2, licenceId, 0, int256(uint256(250 * USD)), 5_000 * USD, AUDIT_THRESHOLD_BPS, false, 0, 0
        );
        uint256 id = settle(r);
        assertEq(ledger.settlement(id).dueAt, block.timestamp, "due when it settles: no interest");
        assertEq(ledger.settlementCount(), 2, "no interest, no audit cost");
        assertSettlement(id, IRoyaltyLedger.State.Final, 250 * USD, 250 * USD, 250 * USD, 250 * USD);
    }

    function test_audit_MeasuredAgainstThePeriodAsCorrectedBefore() public {
        (uint256 licenceId,) = _auditedLicence();
        settle(_correction(licenceId, 0, 20_000 * USD, 0)); // +1,000: the period stands at 6,000
        // 8,000 more: 400 underpaid, 6.67% of 6,000 (> 5%); against the original's 5,000 alone it
        // would be 8%: the event names the 6,000
        IRoyaltyLedger.Report memory r = _audit(licenceId, 0, 8_000 * USD, 0, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.AuditSettled(
            3, licenceId, 0, int256(uint256(400 * USD)), 6_000 * USD, AUDIT_THRESHOLD_BPS, true, 0, 0
        );
        settle(r);
        // 5.5% of 6,000 + 400 = 352 more: 352 / 6,400 = 5.5% > 5%
        r = _audit(licenceId, 0, 7_040 * USD, 0, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.AuditSettled(
            5, licenceId, 0, int256(uint256(352 * USD)), 6_400 * USD, AUDIT_THRESHOLD_BPS, true, 0, 0
        );
        settle(r);
    }

    function test_audit_OverpaymentBecomesCreditAndNoCost() public {
        (uint256 licenceId,) = _auditedLicence();
        IRoyaltyLedger.Report memory r = _audit(licenceId, 0, 0, 10_000 * USD, 3_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.AuditSettled(
            2, licenceId, 0, -int256(uint256(500 * USD)), 5_000 * USD, AUDIT_THRESHOLD_BPS, false, 0, 0
        );
        settle(r);
        assertEq(ledger.creditOf(licenceId), 500 * USD);
        assertEq(ledger.settlementCount(), 2);
    }

    function test_audit_ZeroThresholdChargesOnAnyUnderpayment() public {
        ILicenceRegistry.Terms memory t = _auditTerms();
        t.term.calendar.auditThresholdBps = 0;
        uint256 licenceId = registerFunded(t, ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD);
        settle(_audit(licenceId, 0, 20 * USD, 0, 1 * USD)); // 1 underpaid
        assertEq(uint8(ledger.settlement(ledger.settlementCount()).kind), uint8(IRoyaltyLedger.Kind.AuditCost));
    }

    function test_audit_NoReserveOnAFinding() public {
        ILicenceRegistry.Terms memory t = _reserveTerms();
        t.term.calendar.auditThresholdBps = AUDIT_THRESHOLD_BPS;
        uint256 licenceId = registerFunded(t, ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD); // 1 report, 2 reserve
        uint256 id = settle(_audit(licenceId, 0, 20_000 * USD, 0, 0));
        assertEq(id, 3);
        assertEq(ledger.settlementCount(), 3, "no reserve held from an audit");
        assertSettlement(id, IRoyaltyLedger.State.Final, 1_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
    }

    function test_audit_RejectsAnAuditOfNoSettlement() public {
        uint256 licenceId = registerFunded(_auditTerms(), ESCROW);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = _report(licenceId, 0, 100_000 * USD, 0);
        r.audit = true;
        expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.AuditMustCorrect.selector, licenceId, 0));
        assertEq(ledger.settlementCount(), 0);
    }

    function test_audit_RejectsACostOnAnAdjustment() public {
        uint256 licenceId = registerFunded(_auditTerms(), ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD);
        IRoyaltyLedger.Report memory r = _correction(licenceId, 0, 1_000 * USD, 0);
        r.auditCost = 5 * USD;
        expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.AuditCostWithoutAudit.selector, licenceId, 5 * USD));
        assertEq(ledger.settlementCount(), 1);
    }

    function test_audit_SignaturesCoverTheFlagAndTheCost() public {
        uint256 licenceId = registerFunded(_auditTerms(), ESCROW);
        settlePeriod(licenceId, 0, 100_000 * USD);
        IRoyaltyLedger.Report memory r = _audit(licenceId, 0, 20_000 * USD, 0, 3_000 * USD);
        bytes[] memory sigs = signReport(r, 2);
        r.auditCost = 30_000 * USD; // the relayer raises the cost after signing
        vm.expectRevert();
        vm.prank(relayer);
        ledger.settleReports(asBatch(r), asBatch(sigs));
        r.auditCost = 3_000 * USD;
        r.audit = false; // or drops the flag
        vm.expectRevert();
        vm.prank(relayer);
        ledger.settleReports(asBatch(r), asBatch(sigs));
        assertEq(ledger.settlementCount(), 1);
    }

    // ------------------------------------------------------------------ registration


    function test_register_RejectsReserveAndAuditClausesOutOfRange() public {
        ILicenceRegistry.Terms memory t = _reserveTerms();
        t.term.calendar.reserveBps = 5_001;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ReserveTooHigh.selector, 5_001));
        t.term.calendar.reserveBps = RESERVE_BPS;
        t.term.calendar.reservePeriods = 0;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ReservePeriodsOutOfRange.selector, RESERVE_BPS, 0));
        t.term.calendar.reservePeriods = 25;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ReservePeriodsOutOfRange.selector, RESERVE_BPS, 25));
        t.term.calendar.reserveBps = 0;
        t.term.calendar.reservePeriods = 3;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.ReservePeriodsOutOfRange.selector, 0, 3));
        t = _auditTerms();
        t.term.calendar.auditThresholdBps = 10_001;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.AuditThresholdTooHigh.selector, 10_001));
        // the limits themselves are accepted
        t.term.calendar.auditThresholdBps = 10_000;
        t.term.calendar.reserveBps = 5_000;
        t.term.calendar.reservePeriods = 24;
        register(t);
    }

    // ------------------------------------------------------------------ helpers

    function _reportAfter(uint256 licenceId, uint32 period, uint128 sales, uint128 returns_)
        private
        returns (IRoyaltyLedger.Report memory)
    {
        warpPastPeriod(period);
        return _report(licenceId, period, sales, returns_);
    }
}
