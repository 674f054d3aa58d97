// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ReviewMath: when a benchmark has moved, and the rate a review suggests, in exact integers
/// @notice A move is compared without dividing (|observed - atSigning| x 10,000 against
/// atSigning x moveBps), so "more than moveBps" is exact at the boundary; a suggested rate is
/// rounded once, from the exact product, to the nearest bps with halves up, and held at 100%.
library ReviewMath {
    uint256 internal constant BPS = 10_000;

    /// @notice Whether `observed` differs from `reference` by more than `moveBps` of it, either way.
    /// @dev observed and reference below 2^128, moveBps below 2^16: products below 2^256.
    function movedBeyond(uint256 observed, uint256 reference_, uint256 moveBps) internal pure returns (bool) {
        uint256 difference = observed > reference_ ? observed - reference_ : reference_ - observed;
        return difference * BPS > reference_ * moveBps;
    }

    /// @notice rateBps x numerator / denominator to the nearest bps (halves up), at most 10,000.
    /// @dev rateBps at most 10,000 and numerator below 2^128: the product is below 2^142.
    function scaleRate(uint256 rateBps, uint256 numerator, uint256 denominator) internal pure returns (uint16) {
        uint256 scaled = (2 * rateBps * numerator + denominator) / (2 * denominator);
        return uint16(scaled > BPS ? BPS : scaled);
    }
}
