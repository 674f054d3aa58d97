// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILicenceEscalator} from "../interfaces/ILicenceEscalator.sol";
import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";

/// @title EscalationMath: one step of an index-linked escalation clause, in exact integers
/// @notice The step's ratio is a fraction (toValue / fromValue, or the clause's floor or cap as
/// (10,000 + bps) / 10,000) and every escalated amount is rounded once, from the exact product:
/// amount * numerator / denominator to a multiple of `roundTo` (down, to the nearest with halves
/// up, or up). Products stay below 2^195, so nothing overflows before the final cast.
library EscalationMath {
    uint256 internal constant BPS = 10_000;
    uint8 internal constant FEE = 1;
    uint8 internal constant PER_UNIT = 2;
    uint8 internal constant GUARANTEE = 4;
    uint8 internal constant RATES = 8;
    uint8 internal constant THRESHOLDS = 16;
    uint8 internal constant ALL_TARGETS = 31;
    uint8 internal constant ROUND_DOWN = 0;
    uint8 internal constant ROUND_NEAREST = 1;
    uint8 internal constant ROUND_UP = 2;

    /// @notice The least change a step may make, in bps: the clause's floor, raised to 0 when it
    /// escalates upward only.
    function effectiveFloor(ILicenceEscalator.Clause memory clause) internal pure returns (int256) {
        int256 floor = clause.floorBps;
        if (clause.upwardOnly && floor < 0) floor = 0;
        return floor;
    }

    /// @notice The ratio one step applies: the index's change, held to [floor, cap].
    function ratio(ILicenceEscalator.Clause memory clause, uint64 fromValue, uint64 toValue)
        internal
        pure
        returns (uint256 numerator, uint256 denominator, ILicenceEscalator.Limit limit)
    {
        uint256 lowest = uint256(int256(BPS) + effectiveFloor(clause)); // floor >= -10,000
        if (uint256(toValue) * BPS < uint256(fromValue) * lowest) return (lowest, BPS, ILicenceEscalator.Limit.Floor);
        if (clause.capBps != 0) {
            uint256 highest = BPS + clause.capBps;
            if (uint256(toValue) * BPS > uint256(fromValue) * highest) {
                return (highest, BPS, ILicenceEscalator.Limit.Cap);
            }
        }
        return (toValue, fromValue, ILicenceEscalator.Limit.None);
    }

    /// @notice amount * numerator / denominator rounded to a multiple of `roundTo` by `rounding`.
    /// @dev numerator and denominator are below 2^64 and amount below 2^128.
    function scale(uint256 amount, uint256 numerator, uint256 denominator, uint8 rounding, uint256 roundTo)
        internal
        pure
        returns (uint256)
    {
        uint256 product = amount * numerator;
        uint256 unit = roundTo * denominator;
        uint256 multiples;
        // slither-disable-start divide-before-multiply
        // Rounding to a multiple of roundTo is the point: the division truncates on purpose.
        if (rounding == ROUND_DOWN) {
            multiples = product / unit;
        } else if (rounding == ROUND_UP) {
            multiples = (product + unit - 1) / unit;
        } else {
            multiples = (2 * product + unit) / (2 * unit);
        }
        return multiples * roundTo;
        // slither-disable-end divide-before-multiply
    }

    /// @notice The schedule after one step: each target of the clause scaled; rates never above 100%.
    function escalate(
        ILicenceRegistry.Schedule memory schedule,
        ILicenceEscalator.Clause memory clause,
        uint256 numerator,
        uint256 denominator
    ) internal pure {
        uint8 targets = clause.targets;
        uint8 rounding = clause.rounding;
        uint256 roundTo = clause.roundTo;
        if (targets & FEE != 0) {
            schedule.fixedFeePerPeriod =
                SafeCast.toUint128(scale(schedule.fixedFeePerPeriod, numerator, denominator, rounding, roundTo));
        }
        if (targets & PER_UNIT != 0) {
            schedule.perUnit = SafeCast.toUint128(scale(schedule.perUnit, numerator, denominator, rounding, roundTo));
        }
        if (targets & GUARANTEE != 0) {
            schedule.minimumGuarantee =
                SafeCast.toUint128(scale(schedule.minimumGuarantee, numerator, denominator, rounding, roundTo));
        }
        ILicenceRegistry.Tier[] memory tiers = schedule.tiers;
        if (targets & RATES != 0) {
            schedule.rateBps = _rate(schedule.rateBps, numerator, denominator, rounding);
            for (uint256 i; i < tiers.length; ++i) {
                tiers[i].rateBps = _rate(tiers[i].rateBps, numerator, denominator, rounding);
            }
            ILicenceRegistry.FieldRate[] memory fieldRates = schedule.fieldRates;
            for (uint256 i; i < fieldRates.length; ++i) {
                fieldRates[i].rateBps = _rate(fieldRates[i].rateBps, numerator, denominator, rounding);
            }
        }
        if (targets & THRESHOLDS != 0) {
            for (uint256 i; i < tiers.length; ++i) {
                tiers[i].threshold =
                    SafeCast.toUint128(scale(tiers[i].threshold, numerator, denominator, rounding, roundTo));
            }
        }
    }

    /// @notice YYYYMM `months` months after `month`.
    function addMonths(uint32 month, uint256 months) internal pure returns (uint32) {
        uint256 total = uint256(month / 100) * 12 + (month % 100 - 1) + months;
        // slither-disable-next-line divide-before-multiply
        return SafeCast.toUint32((total / 12) * 100 + (total % 12) + 1);
    }

    /// @notice Whether `month` is a YYYYMM of the years 1900 to 9999.
    function validMonth(uint32 month) internal pure returns (bool) {
        uint32 m = month % 100;
        uint32 y = month / 100;
        return m >= 1 && m <= 12 && y >= 1900 && y <= 9999;
    }

    function _rate(uint16 rateBps, uint256 numerator, uint256 denominator, uint8 rounding)
        private
        pure
        returns (uint16)
    {
        uint256 scaled = scale(rateBps, numerator, denominator, rounding, 1);
        return uint16(scaled > BPS ? BPS : scaled);
    }
}
