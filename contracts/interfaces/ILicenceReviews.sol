// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILicenceRegistry} from "./ILicenceRegistry.sol";

/// @title Rate reviews with triggers: a clause both parties sign, fired by data the licence's
/// oracles sign (or by the date), decided by both parties through the registry's amendment
/// @notice A review clause names up to three triggers: cumulative net sales passing a threshold, a
/// market benchmark of the licence's field of use moving from its value at signing by more than
/// a share, and a date. A trigger fires at most once per licence and opens a review: the data
/// that fired it, the rate in force and a suggested rate. Nothing changes the licence's terms
/// until both parties sign an amendment (`accept` relays it to LicenceRegistry.amend, so an
/// accepted review IS an amendment); either party may decline instead. An open review blocks
/// nothing: the parties may also amend directly.
interface ILicenceReviews {
    // ------------------------------------------------------------------ types

    /// @notice What fires a review. In signed typed data (ReviewEvidence.kind) a uint8: 0, 1, 2.
    enum Trigger {
        Volume,
        Benchmark,
        Date
    }

    enum ReviewStatus {
        None,
        Open,
        Declined,
        Accepted
    }

    /// @notice What a review clause says; a zero field names no trigger of its kind.
    /// @param benchmark the market benchmark's name as its publisher writes it (ASCII, e.g.
    /// "LES-MEDDEV-RATE"), 0: no benchmark trigger
    /// @param volumeThreshold cumulative net sales over the term, in token units, at or above
    /// which the volume trigger fires (0: no volume trigger)
    /// @param benchmarkAtSigning the benchmark's value when the clause was signed, points x 10^6
    /// (4.00 is 4,000,000), like index values
    /// @param reviewAt the date trigger: unix seconds at or after which it fires (0: none); after
    /// the clause is attached
    /// @param volumeRateBps the rate the parties agreed to review towards once the volume
    /// threshold is passed (at most 10,000); named exactly when the threshold is
    /// @param moveBps the benchmark trigger fires when a signed value differs from
    /// `benchmarkAtSigning` by more than this share of it, either way; named exactly with the
    /// benchmark
    struct Clause {
        bytes16 benchmark;
        uint128 volumeThreshold;
        uint64 benchmarkAtSigning;
        uint64 reviewAt;
        uint16 volumeRateBps;
        uint16 moveBps;
    }

    /// @notice An observation that fires a trigger, signed by `threshold` of the licence's oracles
    /// (EIP-712 ReviewEvidence in this contract's domain). For the date trigger nothing is signed
    /// (the chain's clock is the evidence): `observed` and `asOf` are not read.
    /// @param observed cumulative net sales in token units (volume) or the benchmark's value,
    /// points x 10^6 (benchmark)
    /// @param asOf when the value was observed: not in the future, not before the clause
    /// @param deadline the evidence is not accepted after this second
    struct Evidence {
        uint256 licenceId;
        Trigger kind;
        uint128 observed;
        uint64 asOf;
        uint64 deadline;
    }

    /// @notice A review a trigger opened, with the data that justified it and its decision.
    /// @param observed volume: the signed cumulative net sales; benchmark: the signed value;
    /// date: the second it fired
    /// @param referenceValue what it was compared with: the volume threshold, the benchmark at
    /// signing, the review date
    /// @param currentRateBps the rate in force when it fired (registry.scheduleAt now): the base
    /// rate, or the first tier's rate for a tiered schedule
    /// @param suggestedRateBps volume: the clause's agreed rate; benchmark: currentRateBps x
    /// numerator / denominator to the nearest bps (halves up), at most 10,000; date: currentRateBps
    /// @param numerator with `denominator`, the factor a draft applies to every rate of the
    /// schedule in force (base, tier and field rates, each rounded like the suggestion): benchmark
    /// observed / atSigning, date 1 / 1 (a meeting with no data-driven change); volume 0 / 0, no
    /// factor: the draft's base rate is the agreed rate (replacing a tiered schedule's tiers)
    /// @param scheduleFrom the effective date of the schedule version whose rates were read (the
    /// one in force when it fired): scheduleAt(licenceId, scheduleFrom) is the draft's base
    /// @param acceptedVersion the schedule version the accepted amendment added (0 otherwise:
    /// version 0 is the licence's original schedule, never an amendment)
    /// @param decidedBy the party that declined (0 when open or accepted: acceptance is both's)
    struct Review {
        uint256 licenceId;
        uint128 observed;
        uint128 referenceValue;
        uint128 numerator;
        uint128 denominator;
        uint64 asOf;
        uint64 openedAt;
        uint64 decidedAt;
        uint16 currentRateBps;
        uint16 suggestedRateBps;
        Trigger kind;
        ReviewStatus status;
        address decidedBy;
        uint64 scheduleFrom;
        uint32 acceptedVersion;
    }

    // ------------------------------------------------------------------ events

    /// @notice Both parties signed a review clause for the licence.
    event ReviewClauseAttached(uint256 indexed licenceId, Clause clause);
    /// @notice A trigger fired: the review, the data that justified it and the suggestion.
    event ReviewOpened(uint256 indexed reviewId, uint256 indexed licenceId, Trigger indexed kind, Review review);
    /// @notice A party declined the review; the licence's terms are unchanged.
    event ReviewDeclined(uint256 indexed reviewId, uint256 indexed licenceId, address indexed party);
    /// @notice Both parties signed the amendment that decides the review: schedule version
    /// `version` (the registry's LicenceAmended event of the same transaction carries it).
    event ReviewAccepted(uint256 indexed reviewId, uint256 indexed licenceId, uint32 version, uint64 newEnd);

    // ------------------------------------------------------------------ errors

    error ReviewNoTrigger();
    error ReviewBenchmarkIncomplete(bytes16 benchmark, uint64 benchmarkAtSigning, uint16 moveBps);
    error ReviewVolumeIncomplete(uint128 volumeThreshold, uint16 volumeRateBps);
    error ReviewVolumeRateTooHigh(uint16 volumeRateBps);
    error ReviewDateInPast(uint64 reviewAt, uint256 nowSeconds);
    error ReviewClauseExists(uint256 licenceId);
    error NoReviewClause(uint256 licenceId);
    error LicenceNotActive(uint256 licenceId);
    error ConsentExpired(uint64 deadline, uint256 nowSeconds);
    error ConsentMissing(address party);
    error TriggerNotInClause(uint256 licenceId, Trigger kind);
    error TriggerAlreadyFired(uint256 licenceId, Trigger kind);
    error EvidenceExpired(uint64 deadline, uint256 nowSeconds);
    error EvidenceFromFuture(uint64 asOf, uint256 nowSeconds);
    error EvidenceBeforeClause(uint64 asOf, uint64 attachedAt);
    error VolumeBelowThreshold(uint128 observed, uint128 volumeThreshold);
    error BenchmarkValueZero();
    error BenchmarkMoveWithin(uint128 observed, uint64 benchmarkAtSigning, uint16 moveBps);
    error ReviewDateNotReached(uint64 reviewAt, uint256 nowSeconds);
    error WrongSignatureCount(uint256 count, uint8 threshold);
    error InvalidSignature(uint256 index, uint8 error, bytes32 detail);
    error UnknownSigner(uint256 index, address signer);
    error SignersNotAscending(uint256 index, address signer);
    error UnknownReview(uint256 reviewId);
    error ReviewDecided(uint256 reviewId, ReviewStatus status);
    error NotAParty(uint256 licenceId, address account);

    // ------------------------------------------------------------------ actions

    /// @notice Attach the clause both parties signed (EIP-712 AttachReview; a party calling
    /// itself may pass an empty signature). Once per licence, while it is active.
    function attach(
        uint256 licenceId,
        Clause calldata clause,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external;

    /// @notice Fire a trigger (anyone may submit it) and open its review. Volume and benchmark
    /// need exactly `threshold` signatures of the licence's oracles over the evidence, distinct
    /// and ascending by address; the date trigger none (an empty array).
    function fire(Evidence calldata evidence, bytes[] calldata signatures) external returns (uint256 reviewId);

    /// @notice `party` declines an open review: its EIP-712 DeclineReview signature, or empty
    /// when the party calls itself.
    function decline(uint256 reviewId, address party, uint64 deadline, bytes calldata signature) external;

    /// @notice Decide an open review by the amendment both parties signed: relays it to
    /// LicenceRegistry.amend (which checks both AmendLicence signatures; this contract is never
    /// a party, so neither may be empty) and records the new schedule version.
    function accept(
        uint256 reviewId,
        ILicenceRegistry.Schedule calldata schedule,
        uint64 newEnd,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external;

    // ------------------------------------------------------------------ views

    function reviewOf(uint256 reviewId) external view returns (Review memory);
    /// @notice Reviews opened so far; ids count from 1.
    function reviewCount() external view returns (uint256);
    function clauseOf(uint256 licenceId) external view returns (Clause memory);
    function fired(uint256 licenceId, Trigger kind) external view returns (bool);
    function attachDigest(uint256 licenceId, Clause calldata clause, uint64 deadline) external view returns (bytes32);
    function evidenceDigest(Evidence calldata evidence) external view returns (bytes32);
    function declineDigest(uint256 reviewId, address party, uint64 deadline) external view returns (bytes32);
}
