// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ILicenceEscalator} from "./interfaces/ILicenceEscalator.sol";
import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {LicenceRegistry} from "./LicenceRegistry.sol";
import {EscalationMath} from "./libraries/EscalationMath.sol";
import {OracleQuorum} from "./libraries/OracleQuorum.sol";

/// @title LicenceEscalator: index-linked escalation of a licence's schedule
/// @notice Holds each licence's escalation clause (both parties sign it once) and applies its
/// steps: index values signed by the licence's oracles, like reports, turn the schedule in force
/// into a new schedule version in the registry, which holds ESCALATOR_ROLE for this contract only.
/// @dev A contract of its own beside the registry: the registry is near EIP-170's size limit, and
/// escalation needs nothing of it but its views and appendSchedule.
contract LicenceEscalator is ILicenceEscalator, EIP712 {
    bytes32 public constant ATTACH_TYPEHASH = keccak256(
        "AttachEscalation(uint256 licenceId,bytes16 index,bytes16 successor,uint32 baseMonth,uint8 targets,"
        "bool upwardOnly,int16 floorBps,uint16 capBps,uint8 rounding,uint128 roundTo,uint64 deadline)"
    );
    bytes32 public constant STEP_TYPEHASH = keccak256(
        "IndexStep(uint256 licenceId,uint32 step,bytes16 index,uint32 fromMonth,uint64 fromValue,uint32 toMonth,"
        "uint64 toValue,uint64 deadline)"
    );
    /// @notice A step's index may at most double or halve over its year: anything beyond is taken
    /// for a wrong value (a scale or a series mixed up), not an economy.
    uint256 public constant MAX_CHANGE_FACTOR = 2;

    ILicenceRegistry public immutable registry;

    struct Progress {
        uint32 applied; // steps applied so far
        bytes16 index; // the series the last step used
        uint64 value; // its value at the last step's month
    }

    mapping(uint256 licenceId => Clause) private _clauses;
    mapping(uint256 licenceId => Progress) private _progress;

    constructor(ILicenceRegistry registry_) EIP712("LicenceEscalator", "1") {
        registry = registry_;
    }

    // ------------------------------------------------------------------ actions

    /// @inheritdoc ILicenceEscalator
    function attach(
        uint256 licenceId,
        Clause calldata clause,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external {
        _requireActive(licenceId);
        if (_clauses[licenceId].index != bytes16(0)) revert EscalationClauseExists(licenceId);
        _validate(clause);
        if (block.timestamp > deadline) revert ConsentExpired(deadline, block.timestamp);
        (address licensor, address licensee) = registry.parties(licenceId);
        bytes32 digest = attachDigest(licenceId, clause, deadline);
        if (!OracleQuorum.consents(licensor, digest, licensorSig)) revert ConsentMissing(licensor);
        if (!OracleQuorum.consents(licensee, digest, licenseeSig)) revert ConsentMissing(licensee);
        _clauses[licenceId] = clause;
        emit EscalationAttached(licenceId, clause);
    }

    /// @inheritdoc ILicenceEscalator
    function step(IndexStep calldata values, bytes[] calldata signatures) external returns (uint32 version) {
        uint256 licenceId = values.licenceId;
        Clause memory clause = _clauses[licenceId];
        if (clause.index == bytes16(0)) revert NoEscalationClause(licenceId);
        _requireActive(licenceId);
        _checkValues(values, clause, _progress[licenceId]);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(licenceId);
        OracleQuorum.check(registry, licenceId, stepDigest(values), signatures, context.threshold);

        // Step n takes effect when contract year n begins, as the clause says, even when the
        // index comes out after that: no period that began since has been settled at the old
        // schedule. Otherwise it takes effect from the period after the latest one that has.
        // slither-disable-next-line unused-return
        (uint64 anniversary,,,) = registry.contractYearBounds(licenceId, values.step);
        uint64 effectiveFrom = anniversary;
        if (effectiveFrom < context.effectiveEnd && effectiveFrom < block.timestamp) {
            effectiveFrom = _afterSettled(licenceId, anniversary);
        }
        if (effectiveFrom >= context.effectiveEnd) {
            revert StepAfterTerm(values.step, effectiveFrom, context.effectiveEnd);
        }
        ILicenceRegistry.Schedule memory schedule = _escalated(values, clause, effectiveFrom);
        _progress[licenceId] = Progress({applied: values.step, index: values.index, value: values.toValue});
        version = registry.scheduleCount(licenceId);
        // The registry is a fixed, trusted contract: it checks the version like an amendment's.
        registry.appendSchedule(licenceId, schedule);
    }

    /// @dev `anniversary`, or the start of the period after the latest period that began at or
    /// after it and has been settled (its royalty was priced by the schedule before the step).
    /// Only periods that have begun can have been settled: a late step scans the few since.
    function _afterSettled(uint256 licenceId, uint64 anniversary) private view returns (uint64 effectiveFrom) {
        effectiveFrom = anniversary;
        uint32 first = registry.periodOf(licenceId, anniversary);
        // slither-disable-next-line unused-return
        (uint64 firstStart,,) = registry.periodBounds(licenceId, first);
        if (firstStart < anniversary) ++first; // began before the anniversary: priced by the old schedule anyway
        IRoyaltyLedger ledger = LicenceRegistry(address(registry)).ledger();
        uint256 p = uint256(registry.periodOf(licenceId, uint64(block.timestamp))) + 1;
        while (p > first) {
            --p;
            if (ledger.settledPeriod(licenceId, uint32(p)) != 0) {
                // slither-disable-next-line unused-return
                (effectiveFrom,,) = registry.periodBounds(licenceId, uint32(p + 1));
                return effectiveFrom;
            }
        }
    }

    /// @dev The schedule in force at `effectiveFrom` after the step, announced with its ratio.
    function _escalated(IndexStep calldata values, Clause memory clause, uint64 effectiveFrom)
        private
        returns (ILicenceRegistry.Schedule memory schedule)
    {
        schedule = registry.scheduleAt(values.licenceId, effectiveFrom);
        (uint256 numerator, uint256 denominator, Limit limit) =
            EscalationMath.ratio(clause, values.fromValue, values.toValue);
        Applied memory applied = Applied({
            numerator: numerator,
            denominator: denominator,
            limit: limit,
            effectiveFrom: effectiveFrom,
            version: registry.scheduleCount(values.licenceId)
        });
        EscalationMath.escalate(schedule, clause, applied.numerator, applied.denominator);
        schedule.effectiveFrom = effectiveFrom;
        emit Escalated(
            values.licenceId,
            values.step,
            values.index,
            values.fromMonth,
            values.fromValue,
            values.toMonth,
            values.toValue,
            applied
        );
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ILicenceEscalator
    function clauseOf(uint256 licenceId) external view returns (Clause memory) {
        return _clauses[licenceId];
    }

    /// @inheritdoc ILicenceEscalator
    function stepsApplied(uint256 licenceId) external view returns (uint32) {
        return _progress[licenceId].applied;
    }

    /// @inheritdoc ILicenceEscalator
    function stepMonth(uint256 licenceId, uint32 n) public view returns (uint32) {
        uint32 base = _clauses[licenceId].baseMonth;
        if (base == 0) revert NoEscalationClause(licenceId);
        return EscalationMath.addMonths(base, uint256(n) * 12);
    }

    /// @inheritdoc ILicenceEscalator
    function attachDigest(uint256 licenceId, Clause calldata clause, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTACH_TYPEHASH,
                    licenceId,
                    clause.index,
                    clause.successor,
                    clause.baseMonth,
                    clause.targets,
                    clause.upwardOnly,
                    clause.floorBps,
                    clause.capBps,
                    clause.rounding,
                    clause.roundTo,
                    deadline
                )
            )
        );
    }

    /// @inheritdoc ILicenceEscalator
    function stepDigest(IndexStep calldata values) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    STEP_TYPEHASH,
                    values.licenceId,
                    values.step,
                    values.index,
                    values.fromMonth,
                    values.fromValue,
                    values.toMonth,
                    values.toValue,
                    values.deadline
                )
            )
        );
    }

    /// @notice The EIP-712 domain separator, for clients building typed data.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal

    function _requireActive(uint256 licenceId) private view {
        if (registry.status(licenceId) != ILicenceRegistry.Status.Active) revert LicenceNotActive(licenceId);
    }

    function _validate(Clause calldata clause) private pure {
        if (clause.index == bytes16(0)) revert EscalationIndexMissing();
        if (clause.successor == clause.index) revert EscalationSuccessorIsIndex(clause.index);
        if (!EscalationMath.validMonth(clause.baseMonth)) revert EscalationMonthInvalid(clause.baseMonth);
        if (clause.targets == 0 || clause.targets > EscalationMath.ALL_TARGETS) {
            revert EscalationTargetsInvalid(clause.targets);
        }
        if (clause.floorBps < -int16(int256(EscalationMath.BPS))) revert EscalationFloorInvalid(clause.floorBps);
        if (clause.capBps != 0 && EscalationMath.effectiveFloor(clause) > int256(uint256(clause.capBps))) {
            revert EscalationFloorAboveCap(clause.floorBps, clause.capBps);
        }
        if (clause.rounding > EscalationMath.ROUND_UP || clause.roundTo == 0) {
            revert EscalationRoundingInvalid(clause.rounding, clause.roundTo);
        }
    }

    /// @dev Everything about a step's values but their signatures.
    function _checkValues(IndexStep calldata values, Clause memory clause, Progress memory progress) private view {
        if (values.step <= progress.applied) revert StepAlreadyApplied(values.step, progress.applied);
        if (values.step != progress.applied + 1) revert StepOutOfOrder(values.step, progress.applied + 1);
        if (block.timestamp > values.deadline) revert IndexSignatureExpired(values.deadline, block.timestamp);
        bytes16 index = values.index;
        if (index != clause.index && (clause.successor == bytes16(0) || index != clause.successor)) {
            revert UnknownIndex(index);
        }
        if (index == clause.index && progress.index == clause.successor && clause.successor != bytes16(0)) {
            revert IndexSuperseded(index, clause.successor);
        }
        uint32 requiredTo = EscalationMath.addMonths(clause.baseMonth, uint256(values.step) * 12);
        uint32 requiredFrom = EscalationMath.addMonths(clause.baseMonth, uint256(values.step - 1) * 12);
        if (values.toMonth < requiredTo) revert IndexMonthStale(values.toMonth, requiredTo);
        if (values.toMonth != requiredTo || values.fromMonth != requiredFrom) {
            revert IndexMonthMismatch(values.fromMonth, values.toMonth, requiredFrom, requiredTo);
        }
        if (values.fromValue == 0) revert IndexValueZero(values.fromMonth);
        if (values.toValue == 0) revert IndexValueZero(values.toMonth);
        uint256 from = values.fromValue;
        uint256 to = values.toValue;
        if (to > from * MAX_CHANGE_FACTOR || to * MAX_CHANGE_FACTOR < from) {
            revert IndexChangeImplausible(values.fromValue, values.toValue);
        }
        // The month this step starts from is the month the last one ended at: on the same
        // series, its value cannot have changed in between.
        if (progress.applied != 0 && progress.index == index && progress.value != values.fromValue) {
            revert IndexValueRevised(values.fromMonth, progress.value, values.fromValue);
        }
    }
}
