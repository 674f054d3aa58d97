// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";

/// @title Royalty arithmetic: pricing a period's buckets and splitting a royalty
/// @notice Pure integer arithmetic, no storage. Rounding rules, which tests rely on:
/// - percentage parts of one report are summed as exact numerators (net * bps) per contract year
///   of the sales and divided by 10,000 once per year, rounding down (in the licensee's favour,
///   at most 1 unit per report and contract year);
/// - each contract year's sales are priced at that year's tier position, and the period's fixed
///   fee belongs to the year of the period's start;
/// - per-unit amounts and the fixed fee are exact;
/// - tiers are marginal: each rate applies to the slice of the contract year's cumulative
///   tier-priced net sales that lies inside its band;
/// - a split halves the payee list: the first half gets floor(amount * its shares / all shares),
///   the second half the remainder, and so on down to one payee (payees ordered by address). The
///   parts add up to the total exactly, each is within log2(payees) units of its exact share, and
///   none ever decreases when the total grows, which makes an accumulator over totals safe.
library RoyaltyMath {
    uint256 internal constant BPS = 10_000;

    /// @notice Whether a bucket lies inside the licence's scope.
    function inScope(ILicenceRegistry.Scope memory scope, IRoyaltyLedger.Bucket calldata bucket)
        internal
        pure
        returns (bool)
    {
        return (scope.territories >> bucket.territory) & 1 == 1 && bucket.field < 64
            && (scope.fields >> bucket.field) & 1 == 1 && bucket.channel < 32
            && (scope.channels >> bucket.channel) & 1 == 1;
    }

    /// @dev Per contract year of a report: exact numerators (amount * bps; per-unit amounts and
    /// the fixed fee times 10,000) of what it adds and what it takes away, and its tier-priced
    /// net sales and returns.
    struct YearSums {
        uint256 plus;
        uint256 minus;
        uint256 tierSales;
        uint256 tierReturns;
    }

    /// @notice Price a report's buckets and returns under one schedule version, each contract
    /// year of the sales at its own tier position.
    /// @dev Sales add, returns (and the lines an adjustment cancels) take away. Tiers are
    /// marginal over the year's cumulative: a net increase is priced on the slice above the
    /// year's cumulative, a net decrease on the slice below it, and the part of a decrease
    /// beyond the year's cumulative (a return of an earlier year's sale) at the first tier's
    /// rate. Each year's royalty is floor((plus - minus) / 10,000), rounded towards minus
    /// infinity, so in the licensee's favour either way.
    /// @param firstYear the contract year of the period's start; bucket years must lie in
    /// [firstYear, firstYear + tierCumulativeBefore.length)
    /// @param tierCumulativeBefore per contract year of the period, the tier-priced net sales
    /// already reported in it
    /// The period's fixed fee is charged by its original report (`corrects` 0), not by adjustments.
    function price(
        ILicenceRegistry.Schedule memory schedule,
        ILicenceRegistry.Scope memory scope,
        IRoyaltyLedger.Report calldata report,
        uint32 firstYear,
        uint256[] memory tierCumulativeBefore
    ) internal pure returns (ILicenceRegistry.Priced memory result) {
        uint256 yearCount = tierCumulativeBefore.length;
        YearSums[] memory sums = new YearSums[](yearCount);
        for (uint256 i; i < report.buckets.length; ++i) {
            if (_add(schedule, scope, report.buckets[i], i, firstYear, sums, false)) result.outOfScope |= 1 << i;
        }
        for (uint256 i; i < report.returned.length; ++i) {
            _add(schedule, scope, report.returned[i], i, firstYear, sums, true);
        }
        bool chargeFixedFee = report.corrects == 0;
        result.yearTierNet = new int256[](yearCount);
        result.yearRoyalty = new int256[](yearCount);
        for (uint256 j; j < yearCount; ++j) {
            YearSums memory y = sums[j];
            _priceTiers(schedule, y, tierCumulativeBefore[j]);
            if (j == 0 && chargeFixedFee) y.plus += uint256(schedule.fixedFeePerPeriod) * BPS;
            int256 royalty =
                y.plus >= y.minus ? int256((y.plus - y.minus) / BPS) : -int256(_ceilDiv(y.minus - y.plus, BPS));
            result.yearTierNet[j] = int256(y.tierSales) - int256(y.tierReturns);
            result.yearRoyalty[j] = royalty;
            result.royalty += royalty;
        }
    }

    /// @dev Adds a bucket (or a return) to its year's sums; returns whether it lies outside the scope.
    function _add(
        ILicenceRegistry.Schedule memory schedule,
        ILicenceRegistry.Scope memory scope,
        IRoyaltyLedger.Bucket calldata bucket,
        uint256 index,
        uint32 firstYear,
        YearSums[] memory sums,
        bool isReturn
    ) private pure returns (bool outOfScope) {
        if (bucket.deductions > bucket.gross) {
            revert IRoyaltyLedger.DeductionsExceedGross(index, bucket.gross, bucket.deductions);
        }
        if (bucket.year < firstYear || bucket.year - firstYear >= sums.length) {
            revert IRoyaltyLedger.BucketYearOutsidePeriod(
                index, bucket.year, firstYear, uint32(firstYear + sums.length - 1)
            );
        }
        // Out of scope, a sale earns nothing and its return takes nothing back.
        if (!inScope(scope, bucket)) return true;
        YearSums memory y = sums[bucket.year - firstYear];
        uint256 net = bucket.gross - bucket.deductions;
        uint256 perUnit = uint256(bucket.units) * schedule.perUnit * BPS;
        (bool hasFieldRate, uint16 fieldRateBps) = fieldRate(schedule.fieldRates, bucket.field);
        uint256 rated = hasFieldRate ? net * fieldRateBps : 0;
        if (isReturn) {
            y.minus += perUnit + rated;
            if (!hasFieldRate) y.tierReturns += net;
        } else {
            y.plus += perUnit + rated;
            if (!hasFieldRate) y.tierSales += net;
        }
    }

    /// @dev Adds the base-rate or tiered numerator of a year's net tier-priced change.
    function _priceTiers(ILicenceRegistry.Schedule memory schedule, YearSums memory y, uint256 cumulative)
        private
        pure
    {
        if (schedule.tiers.length == 0) {
            y.plus += y.tierSales * schedule.rateBps;
            y.minus += y.tierReturns * schedule.rateBps;
        } else if (y.tierSales >= y.tierReturns) {
            uint256 increase = y.tierSales - y.tierReturns;
            if (increase != 0) y.plus += tieredNumerator(schedule.tiers, cumulative, increase);
        } else {
            uint256 decrease = y.tierReturns - y.tierSales;
            uint256 within = decrease < cumulative ? decrease : cumulative;
            y.minus += tieredNumerator(schedule.tiers, cumulative - within, within);
            y.minus += (decrease - within) * schedule.tiers[0].rateBps;
        }
    }

    function _ceilDiv(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    /// @notice The explicit rate for a field of use, if the schedule has one.
    function fieldRate(ILicenceRegistry.FieldRate[] memory rates, uint8 field)
        internal
        pure
        returns (bool found, uint16 rateBps)
    {
        for (uint256 i; i < rates.length; ++i) {
            if (rates[i].field == field) return (true, rates[i].rateBps);
        }
        return (false, 0);
    }

    /// @notice Sum of net * bps over the slice [from, from + amount) of the marginal tiers.
    /// @dev Tiers are validated at registration: the first threshold is 0 and thresholds ascend.
    function tieredNumerator(ILicenceRegistry.Tier[] memory tiers, uint256 from, uint256 amount)
        internal
        pure
        returns (uint256 numerator)
    {
        uint256 to = from + amount;
        for (uint256 i; i < tiers.length; ++i) {
            uint256 lower = tiers[i].threshold;
            uint256 upper = i + 1 < tiers.length ? tiers[i + 1].threshold : type(uint256).max;
            if (to <= lower) break;
            uint256 sliceStart = from > lower ? from : lower;
            uint256 sliceEnd = to < upper ? to : upper;
            if (sliceEnd > sliceStart) numerator += (sliceEnd - sliceStart) * tiers[i].rateBps;
        }
    }

    /// @notice The part of `total` owed to payee `index`.
    /// @param prefixBps prefixBps[i] is the sum of the shares of payees 0..i-1 (length payees + 1)
    function partOf(uint256 total, uint16[] storage prefixBps, uint256 index) internal view returns (uint256 amount) {
        uint256 lo = 0;
        uint256 hi = prefixBps.length - 1;
        amount = total;
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) / 2;
            uint256 base = prefixBps[lo];
            uint256 firstHalf = amount * (prefixBps[mid] - base) / (prefixBps[hi] - base);
            if (index < mid) {
                amount = firstHalf;
                hi = mid;
            } else {
                amount -= firstHalf;
                lo = mid;
            }
        }
    }

    /// @notice The withholding owed when a settlement's released amount grows from `before` to `after_`.
    /// @dev Computed on the cumulative amount so that a settlement paid in instalments withholds
    /// exactly floor(total * taxBps / 10,000) in the end.
    function taxOnIncrement(uint256 before, uint256 after_, uint16 taxBps) internal pure returns (uint256) {
        return after_ * taxBps / BPS - before * taxBps / BPS;
    }
}
