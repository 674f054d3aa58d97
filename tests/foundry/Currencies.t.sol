// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Base} from "./Base.t.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {CurrencyConversion} from "../../contracts/libraries/CurrencyConversion.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";

/// @dev Exposes the library's conversion to the fuzzer.
contract ConversionHarness {
    function convert(uint256 amount, uint256 rate, uint8 minorUnits, uint8 tokenDecimals)
        external
        pure
        returns (uint256)
    {
        return CurrencyConversion.convert(amount, rate, minorUnits, tokenDecimals);
    }
}

/// @notice Sales in other currencies (docs/currencies.md): a report's conversions are signed with
/// it, checked against the licence's clause and the period, and emitted with their results.
contract CurrenciesTest is Base {
    /// @dev 1 EUR = 1.0856 USD; 1 JPY = 0.006690909090909090 USD (1.0856 / 162.25, floored at 18 dp).
    uint128 internal constant EUR_USD = 1.0856e18;
    uint128 internal constant JPY_USD = 6_690_909_090_909_090;
    bytes16 internal constant ECB = "ECB";

    ConversionHarness internal harness;

    function setUp() public override {
        super.setUp();
        harness = new ConversionHarness();
    }

    function fxTerms(uint8 rule, bytes16 source) internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.calendar.fxRule = rule;
        t.term.calendar.fxSource = source;
    }

    function conversion(uint16 index, bytes3 currency, uint8 minorUnits, uint64 rateDay, uint128 rate, uint128 gross, uint128 deductions)
        internal
        pure
        returns (IRoyaltyLedger.Conversion memory)
    {
        return IRoyaltyLedger.Conversion({
            bucket: index,
            currency: currency,
            minorUnits: minorUnits,
            rateDay: rateDay,
            rate: rate,
            gross: gross,
            deductions: deductions
        });
    }

    /// @dev Period 0's report of one DE bucket holding 200.00 USD of its own and 1,000.00 EUR
    /// (50.00 EUR deductions) at 1.0856, dated the period's last day:
    /// 100,000 cents x 1.0856 x 10^6 / 10^2 = 1,085,600,000 units, 5,000 cents -> 54,280,000.
    function eurReport(uint256 licenceId) internal view returns (IRoyaltyLedger.Report memory r) {
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(2, 0, 0, 10, 200 * USD + 1_085_600_000, 54_280_000);
        r = makeReport(licenceId, 0, buckets);
        r.fx = new IRoyaltyLedger.Conversion[](1);
        r.fx[0] = conversion(0, "EUR", 2, periodEnd(0) - 1 days, EUR_USD, 100_000, 5_000);
    }

    // ------------------------------------------------------------------ arithmetic

    function test_convert_WorkedExamples() public view {
        // 1,000.00 EUR at 1.0856 into 6 decimals: 100,000 x 1.0856e18 x 10^6 / 10^20 = 1,085,600,000.
        assertEq(harness.convert(100_000, EUR_USD, 2, 6), 1_085_600_000);
        // 12,345 JPY at 0.006690909090909090 into 6 decimals: 12,345 x 6,690,909,090,909,090 x 10^6
        // / 10^18 = 82,599,272.727... -> 82,599,272 (82.599272 USD), rounded down once.
        assertEq(harness.convert(12_345, JPY_USD, 0, 6), 82_599_272);
        // 1.234 KWD (3 decimals) at 3.25 into an 18-decimal token: 1,234 x 3.25e18 x 10^18 / 10^21.
        assertEq(harness.convert(1_234, 3.25e18, 3, 18), 4_010_500_000_000_000_000);
        // Into a 0-decimal token, 0.99 EUR at 1.0 is 0.
        assertEq(harness.convert(99, 1e18, 2, 0), 0);
    }

    /// @dev Model: the product amount x rate, then scaled by 10^(decimals - minor - 18) by one
    /// division or one multiplication: written apart from the library's mulDiv.
    function testFuzz_convert_MatchesModel(uint128 amount, uint128 rate, uint8 minorUnits, uint8 tokenDecimals) public view {
        // 2^96 minor units (7.9e28) is far beyond any bucket and keeps the model within 256 bits.
        amount = uint128(bound(amount, 0, 1 << 96));
        rate = uint128(bound(rate, CurrencyConversion.MIN_RATE, CurrencyConversion.MAX_RATE));
        minorUnits = uint8(bound(minorUnits, 0, 4));
        tokenDecimals = uint8(bound(tokenDecimals, 0, 36));
        uint256 product = uint256(amount) * rate;
        uint256 expected;
        if (uint256(tokenDecimals) >= uint256(minorUnits) + 18) {
            expected = product * 10 ** (uint256(tokenDecimals) - minorUnits - 18);
        } else {
            expected = product / 10 ** (uint256(minorUnits) + 18 - tokenDecimals);
        }
        assertEq(harness.convert(amount, rate, minorUnits, tokenDecimals), expected);
    }

    // ------------------------------------------------------------------ the clause

    function test_register_FxClauseKept() public {
        uint256 id = register(fxTerms(1, ECB));
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(id);
        assertEq(c.calendar.fxRule, 1);
        assertEq(c.calendar.fxSource, ECB);
    }

    function test_register_RejectsFxClauseWithoutItsOtherHalf() public {
        expectRegisterRevert(
            fxTerms(5, ECB), abi.encodeWithSelector(ILicenceRegistry.FxClauseInvalid.selector, uint8(5), ECB)
        );
        expectRegisterRevert(
            fxTerms(1, bytes16(0)), abi.encodeWithSelector(ILicenceRegistry.FxClauseInvalid.selector, uint8(1), bytes16(0))
        );
        expectRegisterRevert(
            fxTerms(0, ECB), abi.encodeWithSelector(ILicenceRegistry.FxClauseInvalid.selector, uint8(0), ECB)
        );
    }

    // ------------------------------------------------------------------ settlement

    function test_settle_EurSalesConvertedAndPriced() public {
        uint256 id = registerFunded(fxTerms(1, ECB), 1_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = eurReport(id);
        vm.expectEmit(true, false, false, true, address(ledger));
        emit IRoyaltyLedger.CurrencyConverted(
            1, 0, "EUR", 2, periodEnd(0) - 1 days, EUR_USD, 100_000, 5_000, 1_085_600_000, 54_280_000
        );
        uint256 sid = settle(r);
        // Net 1,285,600,000 - 54,280,000 = 1,231,320,000 units at 5% = 61,566,000 (61.566 USD).
        assertEq(ledger.settlement(sid).royalty, 61_566_000);
    }

    function test_settle_ConversionOfAReturnedBucket() public {
        uint256 id = registerFunded(fxTerms(2, ECB), 1_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = eurReport(id);
        // A return of 10,000 JPY in the same period, index 1 = returned[0]:
        // 10,000 x 6,690,909,090,909,090 x 10^6 / 10^18 = 66,909,090.9 -> 66,909,090.
        r.returned = new IRoyaltyLedger.Bucket[](1);
        r.returned[0] = bucket(2, 0, 0, 1, 66_909_090, 0);
        r.returned[0].year = r.buckets[0].year;
        IRoyaltyLedger.Conversion[] memory fx = new IRoyaltyLedger.Conversion[](2);
        fx[0] = r.fx[0];
        fx[1] = conversion(1, "JPY", 0, periodStart(0), JPY_USD, 10_000, 0);
        r.fx = fx;
        uint256 sid = settle(r);
        // (1,231,320,000 - 66,909,090) x 5% = 58,220,545.5 -> 58,220,545 (rounded down).
        assertEq(ledger.settlement(sid).royalty, 58_220_545);
    }

    function test_settle_RejectsConversionWithoutClause() public {
        uint256 id = registerFunded(defaultTerms(), 1_000 * USD);
        warpPastPeriod(0);
        _expectSettleRevert(eurReport(id), abi.encodeWithSelector(IRoyaltyLedger.ConversionNotAllowed.selector, id));
    }

    function test_settle_RejectsEachBadConversion() public {
        uint256 id = registerFunded(fxTerms(1, ECB), 1_000 * USD);
        warpPastPeriod(0);
        uint64 lastDay = periodEnd(0) - 1 days;

        IRoyaltyLedger.Report memory r = eurReport(id);
        r.fx[0].currency = "eur";
        _expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.CurrencyInvalid.selector, 0, bytes3("eur"), uint8(2)));

        r = eurReport(id);
        r.fx[0].minorUnits = 5;
        _expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.CurrencyInvalid.selector, 0, bytes3("EUR"), uint8(5)));

        r = eurReport(id);
        r.fx[0].rate = 0;
        _expectSettleRevert(
            r, abi.encodeWithSelector(IRoyaltyLedger.RateOutOfBounds.selector, 0, uint128(0), uint128(1e9), uint128(1e27))
        );
        r.fx[0].rate = 1e27 + 1;
        _expectSettleRevert(
            r, abi.encodeWithSelector(IRoyaltyLedger.RateOutOfBounds.selector, 0, uint128(1e27 + 1), uint128(1e9), uint128(1e27))
        );

        r = eurReport(id);
        r.fx[0].rateDay = periodEnd(0);
        _expectSettleRevert(
            r,
            abi.encodeWithSelector(IRoyaltyLedger.RateDayOutsidePeriod.selector, 0, periodEnd(0), periodStart(0), periodEnd(0))
        );
        r.fx[0].rateDay = periodStart(0) - 1 days;
        _expectSettleRevert(
            r,
            abi.encodeWithSelector(
                IRoyaltyLedger.RateDayOutsidePeriod.selector, 0, periodStart(0) - 1 days, periodStart(0), periodEnd(0)
            )
        );
        r.fx[0].rateDay = lastDay + 1 hours;
        _expectSettleRevert(
            r,
            abi.encodeWithSelector(IRoyaltyLedger.RateDayOutsidePeriod.selector, 0, lastDay + 1 hours, periodStart(0), periodEnd(0))
        );

        r = eurReport(id);
        r.fx[0].deductions = 100_001;
        _expectSettleRevert(
            r, abi.encodeWithSelector(IRoyaltyLedger.ConversionDeductionsExceedGross.selector, 0, uint128(100_000), uint128(100_001))
        );

        r = eurReport(id);
        r.fx[0].bucket = 1;
        _expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.ConversionBucketUnknown.selector, 0, uint16(1), 1));

        // 1,000.01 EUR converts to 1,085,610,856 units: more than the bucket's 1,285,600,000? No:
        // a bucket holding only 1,000,000,000 units cannot hold 1,085,600,000 converted.
        r = eurReport(id);
        r.buckets[0].gross = 1_000_000_000;
        r.buckets[0].deductions = 54_280_000;
        _expectSettleRevert(
            r, abi.encodeWithSelector(IRoyaltyLedger.ConversionsExceedBucket.selector, uint16(0), 1_085_600_000, 54_280_000)
        );

        // The same (bucket, currency, day) twice, each fitting alone: out of order, and the sum too big.
        r = eurReport(id);
        IRoyaltyLedger.Conversion[] memory twice = new IRoyaltyLedger.Conversion[](2);
        twice[0] = r.fx[0];
        twice[1] = r.fx[0];
        r.fx = twice;
        _expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.ConversionsNotOrdered.selector, 1));

        // Nothing was settled by any of them; the good report still settles.
        assertEq(ledger.settledPeriod(id, 0), 0);
        settle(eurReport(id));
        assertTrue(ledger.settledPeriod(id, 0) != 0);
    }

    /// @dev The rate is signed with the report: a relayer that changes it after signing has
    /// signatures that recover to other addresses, none of them the licence's oracles.
    function test_settle_RateTamperedAfterSigningIsRefused() public {
        uint256 id = registerFunded(fxTerms(1, ECB), 1_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = eurReport(id);
        bytes[] memory sigs = signReport(r, THRESHOLD);
        bytes32 signed = registry.typedData().reportDigest(r);
        r.fx[0].rate = EUR_USD - 1;
        assertTrue(registry.typedData().reportDigest(r) != signed, "the rate is in the digest");
        vm.prank(relayer);
        vm.expectPartialRevert(IRoyaltyLedger.UnknownSigner.selector);
        ledger.settleReports(asBatch(r), asBatch(sigs));
    }

    /// @dev A report signed for another licence (same rates) does not settle this one.
    function test_settle_ConversionSignedForOtherLicenceIsRefused() public {
        uint256 id = registerFunded(fxTerms(1, ECB), 1_000 * USD);
        ILicenceRegistry.Terms memory other = fxTerms(1, ECB);
        other.salt = "other";
        uint256 otherId = registerFunded(other, 1_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = eurReport(otherId);
        bytes[] memory sigs = signReport(r, THRESHOLD);
        r.licenceId = id;
        vm.prank(relayer);
        vm.expectPartialRevert(IRoyaltyLedger.UnknownSigner.selector);
        ledger.settleReports(asBatch(r), asBatch(sigs));
    }

    /// @dev A token that does not say its decimals cannot be converted into.
    function test_settle_RejectsTokenWithTooManyDecimals() public {
        TestToken wide = new TestToken("Wide", "WIDE", 40);
        vm.prank(admin);
        registry.setTokenAllowed(address(wide), true);
        ILicenceRegistry.Terms memory t = fxTerms(1, ECB);
        t.token = address(wide);
        uint256 id = register(t);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = eurReport(id);
        _expectSettleRevert(r, abi.encodeWithSelector(IRoyaltyLedger.TokenDecimalsUnknown.selector, address(wide)));
    }

    function _expectSettleRevert(IRoyaltyLedger.Report memory r, bytes memory expected) internal {
        bytes[] memory sigs = signReport(r, THRESHOLD);
        vm.prank(relayer);
        vm.expectRevert(expected);
        ledger.settleReports(asBatch(r), asBatch(sigs));
    }
}
