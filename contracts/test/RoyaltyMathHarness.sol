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
        IRoyaltyLedger.Report calldata report,
        uint32 firstYear,
        uint256[] calldata tierCumulativeBefore
    ) external pure returns (ILicenceRegistry.Priced memory) {
        return RoyaltyMath.price(schedule, scope, report, firstYear, tierCumulativeBefore);
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

    uint16[] private _prefixBps;

    /// @notice Sets the payees' shares whose split `partOf` computes.
    function setShares(uint16[] calldata sharesBps) external {
        delete _prefixBps;
        uint16 sum = 0;
        _prefixBps.push(0);
        for (uint256 i; i < sharesBps.length; ++i) {
            sum += sharesBps[i];
            _prefixBps.push(sum);
        }
    }

    function partOf(uint256 total, uint256 index) external view returns (uint256) {
        return RoyaltyMath.partOf(total, _prefixBps, index);
    }

    function taxOnIncrement(uint256 before, uint256 after_, uint16 taxBps) external pure returns (uint256) {
        return RoyaltyMath.taxOnIncrement(before, after_, taxBps);
    }
}
