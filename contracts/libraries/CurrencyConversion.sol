// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";

/// @title CurrencyConversion: checking a report's conversions of sales in other currencies
/// @notice A report's buckets are in token units; the sales in another currency they hold are
/// listed as conversions (IRoyaltyLedger.Conversion), each signed with the report. This library
/// checks them and computes what each converts to, so the ledger can emit it for anyone to
/// recompute: the one rounding is each amount's, down (docs/currencies.md).
library CurrencyConversion {
    /// @notice Rates are scaled by 10^18 ...
    uint256 internal constant RATE_SCALE = 1e18;
    /// @notice ... and lie between 10^-9 and 10^9 (inclusive): a rate outside is a mistake.
    uint128 internal constant MIN_RATE = 1e9;
    uint128 internal constant MAX_RATE = 1e27;
    /// @notice ISO 4217 exponents go up to 4 (CLF, UYW).
    uint8 internal constant MAX_MINOR_UNITS = 4;
    /// @notice Tokens with more decimals than this cannot be converted into (10^36 keeps the
    /// product within 512 bits for mulDiv and the result within uint128 for any real bucket).
    uint8 internal constant MAX_TOKEN_DECIMALS = 36;

    /// @notice `amount` of a currency with `minorUnits` decimals, in units of a token with
    /// `tokenDecimals`, at `rate`: floor(amount * rate * 10^tokenDecimals / (10^minorUnits * 10^18)).
    function convert(uint256 amount, uint256 rate, uint8 minorUnits, uint8 tokenDecimals)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(amount * rate, 10 ** uint256(tokenDecimals), 10 ** (uint256(minorUnits) + 18));
    }

    /// @notice Whether `code` is three ASCII capitals, as every ISO 4217 code is.
    function isCurrencyCode(bytes3 code) internal pure returns (bool) {
        for (uint256 i; i < 3; ++i) {
            uint8 c = uint8(code[i]);
            if (c < 0x41 || c > 0x5a) return false;
        }
        return true;
    }

    /// @notice Checks every conversion of `report` (its period [periodStart, periodEnd)) and
    /// returns what each converts to: gross and deductions, in token units.
    /// @dev Conversions come ordered by (bucket, currency, rateDay) without repeats; a bucket's
    /// converted parts may not exceed it (its remainder is its licence-currency sales).
    function check(IRoyaltyLedger.Report calldata report, uint64 periodStart, uint64 periodEnd, uint8 tokenDecimals)
        internal
        pure
        returns (uint256[] memory grossOut, uint256[] memory deductionsOut)
    {
        IRoyaltyLedger.Conversion[] calldata fx = report.fx;
        uint256 sales = report.buckets.length;
        uint256 buckets = sales + report.returned.length;
        grossOut = new uint256[](fx.length);
        deductionsOut = new uint256[](fx.length);
        uint256 sumGross = 0;
        uint256 sumDeductions = 0;
        for (uint256 i; i < fx.length; ++i) {
            IRoyaltyLedger.Conversion calldata c = fx[i];
            if (c.bucket >= buckets) revert IRoyaltyLedger.ConversionBucketUnknown(i, c.bucket, buckets);
            if (i != 0 && !_ordered(fx[i - 1], c)) revert IRoyaltyLedger.ConversionsNotOrdered(i);
            if (!isCurrencyCode(c.currency) || c.minorUnits > MAX_MINOR_UNITS) {
                revert IRoyaltyLedger.CurrencyInvalid(i, c.currency, c.minorUnits);
            }
            if (c.rate < MIN_RATE || c.rate > MAX_RATE) {
                revert IRoyaltyLedger.RateOutOfBounds(i, c.rate, MIN_RATE, MAX_RATE);
            }
            if (c.rateDay < periodStart || c.rateDay >= periodEnd || c.rateDay % 1 days != 0) {
                revert IRoyaltyLedger.RateDayOutsidePeriod(i, c.rateDay, periodStart, periodEnd);
            }
            if (c.deductions > c.gross) {
                revert IRoyaltyLedger.ConversionDeductionsExceedGross(i, c.gross, c.deductions);
            }
            grossOut[i] = convert(c.gross, c.rate, c.minorUnits, tokenDecimals);
            deductionsOut[i] = convert(c.deductions, c.rate, c.minorUnits, tokenDecimals);
            if (i != 0 && fx[i - 1].bucket != c.bucket) (sumGross, sumDeductions) = (0, 0);
            sumGross += grossOut[i];
            sumDeductions += deductionsOut[i];
            IRoyaltyLedger.Bucket calldata b =
                c.bucket < sales ? report.buckets[c.bucket] : report.returned[c.bucket - sales];
            if (sumGross > b.gross || sumDeductions > b.deductions) {
                revert IRoyaltyLedger.ConversionsExceedBucket(c.bucket, sumGross, sumDeductions);
            }
        }
    }

    /// @dev Strictly ascending by (bucket, currency, rateDay).
    function _ordered(IRoyaltyLedger.Conversion calldata a, IRoyaltyLedger.Conversion calldata b)
        private
        pure
        returns (bool)
    {
        if (a.bucket != b.bucket) return a.bucket < b.bucket;
        if (a.currency != b.currency) return a.currency < b.currency;
        return a.rateDay < b.rateDay;
    }
}
