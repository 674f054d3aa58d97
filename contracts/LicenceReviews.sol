// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {ILicenceReviews} from "./interfaces/ILicenceReviews.sol";
import {OracleQuorum} from "./libraries/OracleQuorum.sol";
import {ReviewMath} from "./libraries/ReviewMath.sol";

/// @title LicenceReviews: rate reviews a licence's triggers open and both parties decide
/// @notice Holds each licence's review clause (both parties sign it once), fires its triggers on
/// evidence the licence's oracles sign, like reports, and records each review: the data that
/// fired it, the rate in force, a suggested rate, and the decision. A review changes nothing by
/// itself: it is accepted only by an amendment both parties sign, which `accept` relays to the
/// registry, and either party may decline it.
/// @dev A contract of its own beside the registry, holding no role in it: acceptance is the
/// registry's amendment path, open to any relayer, so reviews need nothing of the registry but
/// its views and `amend`.
contract LicenceReviews is ILicenceReviews, EIP712 {
    bytes32 public constant ATTACH_REVIEW_TYPEHASH = keccak256(
        "AttachReview(uint256 licenceId,bytes16 benchmark,uint128 volumeThreshold,uint64 benchmarkAtSigning,"
        "uint64 reviewAt,uint16 volumeRateBps,uint16 moveBps,uint64 deadline)"
    );
    bytes32 public constant EVIDENCE_TYPEHASH =
        keccak256("ReviewEvidence(uint256 licenceId,uint8 kind,uint128 observed,uint64 asOf,uint64 deadline)");
    bytes32 public constant DECLINE_TYPEHASH =
        keccak256("DeclineReview(uint256 reviewId,address party,uint64 deadline)");

    ILicenceRegistry public immutable registry;

    struct StoredClause {
        Clause clause;
        uint64 attachedAt; // 0: no clause (a clause may leave any one of its fields 0)
        uint8 fired; // bit k: Trigger(k) has fired
    }

    mapping(uint256 licenceId => StoredClause) private _clauses;
    mapping(uint256 reviewId => Review) private _reviews;
    uint256 private _reviewCount;

    constructor(ILicenceRegistry registry_) EIP712("LicenceReviews", "1") {
        registry = registry_;
    }

    // ------------------------------------------------------------------ actions

    /// @inheritdoc ILicenceReviews
    function attach(
        uint256 licenceId,
        Clause calldata clause,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external {
        _requireActive(licenceId);
        if (_clauses[licenceId].attachedAt != 0) revert ReviewClauseExists(licenceId);
        _validate(clause);
        if (block.timestamp > deadline) revert ConsentExpired(deadline, block.timestamp);
        (address licensor, address licensee) = registry.parties(licenceId);
        bytes32 digest = attachDigest(licenceId, clause, deadline);
        if (!OracleQuorum.consents(licensor, digest, licensorSig)) revert ConsentMissing(licensor);
        if (!OracleQuorum.consents(licensee, digest, licenseeSig)) revert ConsentMissing(licensee);
        _clauses[licenceId] = StoredClause({clause: clause, attachedAt: uint64(block.timestamp), fired: 0});
        emit ReviewClauseAttached(licenceId, clause);
    }

    /// @inheritdoc ILicenceReviews
    function fire(Evidence calldata evidence, bytes[] calldata signatures) external returns (uint256 reviewId) {
        uint256 licenceId = evidence.licenceId;
        StoredClause storage stored = _clauses[licenceId];
        uint64 attachedAt = stored.attachedAt;
        if (attachedAt == 0) revert NoReviewClause(licenceId);
        _requireActive(licenceId);
        Trigger kind = evidence.kind;
        Clause memory clause = stored.clause;
        if (!_names(clause, kind)) revert TriggerNotInClause(licenceId, kind);
        uint8 bit = uint8(1) << uint8(kind);
        if (stored.fired & bit != 0) revert TriggerAlreadyFired(licenceId, kind);
        if (block.timestamp > evidence.deadline) revert EvidenceExpired(evidence.deadline, block.timestamp);

        (Review memory review, uint16 agreedRate) = _observation(evidence, clause, attachedAt);
        if (kind == Trigger.Date) {
            // The date needs no witness: the chain's clock is the one every party already trusts,
            // and oracles signing "the date has come" would add a way to fail, not a fact.
            if (signatures.length != 0) revert WrongSignatureCount(signatures.length, 0);
        } else {
            OracleQuorum.check(
                registry,
                licenceId,
                evidenceDigest(evidence),
                signatures,
                registry.settlementContext(licenceId).threshold
            );
        }
        _suggest(review, kind, registry.scheduleAt(licenceId, uint64(block.timestamp)), agreedRate);

        stored.fired |= bit;
        reviewId = ++_reviewCount;
        _reviews[reviewId] = review;
        emit ReviewOpened(reviewId, licenceId, kind, review);
    }

    /// @inheritdoc ILicenceReviews
    function decline(uint256 reviewId, address party, uint64 deadline, bytes calldata signature) external {
        Review storage review = _openReview(reviewId);
        uint256 licenceId = review.licenceId;
        (address licensor, address licensee) = registry.parties(licenceId);
        if (party != licensor && party != licensee) revert NotAParty(licenceId, party);
        if (block.timestamp > deadline) revert ConsentExpired(deadline, block.timestamp);
        // The review's status makes the signature usable once: a declined review stays declined.
        if (!OracleQuorum.consents(party, declineDigest(reviewId, party, deadline), signature)) {
            revert ConsentMissing(party);
        }
        review.status = ReviewStatus.Declined;
        review.decidedBy = party;
        review.decidedAt = uint64(block.timestamp);
        emit ReviewDeclined(reviewId, licenceId, party);
    }

    /// @inheritdoc ILicenceReviews
    function accept(
        uint256 reviewId,
        ILicenceRegistry.Schedule calldata schedule,
        uint64 newEnd,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external {
        Review storage review = _openReview(reviewId);
        uint256 licenceId = review.licenceId;
        // The amendment adds version `scheduleCount` (its digest is bound to that number).
        uint32 version = registry.scheduleCount(licenceId);
        // Recorded before the call: if the amendment fails, the whole call reverts and the review
        // stays open; nothing here can be re-entered into a decided review.
        review.status = ReviewStatus.Accepted;
        review.acceptedVersion = version;
        review.decidedAt = uint64(block.timestamp);
        emit ReviewAccepted(reviewId, licenceId, version, newEnd);
        // The registry is a fixed, trusted contract: it checks both parties' AmendLicence
        // signatures, the deadline, the consent's single use and the schedule like any amendment.
        registry.amend(licenceId, schedule, newEnd, deadline, licensorSig, licenseeSig);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ILicenceReviews
    function reviewOf(uint256 reviewId) external view returns (Review memory) {
        return _reviews[reviewId];
    }

    /// @inheritdoc ILicenceReviews
    function reviewCount() external view returns (uint256) {
        return _reviewCount;
    }

    /// @inheritdoc ILicenceReviews
    function clauseOf(uint256 licenceId) external view returns (Clause memory) {
        return _clauses[licenceId].clause;
    }

    /// @inheritdoc ILicenceReviews
    function fired(uint256 licenceId, Trigger kind) external view returns (bool) {
        return _clauses[licenceId].fired & (uint8(1) << uint8(kind)) != 0;
    }

    /// @inheritdoc ILicenceReviews
    function attachDigest(uint256 licenceId, Clause calldata clause, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTACH_REVIEW_TYPEHASH,
                    licenceId,
                    clause.benchmark,
                    clause.volumeThreshold,
                    clause.benchmarkAtSigning,
                    clause.reviewAt,
                    clause.volumeRateBps,
                    clause.moveBps,
                    deadline
                )
            )
        );
    }

    /// @inheritdoc ILicenceReviews
    function evidenceDigest(Evidence calldata evidence) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    EVIDENCE_TYPEHASH,
                    evidence.licenceId,
                    uint8(evidence.kind),
                    evidence.observed,
                    evidence.asOf,
                    evidence.deadline
                )
            )
        );
    }

    /// @inheritdoc ILicenceReviews
    function declineDigest(uint256 reviewId, address party, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(DECLINE_TYPEHASH, reviewId, party, deadline)));
    }

    /// @notice The EIP-712 domain separator, for clients building typed data.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal

    function _requireActive(uint256 licenceId) private view {
        if (registry.status(licenceId) != ILicenceRegistry.Status.Active) revert LicenceNotActive(licenceId);
    }

    function _openReview(uint256 reviewId) private view returns (Review storage review) {
        review = _reviews[reviewId];
        ReviewStatus current = review.status;
        if (current == ReviewStatus.None) revert UnknownReview(reviewId);
        if (current != ReviewStatus.Open) revert ReviewDecided(reviewId, current);
    }

    function _validate(Clause calldata clause) private view {
        bool volume = clause.volumeThreshold != 0;
        bool benchmark = clause.benchmark != bytes16(0);
        if (!volume && !benchmark && clause.reviewAt == 0) {
            // Fields of a trigger without its name are refused below, by name; none at all here.
            if (clause.volumeRateBps == 0 && clause.benchmarkAtSigning == 0 && clause.moveBps == 0) {
                revert ReviewNoTrigger();
            }
        }
        // A trigger's figures come with its name, and its name with its figures.
        if (benchmark != (clause.benchmarkAtSigning != 0) || benchmark != (clause.moveBps != 0)) {
            revert ReviewBenchmarkIncomplete(clause.benchmark, clause.benchmarkAtSigning, clause.moveBps);
        }
        if (clause.volumeRateBps > ReviewMath.BPS) revert ReviewVolumeRateTooHigh(clause.volumeRateBps);
        if (volume != (clause.volumeRateBps != 0)) {
            revert ReviewVolumeIncomplete(clause.volumeThreshold, clause.volumeRateBps);
        }
        if (clause.reviewAt != 0 && clause.reviewAt <= block.timestamp) {
            revert ReviewDateInPast(clause.reviewAt, block.timestamp);
        }
    }

    function _names(Clause memory clause, Trigger kind) private pure returns (bool) {
        if (kind == Trigger.Volume) return clause.volumeThreshold != 0;
        if (kind == Trigger.Benchmark) return clause.benchmark != bytes16(0);
        return clause.reviewAt != 0;
    }

    /// @dev The review the evidence opens, before its rates: the observation checked against the
    /// trigger, and the rate the clause agreed to (volume only).
    function _observation(Evidence calldata evidence, Clause memory clause, uint64 attachedAt)
        private
        view
        returns (Review memory review, uint16 agreedRate)
    {
        review.licenceId = evidence.licenceId;
        review.kind = evidence.kind;
        review.status = ReviewStatus.Open;
        review.openedAt = uint64(block.timestamp);
        if (evidence.kind == Trigger.Date) {
            if (block.timestamp < clause.reviewAt) revert ReviewDateNotReached(clause.reviewAt, block.timestamp);
            review.observed = uint128(block.timestamp);
            review.referenceValue = clause.reviewAt;
            review.asOf = uint64(block.timestamp);
            return (review, 0);
        }
        // An observation says how things stand since the clause was signed, and not yet tomorrow.
        if (evidence.asOf > block.timestamp) revert EvidenceFromFuture(evidence.asOf, block.timestamp);
        if (evidence.asOf < attachedAt) revert EvidenceBeforeClause(evidence.asOf, attachedAt);
        uint128 observed = evidence.observed;
        review.observed = observed;
        review.asOf = evidence.asOf;
        if (evidence.kind == Trigger.Volume) {
            if (observed < clause.volumeThreshold) revert VolumeBelowThreshold(observed, clause.volumeThreshold);
            review.referenceValue = clause.volumeThreshold;
            return (review, clause.volumeRateBps);
        }
        // A benchmark at 0 is a wrong value (a series mixed up), not a market.
        if (observed == 0) revert BenchmarkValueZero();
        if (!ReviewMath.movedBeyond(observed, clause.benchmarkAtSigning, clause.moveBps)) {
            revert BenchmarkMoveWithin(observed, clause.benchmarkAtSigning, clause.moveBps);
        }
        review.referenceValue = clause.benchmarkAtSigning;
        review.numerator = observed;
        review.denominator = clause.benchmarkAtSigning;
    }

    /// @dev The rate in force and the suggestion. A tiered schedule has no base rate: its first
    /// tier's rate stands for it, and the factor (numerator / denominator) carries the rest.
    /// `kind` is the evidence's (calldata), the trigger the review records.
    function _suggest(Review memory review, Trigger kind, ILicenceRegistry.Schedule memory schedule, uint16 agreedRate)
        private
        pure
    {
        uint16 current = schedule.tiers.length > 0 ? schedule.tiers[0].rateBps : schedule.rateBps;
        review.currentRateBps = current;
        review.scheduleFrom = schedule.effectiveFrom;
        if (kind == Trigger.Volume) {
            review.suggestedRateBps = agreedRate;
        } else if (kind == Trigger.Benchmark) {
            review.suggestedRateBps = ReviewMath.scaleRate(current, review.numerator, review.denominator);
        } else {
            review.suggestedRateBps = current;
            review.numerator = 1;
            review.denominator = 1;
        }
    }
}
