// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Index-linked escalation: a clause both parties sign, stepped by index values the
/// licence's oracles sign (docs/escalation.md)
/// @notice On each contract anniversary the clause multiplies the money terms it names by the
/// index's change over the year before: step n (taking effect at the start of contract year n,
/// counted from 0) uses the index of month `baseMonth + 12 * n` over that of `baseMonth + 12 * (n - 1)`,
/// limited to [floor, cap] per step. The escalated schedule becomes a new schedule version of the
/// licence in the registry, without either party signing again.
interface ILicenceEscalator {
    // ------------------------------------------------------------------ types

    /// @notice What an escalation clause says.
    /// @param index the index's name as its publisher writes it (ASCII, e.g. "US-CPI-U")
    /// @param successor the index that replaces it if it is discontinued (0: none); a step is
    /// computed on one series at both ends, and once the successor is used the index is not again
    /// @param baseMonth YYYYMM of the index month the first step compares against (the month
    /// published at signing, e.g. 202409)
    /// @param targets what escalates, a bitmap: 1 the fixed fee per period, 2 the per-unit amount,
    /// 4 the minimum guarantee, 8 the rates (base, tier and field rates, never above 100%), 16 the
    /// tier thresholds
    /// @param upwardOnly a step never lowers an amount (the floor is at least 0)
    /// @param floorBps least change of one step in bps of the amount (-10,000: no floor)
    /// @param capBps most change of one step in bps (0: no cap); at least the floor
    /// @param rounding 0 down, 1 to the nearest (halves up), 2 up
    /// @param roundTo money amounts are rounded to a multiple of this (token units, at least 1);
    /// rates to a whole bps
    struct Clause {
        bytes16 index;
        bytes16 successor;
        uint32 baseMonth;
        uint8 targets;
        bool upwardOnly;
        int16 floorBps;
        uint16 capBps;
        uint8 rounding;
        uint128 roundTo;
    }

    /// @notice Index values for one step, signed by `threshold` of the licence's oracles (EIP-712
    /// in this contract's domain). Values are index points times 1,000,000 (315.301 is 315,301,000).
    /// @param step 1 for the first anniversary (the start of contract year 1), then 2, 3, ...
    /// @param deadline the signatures are not accepted after this second
    struct IndexStep {
        uint256 licenceId;
        uint32 step;
        bytes16 index;
        uint32 fromMonth;
        uint64 fromValue;
        uint32 toMonth;
        uint64 toValue;
        uint64 deadline;
    }

    /// @notice Which limit of the clause a step's change was held to.
    enum Limit {
        None,
        Floor,
        Cap
    }

    /// @notice How a step was applied: the amounts of schedule version `version` (in force from
    /// `effectiveFrom`) are those of the version before times `numerator / denominator`, rounded
    /// by the clause. Without a limit the ratio is toValue / fromValue; held to the floor or cap
    /// it is (10,000 + that limit) / 10,000.
    struct Applied {
        uint256 numerator;
        uint256 denominator;
        Limit limit;
        uint64 effectiveFrom;
        uint32 version;
    }

    // ------------------------------------------------------------------ events

    /// @notice Both parties signed an escalation clause for the licence.
    event EscalationAttached(uint256 indexed licenceId, Clause clause);

    /// @notice A step escalated the licence's schedule by the index values its oracles signed.
    event Escalated(
        uint256 indexed licenceId,
        uint32 indexed step,
        bytes16 index,
        uint32 fromMonth,
        uint64 fromValue,
        uint32 toMonth,
        uint64 toValue,
        Applied applied
    );

    // ------------------------------------------------------------------ errors

    error EscalationIndexMissing();
    error EscalationSuccessorIsIndex(bytes16 index);
    error EscalationMonthInvalid(uint32 month);
    error EscalationTargetsInvalid(uint8 targets);
    error EscalationFloorInvalid(int16 floorBps);
    error EscalationFloorAboveCap(int16 floorBps, uint16 capBps);
    error EscalationRoundingInvalid(uint8 rounding, uint128 roundTo);
    error EscalationClauseExists(uint256 licenceId);
    error NoEscalationClause(uint256 licenceId);
    error LicenceNotActive(uint256 licenceId);
    error ConsentExpired(uint64 deadline, uint256 nowSeconds);
    error ConsentMissing(address party);
    error StepAlreadyApplied(uint32 step, uint32 stepsApplied);
    error StepOutOfOrder(uint32 step, uint32 expected);
    error IndexSignatureExpired(uint64 deadline, uint256 nowSeconds);
    error UnknownIndex(bytes16 index);
    error IndexSuperseded(bytes16 index, bytes16 successor);
    error IndexMonthStale(uint32 month, uint32 required);
    error IndexMonthMismatch(uint32 fromMonth, uint32 toMonth, uint32 requiredFrom, uint32 requiredTo);
    error IndexValueZero(uint32 month);
    error IndexChangeImplausible(uint64 fromValue, uint64 toValue);
    error IndexValueRevised(uint32 month, uint64 stepped, uint64 signed);
    error StepAfterTerm(uint32 step, uint64 effectiveFrom, uint64 effectiveEnd);
    error WrongSignatureCount(uint256 count, uint8 threshold);
    error InvalidSignature(uint256 index, uint8 error, bytes32 detail);
    error UnknownSigner(uint256 index, address signer);
    error SignersNotAscending(uint256 index, address signer);

    // ------------------------------------------------------------------ actions

    /// @notice Attach the clause both parties signed (EIP-712 AttachEscalation; a party calling
    /// itself may pass an empty signature). Once per licence, while it is active.
    function attach(
        uint256 licenceId,
        Clause calldata clause,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external;

    /// @notice Apply the next step (anyone may submit it): checks the index values and their
    /// signatures, escalates the schedule in force at the anniversary and appends the result to
    /// the registry as a new schedule version in force from the anniversary, even when the step
    /// comes after it (indices are published late), unless a period that began since has already
    /// been settled: then from the period after the latest such one (settled royalties are never
    /// repriced).
    function step(IndexStep calldata values, bytes[] calldata signatures) external returns (uint32 version);

    // ------------------------------------------------------------------ views

    function clauseOf(uint256 licenceId) external view returns (Clause memory);
    function stepsApplied(uint256 licenceId) external view returns (uint32);
    /// @notice The index month step `n` compares against (n = 1: baseMonth + 12), YYYYMM.
    function stepMonth(uint256 licenceId, uint32 n) external view returns (uint32);
    function attachDigest(uint256 licenceId, Clause calldata clause, uint64 deadline) external view returns (bytes32);
    function stepDigest(IndexStep calldata values) external view returns (bytes32);
}
