// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {RoyaltyMathHarness} from "../../contracts/test/RoyaltyMathHarness.sol";
import {Base} from "./Base.t.sol";

/// @notice The ledger and the registry under the calendar rules: calendar-quarter periods and
/// calendar contract years, sales priced in the contract year of their date, nil reports, due
/// dates and late-payment interest, and the registration checks of the date rule.
/// @dev Dates are written out with their unix times; a day is 86,400 s.
contract LicenceCalendarLedgerTest is Base {
    uint64 internal constant DAY = 1 days;
    /// @dev 9000-01-01 00:00 UTC, the clock's MAX_TIMESTAMP.
    uint64 internal constant YEAR_9000 = 221_845_392_000;

    // ------------------------------------------------------------------ dates used below

    /// @dev 00:00 UTC of the dates the calendar tests use (days since 1970-01-01 times 86,400).
    uint64 internal constant JAN_01_2025 = 1_735_689_600;
    uint64 internal constant FEB_10_2025 = 1_739_145_600;
    uint64 internal constant APR_01_2025 = 1_743_465_600;
    uint64 internal constant JUL_01_2025 = 1_751_328_000;
    uint64 internal constant OCT_01_2025 = 1_759_276_800;
    uint64 internal constant DEC_27_2025 = 1_766_793_600;
    uint64 internal constant JAN_01_2026 = 1_767_225_600;
    uint64 internal constant MAR_27_2026 = 1_774_569_600;
    uint64 internal constant APR_01_2026 = 1_775_001_600;
    uint64 internal constant JUN_25_2026 = 1_782_345_600;
    uint64 internal constant JUL_01_2026 = 1_782_864_000;
    uint64 internal constant JAN_01_2027 = 1_798_761_600;
    uint64 internal constant MAR_01_2028 = 1_835_481_600;
    uint64 internal constant JAN_01_2029 = 1_861_920_000;

    /// @dev Calendar quarters (1 January, 1 April, 1 July, 1 October) from 2025-02-10, calendar
    /// contract years (from 1 January), term to 2027-01-01, 30 due days.
    function _quarterTerms() internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.start = FEB_10_2025;
        t.term.end = JAN_01_2027;
        t.term.periodSeconds = 0;
        t.term.calendar = ILicenceRegistry.Calendar({
            periodMonths: 3, anniversary: false, yearMonth: 1, yearDay: 1, dueDays: DUE_DAYS, interestBps: 0,
            reserveBps: 0, reservePeriods: 0, auditThresholdBps: 0, fxRule: 0, fxSource: bytes16(0)
        });
    }

    // ------------------------------------------------------------------ calendar quarters

    function test_calendarQuarters_PeriodBounds() public {
        uint256 id = register(_quarterTerms());
        uint64[7] memory edges = [FEB_10_2025, APR_01_2025, JUL_01_2025, OCT_01_2025, JAN_01_2026, APR_01_2026, JUL_01_2026];
        // Period 0 is the first quarter of 2025 cut at the start: 2025-02-10..2025-04-01; then
        // whole quarters. Each is due 30 days after it ends.
        for (uint32 p; p < 6; ++p) {
            (uint64 from, uint64 to, uint64 dueAt) = registry.periodBounds(id, p);
            assertEq(from, edges[p], "from");
            assertEq(to, edges[p + 1], "to");
            assertEq(dueAt, edges[p + 1] + 30 * DAY, "dueAt");
        }
        (uint64 from0, uint64 to0,) = registry.periodBounds(id, 0);
        assertEq(to0 - from0, 50 * DAY, "19 days of February + 31 of March");
        (uint64 from1, uint64 to1,) = registry.periodBounds(id, 1);
        assertEq(to1 - from1, 91 * DAY, "April 30 + May 31 + June 30");
    }

    function test_calendarQuarters_PeriodOfAtBoundaries() public {
        uint256 id = register(_quarterTerms());
        assertEq(registry.periodOf(id, FEB_10_2025), 0);
        assertEq(registry.periodOf(id, APR_01_2025 - 1), 0);
        assertEq(registry.periodOf(id, APR_01_2025), 1);
        assertEq(registry.periodOf(id, JUL_01_2025 - 1), 1);
        assertEq(registry.periodOf(id, JUL_01_2025), 2);
        assertEq(registry.periodOf(id, OCT_01_2025), 3);
        assertEq(registry.periodOf(id, JAN_01_2026 - 1), 3);
        assertEq(registry.periodOf(id, JAN_01_2026), 4);
        assertEq(registry.periodOf(id, JUL_01_2026), 6);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.BeforeStart.selector, FEB_10_2025 - 1, FEB_10_2025));
        registry.periodOf(id, FEB_10_2025 - 1);
    }

    function test_calendarQuarters_ContractYearBounds() public {
        uint256 id = register(_quarterTerms());
        // Year 0: the calendar year 2025 cut at the start: 2025-02-10..2026-01-01 (325 days: 19
        // of February, then 31+30+31+30+31+31+30+31+30+31), of a 365-day year.
        (uint64 from, uint64 to, uint64 dueAt, uint64 fullLength) = registry.contractYearBounds(id, 0);
        assertEq(from, FEB_10_2025);
        assertEq(to, JAN_01_2026);
        assertEq(dueAt, JAN_01_2026 + 30 * DAY);
        assertEq(fullLength, 365 * DAY);
        assertEq(to - from, 325 * DAY);
        (from, to, dueAt, fullLength) = registry.contractYearBounds(id, 1);
        assertEq(from, JAN_01_2026);
        assertEq(to, JAN_01_2027);
        assertEq(fullLength, 365 * DAY);
        assertEq(registry.contractYearOf(id, FEB_10_2025), 0);
        assertEq(registry.contractYearOf(id, JAN_01_2026 - 1), 0);
        assertEq(registry.contractYearOf(id, JAN_01_2026), 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.BeforeStart.selector, FEB_10_2025 - 1, FEB_10_2025));
        registry.contractYearOf(id, FEB_10_2025 - 1);
    }

    function test_calendarQuarters_SettlePeriodZeroAfterItsEnd() public {
        uint256 id = register(_quarterTerms());
        deposit(id, 10_000 * USD);
        vm.warp(APR_01_2025 - 1);
        IRoyaltyLedger.Report memory r = makeReport(id, 0, salesOf(100_000 * USD));
        expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.PeriodNotEnded.selector, id, 0, APR_01_2025));
        vm.warp(APR_01_2025);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(
            1, id, IRoyaltyLedger.Kind.Report, 0, 5_000 * USD, 0, 5_000 * USD, 5_000 * USD, false, APR_01_2025 + 30 * DAY
        );
        uint256 settled = settle(r);
        assertSettlement(settled, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertEq(ledger.settlement(settled).dueAt, APR_01_2025 + 30 * DAY);
        assertEq(ledger.settlement(settled).year, 0);
        assertEq(ledger.settledPeriod(id, 0), settled);
    }

    /// @notice A guarantee for a short first calendar year is prorated by its days in the
    /// 365-day year: 2025-02-10..2026-01-01 is 325 days.
    function test_chargeMinimumGuarantee_ShortFirstCalendarYearProRata() public {
        ILicenceRegistry.Terms memory t = _quarterTerms();
        t.schedule.minimumGuarantee = 36_500 * USD;
        uint256 id = register(t);
        deposit(id, 100_000 * USD);
        vm.warp(APR_01_2025);
        settle(makeReport(id, 0, salesOf(100_000 * USD))); // 5,000
        vm.warp(JAN_01_2026 - 1);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearNotEnded.selector, id, 0, JAN_01_2026));
        ledger.chargeMinimumGuarantee(id, 0);
        vm.warp(JAN_01_2026);
        // 36,500 * 325 / 365 = 32,500; less the 5,000 earned: 27,500.
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(
            2,
            id,
            IRoyaltyLedger.Kind.MinimumGuarantee,
            0,
            27_500 * USD,
            0,
            27_500 * USD,
            27_500 * USD,
            false,
            JAN_01_2026 + 30 * DAY
        );
        uint256 charge = ledger.chargeMinimumGuarantee(id, 0);
        assertSettlement(charge, IRoyaltyLedger.State.Final, 27_500 * USD, 27_500 * USD, 27_500 * USD, 27_500 * USD);
    }

    /// @notice The same in a leap year: 2028-03-01..2029-01-01 is 306 days of 366.
    function test_chargeMinimumGuarantee_ShortFirstLeapYearProRata() public {
        ILicenceRegistry.Terms memory t = _quarterTerms();
        t.term.start = MAR_01_2028;
        t.term.end = JAN_01_2029 + 365 * DAY;
        t.schedule.minimumGuarantee = 36_600 * USD;
        uint256 id = register(t);
        deposit(id, 100_000 * USD);
        (uint64 from, uint64 to,, uint64 fullLength) = registry.contractYearBounds(id, 0);
        assertEq(from, MAR_01_2028);
        assertEq(to, JAN_01_2029);
        assertEq(fullLength, 366 * DAY, "2028 is a leap year");
        assertEq(to - from, 306 * DAY, "31+30+31+30+31+31+30+31+30+31");
        vm.warp(JAN_01_2029);
        // 36,600 * 306 / 366 = 30,600, nothing reported.
        uint256 charge = ledger.chargeMinimumGuarantee(id, 0);
        assertEq(ledger.settlement(charge).royalty, 30_600 * USD);
    }

    // ------------------------------------------------------------------ a period across a contract year's end

    /// @dev The issue's licence: tiers 2% to 100,000 and 5% above, calendar contract years from
    /// 2025-01-01, 90-day periods, a 10,000 guarantee per year, to 2027-01-01.
    function _issueTerms() internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.start = JAN_01_2025;
        t.term.end = JAN_01_2027;
        t.term.calendar.yearMonth = 1;
        t.term.calendar.yearDay = 1;
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](2);
        t.schedule.tiers[0] = tier(0, 200);
        t.schedule.tiers[1] = tier(100_000 * USD, 500);
        t.schedule.minimumGuarantee = 10_000 * USD;
    }

    /// @notice THE ISSUE'S EXAMPLE. 90,000 of sales already in 2025; period 4 (2025-12-27..
    /// 2026-03-27, days 360..450) holds 20,000 of December sales (year 0, 2025) and 50,000 of
    /// January sales (year 1, 2026). Each year is priced at its own tier position:
    /// 10,000 * 2% + 10,000 * 5% (year 0, from 90,000 to 110,000) + 50,000 * 2% (year 1, from 0)
    /// = 200 + 500 + 1,000 = 1,700. The old code priced all 70,000 at year 0's position:
    /// 10,000 * 2% + 60,000 * 5% = 3,200.
    /// Year 0's guarantee then sees 1,800 + 700 = 2,500 of royalty: a shortfall of 10,000 - 2,500
    /// = 7,500 (the old code counted 1,800 + 3,200 = 5,000 in year 0, leaving 5,000).
    function test_settleReports_IssueExamplePricesEachYearAtItsTierPosition() public {
        uint256 id = register(_issueTerms());
        deposit(id, 100_000 * USD);
        vm.warp(JAN_01_2025 + 90 * DAY);
        uint256 first = settle(makeReport(id, 0, salesOf(90_000 * USD))); // 90,000 * 2% = 1,800
        assertEq(ledger.settlement(first).royalty, 1_800 * USD);

        (uint64 from, uint64 to,) = registry.periodBounds(id, 4);
        assertEq(from, DEC_27_2025);
        assertEq(to, MAR_27_2026);
        assertEq(registry.contractYearOf(id, to - 1), 1);
        vm.warp(MAR_27_2026);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = yearSales(0, 20_000 * USD);
        buckets[1] = yearSales(1, 50_000 * USD);
        IRoyaltyLedger.Report memory r = makeReport(id, 4, buckets);

        int256[] memory tierNet = new int256[](2);
        tierNet[0] = int256(uint256(20_000 * USD));
        tierNet[1] = int256(uint256(50_000 * USD));
        int256[] memory yearRoyalty = new int256[](2);
        yearRoyalty[0] = int256(uint256(700 * USD)); // 200 + 500
        yearRoyalty[1] = int256(uint256(1_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(
            2, id, IRoyaltyLedger.Kind.Report, 4, 1_700 * USD, 0, 1_700 * USD, 1_700 * USD, false, MAR_27_2026 + 30 * DAY
        );
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(2, id, 2, r.linesRoot, r.lineCount, 0, tierNet, yearRoyalty, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.BucketReported(2, 0, 0, 0, 0, 0, 20_000 * USD, 0, true);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.BucketReported(2, 1, 0, 0, 0, 0, 50_000 * USD, 0, true);
        uint256 crossing = settle(r);
        assertEq(ledger.settlement(crossing).royalty, 1_700 * USD, "not 3,200");
        assertEq(ledger.settlement(crossing).year, 0, "the year of the period's start");

        // Year 0's guarantee: 10,000 - (1,800 + 700) = 7,500.
        uint256 charge0 = ledger.chargeMinimumGuarantee(id, 0);
        assertEq(ledger.settlement(charge0).royalty, 7_500 * USD, "not 5,000");
        (, uint64 year0End, uint64 year0Due,) = registry.contractYearBounds(id, 0);
        assertEq(year0End, JAN_01_2026);
        assertEq(ledger.settlement(charge0).dueAt, year0Due);
        assertEq(year0Due, JAN_01_2026 + 30 * DAY);

        // Year 1 goes on from 50,000 of tier-priced sales and 1,000 of royalty: period 5
        // (2026-03-27..2026-06-25) with 60,000 pays 50,000 * 2% + 10,000 * 5% = 1,500.
        vm.warp(JUN_25_2026);
        uint256 next = settle(makeReport(id, 5, salesOf(60_000 * USD)));
        assertEq(ledger.settlement(next).royalty, 1_500 * USD);
        assertEq(ledger.settlement(next).year, 1);
        // ... and its guarantee sees 1,000 + 1,500: 10,000 - 2,500 = 7,500.
        vm.warp(JAN_01_2027);
        uint256 charge1 = ledger.chargeMinimumGuarantee(id, 1);
        assertEq(ledger.settlement(charge1).royalty, 7_500 * USD);
    }

    /// @notice Pricing the same buckets directly (the registry's schedule and scope, RoyaltyMath)
    /// gives the same per-year figures.
    function test_price_IssueExamplePerYear() public {
        uint256 id = register(_issueTerms());
        vm.warp(MAR_27_2026);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = yearSales(0, 20_000 * USD);
        buckets[1] = yearSales(1, 50_000 * USD);
        IRoyaltyLedger.Report memory r = makeReport(id, 4, buckets);
        uint256[] memory before = new uint256[](2);
        before[0] = 90_000 * USD;
        ILicenceRegistry.Priced memory priced = new RoyaltyMathHarness().price(
            registry.scheduleAt(id, DEC_27_2025), registry.settlementContext(id).scope, r, 0, before
        );
        assertEq(priced.royalty, int256(uint256(1_700 * USD)));
        assertEq(priced.yearRoyalty[0], int256(uint256(700 * USD)));
        assertEq(priced.yearRoyalty[1], int256(uint256(1_000 * USD)));
        assertEq(priced.yearTierNet[0], int256(uint256(20_000 * USD)));
        assertEq(priced.yearTierNet[1], int256(uint256(50_000 * USD)));
    }

    /// @notice A guarantee shortfall charged before a year-crossing report offsets only the
    /// report's sales of that year: the next year's part is owed in full.
    function test_settleReports_GuaranteeCreditOnlyForItsYearsSales() public {
        uint256 id = register(_issueTerms());
        deposit(id, 100_000 * USD);
        vm.warp(JAN_01_2026);
        uint256 charge = ledger.chargeMinimumGuarantee(id, 0); // nothing reported: 10,000
        assertEq(ledger.settlement(charge).royalty, 10_000 * USD);
        vm.warp(MAR_27_2026);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = yearSales(0, 20_000 * USD); // 20,000 * 2% = 400, covered by the credit
        buckets[1] = yearSales(1, 50_000 * USD); // 50,000 * 2% = 1,000, owed
        uint256 crossing = settle(makeReport(id, 4, buckets));
        assertSettlement(crossing, IRoyaltyLedger.State.Final, 1_400 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
    }

    // ------------------------------------------------------------------ bucket years

    function test_settleReports_RevertWhen_BucketYearOutsidePeriod() public {
        uint256 id = registerDefault();
        deposit(id, 100_000 * USD);
        warpPastPeriod(5);
        // Period 0 (days 0..90) lies in year 0 only.
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = yearSales(1, 1_000 * USD);
        expectSettleRevert(
            makeReport(id, 0, buckets),
            abi.encodeWithSelector(IRoyaltyLedger.BucketYearOutsidePeriod.selector, 0, 1, 0, 0)
        );
        // Period 4 (days 360..450) spans years 0 and 1 (year 1 begins on day 366): year 2 is not its.
        buckets = new IRoyaltyLedger.Bucket[](2);
        buckets[0] = yearSales(1, 1_000 * USD);
        buckets[1] = yearSales(2, 1_000 * USD);
        expectSettleRevert(
            makeReport(id, 4, buckets),
            abi.encodeWithSelector(IRoyaltyLedger.BucketYearOutsidePeriod.selector, 1, 2, 0, 1)
        );
        // Period 5 (days 450..540) lies in year 1 only: year 0 is before it.
        buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = yearSales(0, 1_000 * USD);
        expectSettleRevert(
            makeReport(id, 5, buckets),
            abi.encodeWithSelector(IRoyaltyLedger.BucketYearOutsidePeriod.selector, 0, 0, 1, 1)
        );
        assertEq(ledger.settlementCount(), 0);
    }

    // ------------------------------------------------------------------ nil reports

    /// @notice A report without sales counts as reported: the period is settled, nothing owed.
    function test_settleReports_NilReportSettlesThePeriod() public {
        uint256 id = registerDefault();
        deposit(id, 10_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(id, 0, new IRoyaltyLedger.Bucket[](0));
        assertEq(r.lineCount, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(1, id, IRoyaltyLedger.Kind.Report, 0, 0, 0, 0, 0, false, periodEnd(0) + 30 * DAY);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(1, id, 1, r.linesRoot, 0, 0, signedOne(0), signedOne(0), 0);
        uint256 settled = settle(r);
        assertEq(ledger.settledPeriod(id, 0), settled);
        assertSettlement(settled, IRoyaltyLedger.State.Final, 0, 0, 0, 0);
        assertEq(ledger.escrowOf(id), 10_000 * USD);
        assertEq(ledger.distributedOf(id), 0);

        IRoyaltyLedger.Report memory again = makeReport(id, 0, salesOf(100_000 * USD));
        expectSettleRevert(
            again, abi.encodeWithSelector(IRoyaltyLedger.PeriodAlreadySettled.selector, id, 0, settled)
        );
    }

    /// @notice A nil report owes the period's fixed fee, in the first year of a crossing period.
    function test_settleReports_NilReportChargesTheFixedFee() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.fixedFeePerPeriod = 1_000 * USD;
        uint256 id = register(t);
        deposit(id, 10_000 * USD);
        warpPastPeriod(4);
        IRoyaltyLedger.Report memory r = makeReport(id, 4, new IRoyaltyLedger.Bucket[](0));
        // Period 4 spans years 0 and 1: the fee is year 0's.
        int256[] memory tierNet = new int256[](2);
        int256[] memory yearRoyalty = new int256[](2);
        yearRoyalty[0] = int256(uint256(1_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(1, id, 1, r.linesRoot, 0, 0, tierNet, yearRoyalty, 0);
        uint256 settled = settle(r);
        assertSettlement(settled, IRoyaltyLedger.State.Final, 1_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
        assertEq(ledger.escrowOf(id), 9_000 * USD);
        assertEq(ledger.taxClaimable(id), 100 * USD);
        assertEq(ledger.distributedOf(id), 900 * USD);
        expectSettleRevert(
            makeReport(id, 4, new IRoyaltyLedger.Bucket[](0)),
            abi.encodeWithSelector(IRoyaltyLedger.PeriodAlreadySettled.selector, id, 4, settled)
        );
    }

    // ------------------------------------------------------------------ due dates and interest

    /// @dev 12% a year, due 30 days after the period; interest is actual/365 on seconds late.
    uint16 internal constant INTEREST_BPS = 1_200;
    /// @dev Period 0 (days 0..90) of the default licence is due on day 120.
    uint64 internal constant DUE_0 = START + 120 days;

    function _interestTerms() internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.calendar.interestBps = INTEREST_BPS;
    }

    /// @notice A report settled 40 days after its period (10 days after its due date), paid from
    /// escrow, is charged interest on the paid principal for the 10 days:
    /// floor(5,000,000,000 * 1,200 * 864,000 / (10,000 * 31,536,000)) = floor(16,438,356.16...)
    /// = 16,438,356 units, a Final settlement of kind Interest split like a royalty.
    function test_interest_OnReportSettledAfterItsDueDate() public {
        uint256 id = register(_interestTerms());
        deposit(id, 10_000 * USD);
        vm.warp(periodEnd(0) + 40 days);
        IRoyaltyLedger.Report memory r = makeReport(id, 0, salesOf(100_000 * USD));
        uint256 interest = 16_438_356;
        assertEq(uint256(5_000 * USD) * 1_200 * 864_000 / (10_000 * 31_536_000), interest);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(
            1, id, IRoyaltyLedger.Kind.Report, 0, 5_000 * USD, 0, 5_000 * USD, 5_000 * USD, false, periodEnd(0) + 30 days
        );
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(
            2, id, IRoyaltyLedger.Kind.Interest, 0, interest, 0, interest, interest, false, uint64(block.timestamp)
        );
        vm.expectEmit(true, true, true, true, address(ledger));
        // 10% withheld: floor(16,438,356 / 10) = 1,643,835; 14,794,521 to the payees.
        emit IRoyaltyLedger.Released(2, id, interest, 1_643_835, 4_500 * USD + 14_794_521);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(
            2, 1, id, 5_000 * USD, DUE_0, DUE_0 + 10 days, INTEREST_BPS, interest
        );
        uint256 settled = settle(r);
        assertEq(ledger.settlement(settled).dueAt, DUE_0);
        assertEq(ledger.settlementCount(), 2);
        IRoyaltyLedger.Settlement memory i = ledger.settlement(2);
        assertEq(uint8(i.kind), uint8(IRoyaltyLedger.Kind.Interest));
        assertEq(uint8(i.state), uint8(IRoyaltyLedger.State.Final));
        assertEq(i.period, 0);
        assertEq(i.year, 0);
        assertSettlement(2, IRoyaltyLedger.State.Final, interest, interest, interest, interest);
        assertEq(ledger.escrowOf(id), 10_000 * USD - 5_000 * USD - interest);
        assertEq(ledger.taxClaimable(id), 500 * USD + 1_643_835);
        // 4,514,794,521 distributed: licensor floor(* 70%) = 3,160,356,164, co-owner the rest.
        assertEq(ledger.distributedOf(id), 4_514_794_521);
        assertEq(ledger.claimable(id, licensor), 3_160_356_164);
        assertEq(ledger.claimable(id, coOwner), 1_354_438_357);
        assertEq(ledger.arrearsOf(id), 0);
    }

    /// @notice On the due date itself nothing is late; one second later it is (19 units).
    function test_interest_NoneWhenSettledOnTime() public {
        uint256 id = register(_interestTerms());
        deposit(id, 10_000 * USD);
        vm.warp(DUE_0);
        uint256 settled = settle(makeReport(id, 0, salesOf(100_000 * USD)));
        assertEq(ledger.settlementCount(), 1, "no interest settlement");
        assertEq(ledger.settlement(settled).dueAt, DUE_0);

        // Period 1 is due on day 210; settled one second late: floor(5e9 * 1,200 * 1 / 3.1536e11) = 19.
        vm.warp(START + 210 days + 1);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(3, 2, id, 5_000 * USD, START + 210 days, START + 210 days + 1, INTEREST_BPS, 19);
        settle(makeReport(id, 1, salesOf(100_000 * USD)));
        assertEq(ledger.settlement(3).royalty, 19);
    }

    /// @notice No interest without a rate, however late.
    function test_interest_NoneWithoutRate() public {
        uint256 id = registerDefault();
        deposit(id, 10_000 * USD);
        vm.warp(DUE_0 + 300 days);
        settle(makeReport(id, 0, salesOf(100_000 * USD)));
        assertEq(ledger.settlementCount(), 1);
    }

    /// @notice Arrears paid by deposits after the due date: each paid part carries interest from
    /// the due date to its deposit, charged behind the principal in the arrears queue and paid by
    /// the same deposit when it is enough; the interest, paid late itself, bears none.
    function test_interest_OnArrearsPaidLateByDeposits() public {
        uint256 id = register(_interestTerms());
        vm.warp(DUE_0); // on time, but nothing in escrow: 5,000 of arrears, no interest
        uint256 report = settle(makeReport(id, 0, salesOf(100_000 * USD)));
        assertEq(ledger.arrearsOf(id), 5_000 * USD);
        assertEq(ledger.settlementCount(), 1);

        // Day 130: 2,000 pays 2,000 of principal, 10 days late:
        // floor(2,000,000,000 * 1,200 * 864,000 / (10,000 * 31,536,000)) = 6,575,342.
        vm.warp(DUE_0 + 10 days);
        token.mint(licensee, 2_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(2, report, id, 2_000 * USD, DUE_0, DUE_0 + 10 days, INTEREST_BPS, 6_575_342);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(id, licensee, 2_000 * USD, 2_000 * USD, 0);
        vm.prank(licensee);
        ledger.deposit(id, 2_000 * USD);
        assertEq(ledger.arrearsOf(id), 3_000 * USD + 6_575_342, "the interest is arrears too");
        assertSettlement(2, IRoyaltyLedger.State.Final, 6_575_342, 6_575_342, 0, 0);

        // Day 140: 3,000 more principal, 20 days late:
        // floor(3,000,000,000 * 1,200 * 1,728,000 / (10,000 * 31,536,000)) = 19,726,027;
        // the first interest (due day 130, paid day 140) bears none.
        vm.warp(DUE_0 + 20 days);
        uint256 all = 3_000 * USD + 6_575_342 + 19_726_027;
        token.mint(licensee, all + 1_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(report, id, 3_000 * USD, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(3, report, id, 3_000 * USD, DUE_0, DUE_0 + 20 days, INTEREST_BPS, 19_726_027);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(2, id, 6_575_342, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(3, id, 19_726_027, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(id, licensee, all + 1_000 * USD, all, 1_000 * USD);
        vm.prank(licensee);
        ledger.deposit(id, all + 1_000 * USD);
        assertEq(ledger.settlementCount(), 3, "no interest on interest");
        assertEq(ledger.arrearsOf(id), 0);
        assertEq(ledger.escrowOf(id), 1_000 * USD);
        assertEq(ledger.arrearsClearedAt(id), DUE_0 + 20 days);
        assertSettlement(report, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertSettlement(2, IRoyaltyLedger.State.Final, 6_575_342, 6_575_342, 6_575_342, 6_575_342);
        assertSettlement(3, IRoyaltyLedger.State.Final, 19_726_027, 19_726_027, 19_726_027, 19_726_027);
        // Withholding per settlement: 500 + floor(657,534.2) + floor(1,972,602.7).
        assertEq(ledger.taxClaimable(id), 500 * USD + 657_534 + 1_972_602);
        // Paid in all: 2,000 on day 130 and `all` on day 140.
        assertEq(ledger.distributedOf(id), 2_000 * USD + all - (500 * USD + 657_534 + 1_972_602));
    }

    /// @notice A deposit too small for the interest leaves the rest of it in arrears, paid later
    /// without further interest.
    function test_interest_PartlyPaidInterestStaysArrears() public {
        uint256 id = register(_interestTerms());
        vm.warp(DUE_0);
        settle(makeReport(id, 0, salesOf(100_000 * USD)));
        vm.warp(DUE_0 + 10 days);
        deposit(id, 5_000 * USD + 1_000_000); // the principal, and 1 of the 16.438356 of interest
        assertEq(ledger.arrearsOf(id), 16_438_356 - 1_000_000);
        assertSettlement(2, IRoyaltyLedger.State.Final, 16_438_356, 16_438_356, 1_000_000, 1_000_000);
        vm.warp(DUE_0 + 100 days);
        deposit(id, 16_438_356 - 1_000_000);
        assertEq(ledger.arrearsOf(id), 0);
        assertEq(ledger.settlementCount(), 2);
    }

    /// @notice A guarantee shortfall paid after its due date (year end + 30 days) bears interest too.
    function test_interest_OnGuaranteeChargedAfterItsDueDate() public {
        ILicenceRegistry.Terms memory t = _interestTerms();
        t.schedule.minimumGuarantee = 10_000 * USD;
        uint256 id = register(t);
        deposit(id, 20_000 * USD);
        (uint64 end, uint64 dueAt) = yearEnd(id, 0);
        assertEq(end, START + 366 days);
        assertEq(dueAt, START + 396 days);
        vm.warp(dueAt + 73 days);
        // 10,000 for 73 days at 12%: 10,000 * 0.12 * 73 / 365 = 240 exactly.
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(2, 1, id, 10_000 * USD, dueAt, dueAt + 73 days, INTEREST_BPS, 240 * USD);
        ledger.chargeMinimumGuarantee(id, 0);
        assertEq(ledger.escrowOf(id), 20_000 * USD - 10_000 * USD - 240 * USD);
    }

    /// @notice What the contract does under dispute: a disputed settlement's arrears paid by a
    /// deposit after the due date bear no interest (the amount is contested, not late), and none
    /// is charged when the dispute ends either, even if upheld in full.
    function test_interest_NoneWhileDisputed() public {
        ILicenceRegistry.Terms memory t = _interestTerms();
        t.disputeWindow = 7 days;
        uint256 id = register(t);
        warpPastPeriod(0);
        uint256 report = settle(makeReport(id, 0, salesOf(100_000 * USD))); // 5,000 of arrears
        vm.prank(licensee);
        ledger.dispute(report);
        vm.warp(DUE_0 + 10 days);
        deposit(id, 5_000 * USD);
        assertEq(ledger.arrearsOf(id), 0);
        assertEq(ledger.settlementCount(), 1, "no interest while disputed");
        vm.prank(arbiter);
        ledger.resolveDispute(report, 5_000 * USD);
        assertEq(ledger.settlementCount(), 1, "none after the dispute either");
        assertSettlement(report, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertEq(ledger.distributedOf(id), 4_500 * USD);
    }

    /// @notice A disputed settlement's part left unpaid after the resolution is arrears like any
    /// other: paid late, it bears interest from the original due date.
    function test_interest_AfterDisputeOnTheRemainingArrears() public {
        ILicenceRegistry.Terms memory t = _interestTerms();
        t.disputeWindow = 7 days;
        uint256 id = register(t);
        warpPastPeriod(0);
        uint256 report = settle(makeReport(id, 0, salesOf(100_000 * USD)));
        vm.prank(licensee);
        ledger.dispute(report);
        vm.prank(arbiter);
        ledger.resolveDispute(report, 4_000 * USD);
        vm.warp(DUE_0 + 10 days);
        // 4,000 for 10 days at 12%: floor(4e9 * 1,200 * 864,000 / 3.1536e11) = 13,150,684.
        token.mint(licensee, 4_000 * USD + 13_150_684);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.InterestCharged(2, report, id, 4_000 * USD, DUE_0, DUE_0 + 10 days, INTEREST_BPS, 13_150_684);
        vm.prank(licensee);
        ledger.deposit(id, 4_000 * USD + 13_150_684);
        assertEq(ledger.arrearsOf(id), 0);
    }

    // ------------------------------------------------------------------ signed bucket years

    /// @notice The oracles sign each bucket's contract year: a relayer that moves sales to another
    /// year of the period (another tier position, another guarantee year) breaks the signatures.
    /// Regression: the digest left `year` out although BUCKET_TYPEHASH names it, so a report's
    /// years could be changed after signing, and the digest was not the EIP-712 hash of the type
    /// the oracles are told to sign.
    function test_reportDigest_SignsBucketYear() public {
        uint256 licenceId = registerDefault();
        warpPastPeriod(4);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 4, salesOf(100_000 * USD));
        assertEq(r.buckets[0].year, 0);
        assertEq(registry.typedData().reportDigest(r), _eip712ReportDigest(r), "EIP-712 hash of SalesReport");

        bytes[] memory sigs = signReport(r, THRESHOLD);
        // Period 4 is days 360..450: it crosses year 0's end on day 366, so year 1 is a valid
        // bucket year of it, and the tampered report would otherwise settle.
        r.buckets[0].year = 1;
        bytes32 tampered = registry.typedData().reportDigest(r);
        assertTrue(tampered != _eip712ReportDigest(_withYear(r, 0)), "the year is in the digest");
        assertEq(tampered, _eip712ReportDigest(r));
        (uint8 v, bytes32 rr, bytes32 s) = _split(sigs[0]);
        address recovered = ecrecover(tampered, v, rr, s);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, 0, recovered));
        vm.prank(relayer);
        ledger.settleReports(asBatch(r), asBatch(sigs));
    }

    // ------------------------------------------------------------------ registration of the date rule


    /// @dev Default terms with calendar periods of `months` months and no periodSeconds.
    function _monthTerms(uint8 months, bool anniversary) internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.periodSeconds = 0;
        t.term.calendar.periodMonths = months;
        t.term.calendar.anniversary = anniversary;
    }

    function test_register_RevertWhen_PeriodSecondsWithMonths() public {
        ILicenceRegistry.Terms memory t = _monthTerms(3, false);
        t.term.periodSeconds = PERIOD;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.PeriodSecondsWithMonths.selector, PERIOD));
    }

    function test_register_RevertWhen_PeriodMonthsInvalid() public {
        // Calendar periods must tile the year: 5 does not divide 12.
        expectRegisterRevert(
            _monthTerms(5, false), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 5, false)
        );
        expectRegisterRevert(
            _monthTerms(7, false), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 7, false)
        );
        expectRegisterRevert(
            _monthTerms(24, false), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 24, false)
        );
        // Anniversary periods: any 1..60 months.
        expectRegisterRevert(
            _monthTerms(61, true), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 61, true)
        );
        // 0 months is the fixed-seconds rule whatever `anniversary` says: it needs periodSeconds.
        ILicenceRegistry.Terms memory t = _monthTerms(0, true);
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.PeriodLengthZero.selector));

        // What is allowed registers.
        uint256 id = register(_monthTerms(5, true));
        (uint64 from, uint64 to,) = registry.periodBounds(id, 0);
        assertEq(from, START);
        assertEq(to, 1_713_139_200, "2024-04-15: 5 months after 2023-11-15");
        t = _monthTerms(60, true);
        t.salt = "60";
        id = register(t);
        (, to,) = registry.periodBounds(id, 0);
        assertEq(to, 1_857_859_200, "2028-11-15: 60 months after 2023-11-15");
        t = _monthTerms(0, true);
        t.term.periodSeconds = PERIOD;
        t.salt = "fixed";
        id = register(t);
        (from, to,) = registry.periodBounds(id, 1);
        assertEq(from, START + PERIOD, "0 months: fixed periods, anniversary ignored");
        assertEq(to, START + 2 * PERIOD);
        for (uint8 m = 1; m <= 12; ++m) {
            if (12 % m != 0) continue;
            t = _monthTerms(m, false);
            t.salt = bytes32(uint256(m));
            register(t);
        }
        assertEq(registry.licenceCount(), 3 + 6, "1, 2, 3, 4, 6 and 12 calendar months");
    }

    function test_register_RevertWhen_StartNotMidnight() public {
        ILicenceRegistry.Terms memory t = _monthTerms(3, false);
        t.term.start = START + 1;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.StartNotMidnight.selector, START + 1));
        t.term.start = START + 12 hours;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.StartNotMidnight.selector, START + 12 hours));
        // Fixed-seconds periods may start at any second.
        t = defaultTerms();
        t.term.start = START + 1;
        assertEq(register(t), 1);
    }

    function test_register_RevertWhen_InvalidYearStart() public {
        uint8[2][7] memory invalid = [[2, 30], [2, 31], [4, 31], [13, 1], [0, 5], [5, 0], [6, 31]];
        for (uint256 i; i < invalid.length; ++i) {
            ILicenceRegistry.Terms memory t = defaultTerms();
            t.term.calendar.yearMonth = invalid[i][0];
            t.term.calendar.yearDay = invalid[i][1];
            expectRegisterRevert(
                t, abi.encodeWithSelector(ILicenceRegistry.InvalidYearStart.selector, invalid[i][0], invalid[i][1])
            );
        }
    }

    /// @notice 29 February is a valid year start: in common years the year begins on 28 February.
    function test_register_YearStartOn29February() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.yearMonth = 2;
        t.term.calendar.yearDay = 29;
        uint256 id = register(t);
        // Year 0: the grid year 2023-02-28..2024-02-29 (366 days), cut at START 2023-11-15.
        (uint64 from, uint64 to, uint64 dueAt, uint64 fullLength) = registry.contractYearBounds(id, 0);
        assertEq(from, START);
        assertEq(to, 1_709_164_800, "2024-02-29");
        assertEq(dueAt, 1_709_164_800 + 30 days);
        assertEq(fullLength, 366 days, "2023-02-28..2024-02-29");
        // Year 1: 2024-02-29..2025-02-28, 365 days.
        (from, to,, fullLength) = registry.contractYearBounds(id, 1);
        assertEq(from, 1_709_164_800);
        assertEq(to, 1_740_700_800, "2025-02-28");
        assertEq(fullLength, 365 days);
        // Year 2: 2025-02-28..2026-02-28.
        (from, to,,) = registry.contractYearBounds(id, 2);
        assertEq(from, 1_740_700_800);
        assertEq(to, 1_772_236_800, "2026-02-28");
        assertEq(registry.contractYearOf(id, 1_709_164_800 - 1), 0);
        assertEq(registry.contractYearOf(id, 1_709_164_800), 1);
        assertEq(registry.contractYearOf(id, 1_740_700_800 - 1), 1);
        assertEq(registry.contractYearOf(id, 1_740_700_800), 2);
    }

    function test_register_RevertWhen_DueDaysOutOfRange() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.dueDays = 0;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DueDaysOutOfRange.selector, 0));
        t.term.calendar.dueDays = 366;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DueDaysOutOfRange.selector, 366));
        t.term.calendar.dueDays = 365;
        uint256 id = register(t);
        (, uint64 to, uint64 dueAt) = registry.periodBounds(id, 0);
        assertEq(dueAt, to + 365 days);
        t.term.calendar.dueDays = 1;
        t.salt = "1 day";
        id = register(t);
        (, to, dueAt) = registry.periodBounds(id, 0);
        assertEq(dueAt, to + 1 days);
    }

    function test_register_RevertWhen_InterestRateTooHigh() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.interestBps = 10_001;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.InterestRateTooHigh.selector, 10_001));
        t.term.calendar.interestBps = 10_000;
        assertEq(register(t), 1);
    }

    function test_register_RevertWhen_TermEndTooLate() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.end = YEAR_9000 + 1;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        t.term.end = type(uint64).max;
        expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, type(uint64).max));
    }

    /// @notice The sell-off ends by 9000-01-01 too. Regression: only the term's end was bounded, so
    /// a sell-off of up to 2**32 days (11.7 million years) carried periods, contract years and due
    /// dates far beyond the calendar library's range (9999), and beyond the uint16 year and uint40
    /// due date a settlement stores.
    function test_register_RevertWhen_SellOffEndsAfterYear9000() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        // END is 2026-11-14 (START + 1,095 days); 9000-01-01 is 2,567,655 days after 1970-01-01.
        uint64 daysLeft = (YEAR_9000 - END) / 1 days;
        assertEq(daysLeft, 2_567_655 - (START / 1 days) - 1_095);
        t.term.sellOffDays = uint32(daysLeft + 1);
        expectRegisterRevert(
            t, abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1 days)
        );
        t.term.sellOffDays = type(uint32).max;
        expectRegisterRevert(
            t,
            abi.encodeWithSelector(
                ILicenceRegistry.TermEndTooLate.selector, END + uint64(type(uint32).max) * 1 days
            )
        );
        t.term.sellOffDays = uint32(daysLeft);
        uint256 id = register(t);
        assertEq(registry.settlementContext(id).sellOffEnd, YEAR_9000);
    }

    /// @notice A renewal is bounded like the original term. Regression: `amend` set any new end,
    /// so a renewal could carry the term (and its periods and years) past 9000-01-01.
    function test_amend_RevertWhen_NewEndTooLate() public {
        uint256 licenceId = registerDefault();
        ILicenceRegistry.Schedule memory s;
        s.effectiveFrom = uint64(block.timestamp + 1 days);
        s.rateBps = 600;
        uint64 deadline = uint64(block.timestamp + 1 days);
        // The sell-off of 180 days must end by 9000-01-01 as well.
        uint64 newEnd = YEAR_9000 - 180 days + 1;
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, s, newEnd, deadline);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        vm.prank(relayer);
        registry.amend(licenceId, s, newEnd, deadline, licensorSig, licenseeSig);
        newEnd = YEAR_9000 + 1;
        (licensorSig, licenseeSig) = amendConsent(licenceId, s, newEnd, deadline);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        vm.prank(relayer);
        registry.amend(licenceId, s, newEnd, deadline, licensorSig, licenseeSig);
        assertEq(registry.scheduleCount(licenceId), 1, "not amended");
        assertEq(registry.settlementContext(licenceId).effectiveEnd, END);

        amend(licenceId, s, YEAR_9000 - 180 days);
        assertEq(registry.settlementContext(licenceId).sellOffEnd, YEAR_9000);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev EIP-712 hash of a SalesReport, written from the type strings, not from the registry.
    function _eip712ReportDigest(IRoyaltyLedger.Report memory r) internal view returns (bytes32) {
        bytes memory bucketType =
            "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)";
        bytes memory conversionType =
            "Conversion(uint16 bucket,bytes3 currency,uint8 minorUnits,uint64 rateDay,uint128 rate,uint128 gross,uint128 deductions)";
        bytes32 reportTypeHash = keccak256(
            bytes.concat(
                "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,uint32 lineCount,Bucket[] buckets,Bucket[] returned,uint256 corrects,bool audit,uint128 auditCost,Conversion[] fx)",
                bucketType,
                conversionType
            )
        );
        bytes memory head = abi.encode(reportTypeHash, r.licenceId, r.period, r.sequence, r.deadline, r.linesRoot);
        bytes memory tail = abi.encode(
            r.lineCount,
            _bucketsHash(r.buckets, bucketType),
            _bucketsHash(r.returned, bucketType),
            r.corrects,
            r.audit,
            r.auditCost,
            _conversionsHash(r.fx, conversionType)
        );
        bytes32 structHash = keccak256(bytes.concat(head, tail));
        return MessageHashUtils.toTypedDataHash(registry.domainSeparator(), structHash);
    }

    function _conversionsHash(IRoyaltyLedger.Conversion[] memory fx, bytes memory conversionType)
        internal
        pure
        returns (bytes32)
    {
        bytes32[] memory hashes = new bytes32[](fx.length);
        for (uint256 i; i < fx.length; ++i) {
            IRoyaltyLedger.Conversion memory c = fx[i];
            hashes[i] = keccak256(
                abi.encode(
                    keccak256(conversionType), c.bucket, c.currency, c.minorUnits, c.rateDay, c.rate, c.gross, c.deductions
                )
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _bucketsHash(IRoyaltyLedger.Bucket[] memory buckets, bytes memory bucketType) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](buckets.length);
        for (uint256 i; i < buckets.length; ++i) {
            IRoyaltyLedger.Bucket memory b = buckets[i];
            hashes[i] = keccak256(
                abi.encode(keccak256(bucketType), b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions)
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _withYear(IRoyaltyLedger.Report memory r, uint16 year) internal pure returns (IRoyaltyLedger.Report memory c) {
        c = IRoyaltyLedger.Report({
            licenceId: r.licenceId,
            period: r.period,
            sequence: r.sequence,
            deadline: r.deadline,
            linesRoot: r.linesRoot,
            lineCount: r.lineCount,
            buckets: new IRoyaltyLedger.Bucket[](0),
            returned: r.returned,
            corrects: r.corrects,
            audit: r.audit,
            auditCost: r.auditCost,
            fx: r.fx
        });
        c.buckets = new IRoyaltyLedger.Bucket[](r.buckets.length);
        for (uint256 i; i < r.buckets.length; ++i) {
            IRoyaltyLedger.Bucket memory b = r.buckets[i];
            c.buckets[i] = IRoyaltyLedger.Bucket({
                year: year, territory: b.territory, field: b.field, channel: b.channel, units: b.units, gross: b.gross,
                deductions: b.deductions
            });
        }
    }

    function _split(bytes memory sig) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
    }
}
