// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";
import {RoyaltyMath} from "../libraries/RoyaltyMath.sol";

/// @title RoyaltyMathHarness
/// @notice Exposes the internal RoyaltyMath functions so that tests can fuzz them directly.
contract RoyaltyMathHarness {
    function price(
        ILicenceRegistry.Schedule memory schedule,
        ILicenceRegistry.Scope memory scope,
        IRoyaltyLedger.Bucket[] calldata buckets,
        uint256 tierCumulativeBefore
    ) external pure returns (ILicenceRegistry.Priced memory) {
        return RoyaltyMath.price(schedule, scope, buckets, tierCumulativeBefore);
    }

    function inScope(ILicenceRegistry.Scope memory scope, IRoyaltyLedger.Bucket calldata bucket)
        external
        pure
        returns (bool)
    {
        return RoyaltyMath.inScope(scope, bucket);
    }

    function tieredNumerator(ILicenceRegistry.Tier[] memory tiers, uint256 from, uint256 amount)
        external
        pure
        returns (uint256)
    {
        return RoyaltyMath.tieredNumerator(tiers, from, amount);
    }

    function shareOf(uint256 total, uint16 shareBps) external pure returns (uint256) {
        return RoyaltyMath.shareOf(total, shareBps);
    }

    function taxOnIncrement(uint256 before, uint256 after_, uint16 taxBps) external pure returns (uint256) {
        return RoyaltyMath.taxOnIncrement(before, after_, taxBps);
    }
}
