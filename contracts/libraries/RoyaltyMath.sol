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

    error DeductionsExceedGross(uint256 bucket, uint128 gross, uint128 deductions);

    /// @notice Whether a bucket lies inside the licence's scope.
    function inScope(ILicenceRegistry.Scope memory scope, IRoyaltyLedger.Bucket calldata bucket)
        internal
        pure
        returns (bool)
    {
        return (scope.territories >> bucket.territory) & 1 == 1 && bucket.field < 64
            && (scope.fields >> bucket.field) & 1 == 1 && bucket.channel < 32 && (scope.channels >> bucket.channel) & 1 == 1;
    }

    /// @notice Price a report's buckets under one schedule version, each at the tier position of
    /// its own contract year.
    /// @param firstYear the contract year of the period's start; bucket years must lie in
    /// [firstYear, firstYear + tierCumulativeBefore.length)
    /// @param tierCumulativeBefore per contract year of the period, the tier-priced net sales
    /// already reported in it
    function price(
        ILicenceRegistry.Schedule memory schedule,
        ILicenceRegistry.Scope memory scope,
        IRoyaltyLedger.Bucket[] calldata buckets,
        uint32 firstYear,
        uint256[] calldata tierCumulativeBefore
    ) internal pure returns (ILicenceRegistry.Priced memory result) {
        uint256 yearCount = tierCumulativeBefore.length;
        result.yearTierNet = new uint256[](yearCount);
        result.yearRoyalty = new uint256[](yearCount);
        // Per year: the exact numerator of its percentage parts (field rates first), and its
        // per-unit amounts.
        uint256[] memory numerators = new uint256[](yearCount);
        uint256[] memory perUnit = new uint256[](yearCount);
        for (uint256 i; i < buckets.length; ++i) {
            IRoyaltyLedger.Bucket calldata bucket = buckets[i];
            if (bucket.deductions > bucket.gross) {
                revert DeductionsExceedGross(i, bucket.gross, bucket.deductions);
            }
            if (bucket.year < firstYear || bucket.year - firstYear >= yearCount) {
                revert IRoyaltyLedger.BucketYearOutsidePeriod(
                    i, bucket.year, firstYear, uint32(firstYear + yearCount - 1)
                );
            }
            if (!inScope(scope, bucket)) {
                result.outOfScope |= 1 << i;
                continue;
            }
            _addBucket(schedule, bucket, bucket.year - firstYear, result.yearTierNet, numerators, perUnit);
        }
        for (uint256 j; j < yearCount; ++j) {
            uint256 tierNet = result.yearTierNet[j];
            uint256 numerator = numerators[j];
            if (schedule.tiers.length == 0) {
                numerator += tierNet * schedule.rateBps;
            } else if (tierNet != 0) {
                numerator += tieredNumerator(schedule.tiers, tierCumulativeBefore[j], tierNet);
            }
            uint256 royalty = perUnit[j] + numerator / BPS;
            if (j == 0) royalty += schedule.fixedFeePerPeriod;
            result.yearRoyalty[j] = royalty;
            result.royalty += royalty;
        }
    }

    /// @dev Adds an in-scope bucket to its year's sums.
    function _addBucket(
        ILicenceRegistry.Schedule memory schedule,
        IRoyaltyLedger.Bucket calldata bucket,
        uint256 j,
        uint256[] memory tierNets,
        uint256[] memory numerators,
        uint256[] memory perUnit
    ) private pure {
        uint256 net = bucket.gross - bucket.deductions;
        perUnit[j] += uint256(bucket.units) * schedule.perUnit;
        (bool hasFieldRate, uint16 fieldRateBps) = fieldRate(schedule.fieldRates, bucket.field);
        if (hasFieldRate) {
            numerators[j] += net * fieldRateBps;
        } else {
            tierNets[j] += net;
        }
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
