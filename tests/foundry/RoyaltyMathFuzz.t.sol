// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {RoyaltyMathHarness} from "../../contracts/test/RoyaltyMathHarness.sol";
import {Base} from "./Base.t.sol";

/// @notice RoyaltyMath against an independent reference model, and the exactness of splits and
/// withholding. The reference prices tiers as a sum of rate *changes* at each threshold,
/// F(x) = sum_i (rate_i - rate_{i-1}) * max(0, x - threshold_i), and takes F(to) - F(from),
/// where the library walks the bands and clips each slice.
contract RoyaltyMathFuzzTest is Base {
    RoyaltyMathHarness internal harness;

    function setUp() public override {
        super.setUp();
        harness = new RoyaltyMathHarness();
    }

    // ------------------------------------------------------------------ random inputs

    function _rand(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function _randomTiers(uint256 seed) private pure returns (ILicenceRegistry.Tier[] memory tiers) {
        uint256 n = _rand(seed, 1) % 5; // 0..4 tiers
        tiers = new ILicenceRegistry.Tier[](n);
        uint128 threshold;
        for (uint256 i; i < n; ++i) {
            if (i > 0) threshold += uint128(1 + _rand(seed, 10 + i) % 1e15);
            tiers[i] = ILicenceRegistry.Tier({threshold: threshold, rateBps: uint16(_rand(seed, 20 + i) % 10_001)});
        }
    }

    function _randomSchedule(uint256 seed) private pure returns (ILicenceRegistry.Schedule memory s) {
        s.tiers = _randomTiers(seed);
        if (s.tiers.length == 0) s.rateBps = uint16(_rand(seed, 2) % 10_001);
        s.fixedFeePerPeriod = uint128(_rand(seed, 3) % 1e12);
        s.perUnit = uint128(_rand(seed, 4) % 1e9);
        uint256 nRates = _rand(seed, 5) % 3;
        s.fieldRates = new ILicenceRegistry.FieldRate[](nRates);
        for (uint256 i; i < nRates; ++i) {
            // fields 0 and 4 (distinct), so that some buckets use them and some do not
            s.fieldRates[i] = ILicenceRegistry.FieldRate({field: uint8(i * 4), rateBps: uint16(_rand(seed, 30 + i) % 10_001)});
        }
    }

    function _randomBuckets(uint256 seed) private pure returns (IRoyaltyLedger.Bucket[] memory buckets) {
        uint256 n = _rand(seed, 6) % 7;
        buckets = new IRoyaltyLedger.Bucket[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = _rand(seed, 100 + i);
            uint128 gross = uint128(r % 1e15);
            buckets[i] = IRoyaltyLedger.Bucket({
                year: 0,
                territory: uint8(r >> 64 & 0xff) % 16 == 15 ? 255 : uint8(r >> 64 & 0xff) % 16,
                field: uint8(r >> 72 & 0xff) % 9 == 8 ? 200 : uint8(r >> 72 & 0xff) % 9,
                channel: uint8(r >> 80 & 0xff) % 7 == 6 ? 40 : uint8(r >> 80 & 0xff) % 7,
                units: uint128(r >> 88 & 0xffffffff),
                gross: gross,
                deductions: gross == 0 ? 0 : uint128((r >> 128) % (uint256(gross) + 1))
            });
        }
    }

    function _randomScope(uint256 seed) private pure returns (ILicenceRegistry.Scope memory scope) {
        scope.territories = _rand(seed, 7) & 0xffff;
        scope.fields = uint64(_rand(seed, 8) & 0xff) | 1; // field 0 is always licensed
        scope.channels = uint32(_rand(seed, 9) & 0x3f);
    }

    // ------------------------------------------------------------------ reference model

    /// @dev Cumulative numerator of the tiers up to `x`: a sum of rate changes above thresholds.
    function _cumulative(ILicenceRegistry.Tier[] memory tiers, uint256 x) private pure returns (int256 total) {
        int256 previousRate;
        for (uint256 i; i < tiers.length; ++i) {
            int256 rate = int256(uint256(tiers[i].rateBps));
            if (x > tiers[i].threshold) total += (rate - previousRate) * int256(x - tiers[i].threshold);
            previousRate = rate;
        }
    }

    function _referenceInScope(ILicenceRegistry.Scope memory scope, IRoyaltyLedger.Bucket memory b)
        private
        pure
        returns (bool)
    {
        bool territory = scope.territories & (uint256(1) << b.territory) != 0;
        bool field = b.field < 64 && uint256(scope.fields) & (uint256(1) << b.field) != 0;
        bool channel = b.channel < 32 && uint256(scope.channels) & (uint256(1) << b.channel) != 0;
        return territory && field && channel;
    }

    struct Reference {
        uint256 royalty;
        uint256 tierNet;
        uint256 outOfScope;
    }

    function _referencePrice(
        ILicenceRegistry.Schedule memory s,
        ILicenceRegistry.Scope memory scope,
        IRoyaltyLedger.Bucket[] memory buckets,
        uint256 before
    ) private pure returns (Reference memory ref) {
        uint256 fieldNumerator;
        uint256 units;
        for (uint256 i; i < buckets.length; ++i) {
            if (!_referenceInScope(scope, buckets[i])) {
                ref.outOfScope += 2 ** i;
                continue;
            }
            units += buckets[i].units;
            uint256 net = uint256(buckets[i].gross) - buckets[i].deductions;
            bool rated;
            for (uint256 j; j < s.fieldRates.length; ++j) {
                if (s.fieldRates[j].field == buckets[i].field) {
                    fieldNumerator += net * s.fieldRates[j].rateBps;
                    rated = true;
                }
            }
            if (!rated) ref.tierNet += net;
        }
        uint256 tierNumerator = s.tiers.length == 0
            ? ref.tierNet * s.rateBps
            : uint256(_cumulative(s.tiers, before + ref.tierNet) - _cumulative(s.tiers, before));
        ref.royalty = s.fixedFeePerPeriod + units * s.perUnit + (fieldNumerator + tierNumerator) / 10_000;
    }

    // ------------------------------------------------------------------ pricing

    function testFuzz_price_MatchesReferenceModel(uint256 seed, uint64 before) public view {
        ILicenceRegistry.Schedule memory s = _randomSchedule(seed);
        ILicenceRegistry.Scope memory scope = _randomScope(seed);
        IRoyaltyLedger.Bucket[] memory buckets = _randomBuckets(seed);
        IRoyaltyLedger.Report memory report;
        report.buckets = buckets;
        ILicenceRegistry.Priced memory priced = harness.price(s, scope, report, 0, _one(before));
        Reference memory ref = _referencePrice(s, scope, buckets, before);
        assertEq(priced.royalty, int256(ref.royalty), "royalty");
        assertEq(priced.yearTierNet[0], int256(ref.tierNet), "tierNet");
        assertEq(priced.outOfScope, ref.outOfScope, "outOfScope");
    }

    /// @dev Signed sums of one contract year's part of a report, for the reference model.
    struct YearModel {
        int256 units;
        int256 fieldNumerator;
        int256 tierNet;
    }

    function _addToModel(
        ILicenceRegistry.Schedule memory s,
        ILicenceRegistry.Scope memory scope,
        IRoyaltyLedger.Bucket memory b,
        YearModel memory y,
        int256 sign
    ) private pure {
        if (!_referenceInScope(scope, b)) return;
        int256 net = int256(uint256(b.gross) - b.deductions) * sign;
        y.units += int256(uint256(b.units)) * sign;
        for (uint256 j; j < s.fieldRates.length; ++j) {
            if (s.fieldRates[j].field == b.field) {
                y.fieldNumerator += net * int256(uint256(s.fieldRates[j].rateBps));
                return;
            }
        }
        y.tierNet += net;
    }

    /// @dev The reference's signed royalty of one year: tiers by the cumulative function F, a
    /// decrease taken below the year's cumulative and, beyond it, at the first tier's rate; one
    /// division per year rounded towards minus infinity.
    function _referenceYear(ILicenceRegistry.Schedule memory s, YearModel memory y, uint256 cumulative, bool fixedFee)
        private
        pure
        returns (int256)
    {
        int256 numerator = y.units * int256(uint256(s.perUnit)) * 10_000 + y.fieldNumerator;
        if (s.tiers.length == 0) {
            numerator += y.tierNet * int256(uint256(s.rateBps));
        } else if (y.tierNet >= 0) {
            numerator += _cumulative(s.tiers, cumulative + uint256(y.tierNet)) - _cumulative(s.tiers, cumulative);
        } else {
            uint256 down = uint256(-y.tierNet);
            uint256 within = down < cumulative ? down : cumulative;
            numerator -= _cumulative(s.tiers, cumulative) - _cumulative(s.tiers, cumulative - within);
            numerator -= int256(down - within) * int256(uint256(s.tiers[0].rateBps));
        }
        if (fixedFee) numerator += int256(uint256(s.fixedFeePerPeriod)) * 10_000;
        return numerator >= 0 ? numerator / 10_000 : -((-numerator + 9_999) / 10_000);
    }

    /// @notice A report over two contract years, with returns, original or adjustment, priced by
    /// the library and by the reference model: each year's royalty and tier change, and the total.
    function testFuzz_price_TwoYearsWithReturnsMatchesReferenceModel(
        uint256 seed,
        uint64 before0,
        uint64 before1,
        bool adjustment
    ) public view {
        ILicenceRegistry.Schedule memory s = _randomSchedule(seed);
        ILicenceRegistry.Scope memory scope = _randomScope(seed);
        IRoyaltyLedger.Report memory report;
        report.buckets = _randomBuckets(seed);
        report.returned = _randomBuckets(_rand(seed, 999));
        report.corrects = adjustment ? 1 : 0;
        YearModel[2] memory model;
        for (uint256 i; i < report.buckets.length; ++i) {
            report.buckets[i].year = uint16(_rand(seed, 500 + i) % 2);
            _addToModel(s, scope, report.buckets[i], model[report.buckets[i].year], 1);
        }
        for (uint256 i; i < report.returned.length; ++i) {
            report.returned[i].year = uint16(_rand(seed, 600 + i) % 2);
            _addToModel(s, scope, report.returned[i], model[report.returned[i].year], -1);
        }
        uint256[] memory cumulative = new uint256[](2);
        cumulative[0] = before0;
        cumulative[1] = before1;
        ILicenceRegistry.Priced memory priced = harness.price(s, scope, _shift(report, 7), 7, cumulative);
        int256 total;
        for (uint256 j; j < 2; ++j) {
            int256 expected = _referenceYear(s, model[j], cumulative[j], j == 0 && !adjustment);
            assertEq(priced.yearRoyalty[j], expected, "year royalty");
            assertEq(priced.yearTierNet[j], model[j].tierNet, "year tier net");
            total += expected;
        }
        assertEq(priced.royalty, total, "royalty");
    }

    /// @dev Files the report's buckets under contract years `first` and `first + 1`.
    function _shift(IRoyaltyLedger.Report memory report, uint16 first)
        private
        pure
        returns (IRoyaltyLedger.Report memory)
    {
        for (uint256 i; i < report.buckets.length; ++i) {
            report.buckets[i].year += first;
        }
        for (uint256 i; i < report.returned.length; ++i) {
            report.returned[i].year += first;
        }
        return report;
    }

    function testFuzz_tieredNumerator_MatchesCumulativeFunction(uint256 seed, uint64 from, uint64 amount) public view {
        ILicenceRegistry.Tier[] memory tiers = _randomTiers(seed);
        vm.assume(tiers.length > 0);
        uint256 expected = uint256(_cumulative(tiers, uint256(from) + amount) - _cumulative(tiers, from));
        assertEq(harness.tieredNumerator(tiers, from, amount), expected);
    }

    function testFuzz_tieredNumerator_SplittingAReportChangesNothing(uint256 seed, uint64 from, uint64 a, uint64 b)
        public
        view
    {
        ILicenceRegistry.Tier[] memory tiers = _randomTiers(seed);
        uint256 whole = harness.tieredNumerator(tiers, from, uint256(a) + b);
        uint256 parts = harness.tieredNumerator(tiers, from, a) + harness.tieredNumerator(tiers, uint256(from) + a, b);
        assertEq(whole, parts);
    }

    function testFuzz_inScope_MatchesBitmaps(uint256 seed, uint8 territory, uint8 field, uint8 channel) public view {
        ILicenceRegistry.Scope memory scope = _randomScope(seed);
        scope.territories = _rand(seed, 77); // all 256 bits in play
        IRoyaltyLedger.Bucket memory b = bucket(territory, field, channel, 0, 0, 0);
        assertEq(harness.inScope(scope, b), _referenceInScope(scope, b));
    }

    // ------------------------------------------------------------------ splits and withholding

    function _randomShares(uint256 seed, uint256 n) private pure returns (uint16[] memory shares) {
        shares = new uint16[](n);
        uint256 left = 10_000;
        for (uint256 i; i < n; ++i) {
            uint256 remainingPayees = n - i - 1;
            uint256 share = remainingPayees == 0 ? left : 1 + _rand(seed, 200 + i) % (left - remainingPayees);
            shares[i] = uint16(share);
            left -= share;
        }
    }

    function testFuzz_partOf_ExactSumNearShareNeverDecreasing(uint256 seed, uint128 total, uint64 more) public {
        uint256 n = 1 + seed % 40;
        uint16[] memory shares = _randomShares(seed, n);
        harness.setShares(shares);
        uint256 depth = 0; // halvings from the whole list down to one payee
        while ((1 << depth) < n) ++depth;
        uint256 sum;
        uint256 larger = uint256(total) + more;
        uint256[] memory expected = splitParts(total, shares);
        for (uint256 i; i < n; ++i) {
            uint256 part = harness.partOf(total, i);
            assertEq(part, expected[i], "reference model");
            sum += part;
            uint256 exact = uint256(total) * shares[i] / 10_000;
            // Each halving rounds once, so a part is less than `depth` units from total * share
            // / 10,000, hence at most `depth` units from its floor.
            assertLe(part > exact ? part - exact : exact - part, depth, "near its share");
            assertGe(harness.partOf(larger, i), part, "never decreases as the total grows");
        }
        assertEq(sum, total, "parts add up to the total");
    }

    function testFuzz_taxOnIncrement_InstalmentsSumToFloorOfTotal(uint256 seed, uint16 taxBps) public view {
        taxBps = uint16(bound(taxBps, 0, 9_999));
        uint256 count = 1 + seed % 12;
        uint256 paid;
        uint256 withheld;
        for (uint256 i; i < count; ++i) {
            uint256 instalment = _rand(seed, 300 + i) % (i % 3 == 0 ? 100 : 1e18);
            withheld += harness.taxOnIncrement(paid, paid + instalment, taxBps);
            paid += instalment;
        }
        assertEq(withheld, paid * taxBps / 10_000);
    }

    /// @dev End to end: a licence with random payees and withholding settles a random royalty;
    /// the entitlements add up to what was distributed, and withdrawing all empties the ledger.
    function testFuzz_withdraw_SplitSumsExactly(uint256 seed, uint64 royalty, uint16 taxBps) public {
        uint256 n = 1 + seed % 8;
        taxBps = uint16(bound(taxBps, 0, 9_999));
        royalty = uint64(bound(royalty, 1, type(uint64).max));
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees = namedPayees(_randomShares(seed, n));
        t.taxBps = taxBps;
        t.schedule.rateBps = 0;
        t.schedule.fixedFeePerPeriod = royalty;
        uint256 licenceId = register(t);
        deposit(licenceId, royalty);
        settlePeriod(licenceId, 0, 0);

        uint256 tax = uint256(royalty) * taxBps / 10_000;
        assertEq(ledger.taxClaimable(licenceId), tax);
        assertEq(ledger.distributedOf(licenceId), royalty - tax);
        // namedPayees sorted the payees by address, the order the ledger splits in.
        uint256[] memory expected = splitParts(royalty - tax, sharesOf(t.payees));
        uint256 depth = 0; // ceil(log2 n)
        while ((1 << depth) < n) ++depth;
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            (uint256 entitled,) = ledger.payeeTotals(licenceId, t.payees[i].account);
            assertEq(entitled, expected[i], "halving rule");
            assertApproxEqAbs(entitled, (uint256(royalty) - tax) * t.payees[i].shareBps / 10_000, depth, "near share");
            sum += entitled;
            if (entitled > 0) ledger.withdraw(licenceId, t.payees[i].account);
        }
        assertEq(sum, royalty - tax);
        if (tax > 0) ledger.withdrawTax(licenceId);
        assertEq(token.balanceOf(address(ledger)), 0);
    }

    function _one(uint256 value) private pure returns (uint256[] memory values) {
        values = new uint256[](1);
        values[0] = value;
    }
}
