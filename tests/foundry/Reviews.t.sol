// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {LicenceReviews} from "../../contracts/LicenceReviews.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {ILicenceReviews} from "../../contracts/interfaces/ILicenceReviews.sol";
import {ReviewMath} from "../../contracts/libraries/ReviewMath.sol";
import {Base} from "./Base.t.sol";

/// @notice Rate reviews. The default licence (5% of net sales, three years from 2023-11-15) signs
/// a clause naming all three triggers: cumulative net sales of 1,000,000.00 (review towards 6%),
/// the "LES-MEDTECH-RATE" benchmark at 4.00% at signing moving by more than 10%, and a review on
/// 2025-11-14 (START + 2 x 365 days). Benchmark values are points x 10^6: 4.00 is 4,000,000.
contract ReviewsTest is Base {
    LicenceReviews internal reviews;
    uint256 internal licenceId;

    bytes16 internal constant BENCHMARK = "LES-MEDTECH-RATE";
    uint64 internal constant AT_SIGNING = 4_000_000; // 4.00%
    uint16 internal constant MOVE_BPS = 1_000; // 10%
    uint128 internal constant VOLUME = 1_000_000 * USD;
    uint16 internal constant VOLUME_RATE = 600;
    uint64 internal constant REVIEW_AT = START + 2 * YEAR;

    ILicenceReviews.Trigger internal constant VOLUME_T = ILicenceReviews.Trigger.Volume;
    ILicenceReviews.Trigger internal constant BENCHMARK_T = ILicenceReviews.Trigger.Benchmark;
    ILicenceReviews.Trigger internal constant DATE_T = ILicenceReviews.Trigger.Date;

    function setUp() public override {
        super.setUp();
        reviews = new LicenceReviews(registry);
        licenceId = registerDefault();
    }

    // ------------------------------------------------------------------ helpers

    function _clause() private pure returns (ILicenceReviews.Clause memory c) {
        c = ILicenceReviews.Clause({
            benchmark: BENCHMARK,
            volumeThreshold: VOLUME,
            benchmarkAtSigning: AT_SIGNING,
            reviewAt: REVIEW_AT,
            volumeRateBps: VOLUME_RATE,
            moveBps: MOVE_BPS
        });
    }

    function _registerWith(ILicenceRegistry.Schedule memory s) private returns (uint256 id) {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule = s;
        t.salt = bytes32(registry.licenceCount() + 1);
        id = register(t);
    }

    function _attach(uint256 id, ILicenceReviews.Clause memory c) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = reviews.attachDigest(id, c, deadline);
        vm.prank(relayer);
        reviews.attach(id, c, deadline, sign(licensorKey, digest), sign(licenseeKey, digest));
    }

    function _evidence(uint256 id, ILicenceReviews.Trigger kind, uint128 observed)
        private
        view
        returns (ILicenceReviews.Evidence memory e)
    {
        e = ILicenceReviews.Evidence({
            licenceId: id,
            kind: kind,
            observed: observed,
            asOf: uint64(block.timestamp - 1 hours),
            deadline: uint64(block.timestamp + 1 days)
        });
    }

    function _sign(ILicenceReviews.Evidence memory e) private view returns (bytes[] memory) {
        return signByOracles(reviews.evidenceDigest(e), THRESHOLD);
    }

    function _fire(ILicenceReviews.Evidence memory e) private returns (uint256 reviewId) {
        bytes[] memory sigs = e.kind == DATE_T ? new bytes[](0) : _sign(e);
        vm.prank(stranger); // permissionless
        reviewId = reviews.fire(e, sigs);
    }

    function _expectFireRevert(ILicenceReviews.Evidence memory e, bytes memory expected) private {
        bytes[] memory sigs = e.kind == DATE_T ? new bytes[](0) : _sign(e);
        uint256 countBefore = reviews.reviewCount();
        bool firedBefore = reviews.fired(e.licenceId, e.kind);
        vm.expectRevert(expected);
        reviews.fire(e, sigs);
        assertEq(reviews.reviewCount(), countBefore, "no review opened");
        assertEq(reviews.fired(e.licenceId, e.kind), firedBefore, "trigger unchanged");
    }

    function _expectAttachRevert(ILicenceReviews.Clause memory c, bytes memory expected) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = reviews.attachDigest(licenceId, c, deadline);
        (bytes memory a, bytes memory b) = (sign(licensorKey, digest), sign(licenseeKey, digest));
        vm.expectRevert(expected);
        reviews.attach(licenceId, c, deadline, a, b);
    }

    /// @dev Attached at START + 12 hours; fired 100 days later (asOf an hour before).
    function _attachedAndLater() private {
        _attach(licenceId, _clause());
        vm.warp(block.timestamp + 100 days);
    }

    function _expected(ILicenceReviews.Evidence memory e, uint128 referenceValue, uint16 current, uint16 suggested)
        private
        view
        returns (ILicenceReviews.Review memory r)
    {
        r.licenceId = e.licenceId;
        r.kind = e.kind;
        r.status = ILicenceReviews.ReviewStatus.Open;
        r.observed = e.observed;
        r.referenceValue = referenceValue;
        r.asOf = e.asOf;
        r.openedAt = uint64(block.timestamp);
        r.currentRateBps = current;
        r.suggestedRateBps = suggested;
        r.scheduleFrom = registry.scheduleAt(e.licenceId, uint64(block.timestamp)).effectiveFrom;
    }

    function _assertReview(uint256 reviewId, ILicenceReviews.Review memory expected) private view {
        assertEq(keccak256(abi.encode(reviews.reviewOf(reviewId))), keccak256(abi.encode(expected)), "review");
    }

    function _newSchedule(uint16 rateBps, uint64 effectiveFrom)
        private
        pure
        returns (ILicenceRegistry.Schedule memory s)
    {
        s.rateBps = rateBps;
        s.effectiveFrom = effectiveFrom;
    }

    function _accept(uint256 reviewId, ILicenceRegistry.Schedule memory s) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory a, bytes memory b) = amendConsent(licenceId, s, END, deadline);
        vm.prank(relayer);
        reviews.accept(reviewId, s, END, deadline, a, b);
    }

    // ------------------------------------------------------------------ attach

    function test_attach_StoresTheClauseBothSigned() public {
        vm.expectEmit(true, true, true, true, address(reviews));
        emit ILicenceReviews.ReviewClauseAttached(licenceId, _clause());
        _attach(licenceId, _clause());
        assertEq(keccak256(abi.encode(reviews.clauseOf(licenceId))), keccak256(abi.encode(_clause())));
        assertFalse(reviews.fired(licenceId, VOLUME_T));
        assertFalse(reviews.fired(licenceId, BENCHMARK_T));
        assertFalse(reviews.fired(licenceId, DATE_T));
    }

    /// @dev Each trigger alone is a clause; a party calling itself needs no signature of its own.
    function test_attach_OneTriggerEach_PartyCallingItself() public {
        ILicenceReviews.Clause memory c;
        c.reviewAt = REVIEW_AT;
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = reviews.attachDigest(licenceId, c, deadline);
        vm.prank(licensor);
        reviews.attach(licenceId, c, deadline, "", sign(licenseeKey, digest));
        assertEq(reviews.clauseOf(licenceId).reviewAt, REVIEW_AT);

        uint256 other = registerDefault();
        c = _clause();
        c.reviewAt = 0;
        c.benchmark = bytes16(0);
        c.benchmarkAtSigning = 0;
        c.moveBps = 0;
        digest = reviews.attachDigest(other, c, deadline);
        vm.prank(licensee);
        reviews.attach(other, c, deadline, sign(licensorKey, digest), "");
        assertEq(reviews.clauseOf(other).volumeThreshold, VOLUME);
    }

    function test_attach_BadClausesRefused() public {
        ILicenceReviews.Clause memory none;
        _expectAttachRevert(none, abi.encodeWithSelector(ILicenceReviews.ReviewNoTrigger.selector));

        ILicenceReviews.Clause memory c = _clause();
        c.benchmarkAtSigning = 0; // named without its value
        _expectAttachRevert(
            c, abi.encodeWithSelector(ILicenceReviews.ReviewBenchmarkIncomplete.selector, BENCHMARK, 0, MOVE_BPS)
        );
        c = _clause();
        c.moveBps = 0; // named without its move
        _expectAttachRevert(
            c, abi.encodeWithSelector(ILicenceReviews.ReviewBenchmarkIncomplete.selector, BENCHMARK, AT_SIGNING, 0)
        );
        c = _clause();
        c.benchmark = bytes16(0); // figures without a name
        _expectAttachRevert(
            c,
            abi.encodeWithSelector(ILicenceReviews.ReviewBenchmarkIncomplete.selector, bytes16(0), AT_SIGNING, MOVE_BPS)
        );

        c = _clause();
        c.volumeRateBps = 10_001;
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceReviews.ReviewVolumeRateTooHigh.selector, 10_001));
        c.volumeRateBps = 0; // threshold without a rate
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceReviews.ReviewVolumeIncomplete.selector, VOLUME, 0));
        c = _clause();
        c.volumeThreshold = 0; // a rate without a threshold
        _expectAttachRevert(c, abi.encodeWithSelector(ILicenceReviews.ReviewVolumeIncomplete.selector, 0, VOLUME_RATE));

        c = _clause();
        c.reviewAt = uint64(block.timestamp); // now is not ahead
        _expectAttachRevert(
            c, abi.encodeWithSelector(ILicenceReviews.ReviewDateInPast.selector, block.timestamp, block.timestamp)
        );
        c.reviewAt = START;
        _expectAttachRevert(
            c, abi.encodeWithSelector(ILicenceReviews.ReviewDateInPast.selector, START, block.timestamp)
        );
        assertEq(reviews.clauseOf(licenceId).reviewAt, 0, "nothing attached");
    }

    function test_attach_ConsentRules() public {
        ILicenceReviews.Clause memory c = _clause();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = reviews.attachDigest(licenceId, c, deadline);
        bytes memory a = sign(licensorKey, digest);
        // The licensee's signature over another clause is no consent to this one.
        ILicenceReviews.Clause memory other = _clause();
        other.moveBps = 2_000;
        bytes memory wrong = sign(licenseeKey, reviews.attachDigest(licenceId, other, deadline));
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ConsentMissing.selector, licensee));
        reviews.attach(licenceId, c, deadline, a, wrong);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ConsentMissing.selector, licensor));
        reviews.attach(licenceId, c, deadline, sign(strangerKey, digest), sign(licenseeKey, digest));

        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ConsentExpired.selector, deadline, deadline + 1));
        reviews.attach(licenceId, c, deadline, a, sign(licenseeKey, digest));

        _attach(licenceId, c);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ReviewClauseExists.selector, licenceId));
        reviews.attach(licenceId, c, deadline, a, sign(licenseeKey, digest));
    }

    function test_attach_InactiveLicenceRefused() public {
        terminateByConsent(licenceId);
        _expectAttachRevert(_clause(), abi.encodeWithSelector(ILicenceReviews.LicenceNotActive.selector, licenceId));
    }

    // ------------------------------------------------------------------ benchmark

    /// @dev 4.00% at signing -> 4.60% observed: +15% > 10%; base rate 500 bps x 4.60 / 4.00 = 575 bps.
    function test_fire_BenchmarkUpSuggestsTheScaledRate() public {
        _attachedAndLater();
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        ILicenceReviews.Review memory expected = _expected(e, AT_SIGNING, 500, 575);
        expected.numerator = 4_600_000;
        expected.denominator = AT_SIGNING;
        vm.expectEmit(true, true, true, true, address(reviews));
        emit ILicenceReviews.ReviewOpened(1, licenceId, BENCHMARK_T, expected);
        assertEq(_fire(e), 1);
        _assertReview(1, expected);
        assertEq(reviews.reviewCount(), 1);
        assertTrue(reviews.fired(licenceId, BENCHMARK_T));
        assertFalse(reviews.fired(licenceId, VOLUME_T));
        // Nothing changes the licence's terms until both parties sign.
        assertEq(registry.scheduleCount(licenceId), 1);
        assertEq(registry.scheduleAt(licenceId, uint64(block.timestamp)).rateBps, 500);
    }

    /// @dev 4.00% -> 3.40%: -15%, beyond 10% the other way; 500 x 3.40 / 4.00 = 425 bps.
    function test_fire_BenchmarkDown() public {
        _attachedAndLater();
        _fire(_evidence(licenceId, BENCHMARK_T, 3_400_000));
        ILicenceReviews.Review memory r = reviews.reviewOf(1);
        assertEq(r.suggestedRateBps, 425);
        assertEq(r.currentRateBps, 500);
    }

    /// @dev 4.00% -> 4.50%: 500 x 4.50 / 4.00 = 562.5 -> 563 (halves up); 4.00% -> 4.4999%:
    /// 562.4875 -> 562.
    function test_fire_BenchmarkRoundsToTheNearestBps() public {
        _attachedAndLater();
        _fire(_evidence(licenceId, BENCHMARK_T, 4_500_000));
        assertEq(reviews.reviewOf(1).suggestedRateBps, 563);
        uint256 other = registerDefault();
        _attach(other, _clause());
        vm.warp(block.timestamp + 1 days);
        _fire(_evidence(other, BENCHMARK_T, 4_499_900));
        assertEq(reviews.reviewOf(2).suggestedRateBps, 562);
    }

    /// @dev A tiered schedule (0: 4%, 100,000.00: 6%) has no base rate: the first tier's 400 bps
    /// stands for it (400 x 4.60 / 4.00 = 460) and the factor 4,600,000 / 4,000,000 is recorded
    /// for the rest (6% -> 6.90%).
    function test_fire_BenchmarkOnATieredSchedule() public {
        ILicenceRegistry.Schedule memory s;
        s.tiers = new ILicenceRegistry.Tier[](2);
        s.tiers[0] = tier(0, 400);
        s.tiers[1] = tier(100_000 * USD, 600);
        uint256 tiered = _registerWith(s);
        _attach(tiered, _clause());
        vm.warp(block.timestamp + 100 days);
        _fire(_evidence(tiered, BENCHMARK_T, 4_600_000));
        ILicenceReviews.Review memory r = reviews.reviewOf(1);
        assertEq(r.currentRateBps, 400);
        assertEq(r.suggestedRateBps, 460);
        assertEq(r.numerator, 4_600_000);
        assertEq(r.denominator, 4_000_000);
        assertEq(ReviewMath.scaleRate(600, r.numerator, r.denominator), 690);
    }

    /// @dev 90% at signing x 6.00 / 4.00 = 135% is held at 100%.
    function test_fire_BenchmarkSuggestionHeldAtOneHundredPercent() public {
        uint256 high = _registerWith(_newSchedule(9_000, 0));
        _attach(high, _clause());
        vm.warp(block.timestamp + 1 days);
        _fire(_evidence(high, BENCHMARK_T, 6_000_000));
        assertEq(reviews.reviewOf(1).suggestedRateBps, 10_000);
    }

    /// @dev Exactly 10% either way (4.40, 3.60) is not "more than"; 4.400001 is.
    function test_fire_BenchmarkMoveWithinRefused() public {
        _attachedAndLater();
        _expectFireRevert(
            _evidence(licenceId, BENCHMARK_T, 4_400_000),
            abi.encodeWithSelector(ILicenceReviews.BenchmarkMoveWithin.selector, 4_400_000, AT_SIGNING, MOVE_BPS)
        );
        _expectFireRevert(
            _evidence(licenceId, BENCHMARK_T, 3_600_000),
            abi.encodeWithSelector(ILicenceReviews.BenchmarkMoveWithin.selector, 3_600_000, AT_SIGNING, MOVE_BPS)
        );
        _expectFireRevert(
            _evidence(licenceId, BENCHMARK_T, 0), abi.encodeWithSelector(ILicenceReviews.BenchmarkValueZero.selector)
        );
        _fire(_evidence(licenceId, BENCHMARK_T, 4_400_001));
        // 500 x 4.400001 / 4.00 = 550.000125 -> 550
        assertEq(reviews.reviewOf(1).suggestedRateBps, 550);
    }

    /// @dev The rate read is the version in force when the trigger fires: after an amendment to
    /// 5.50%, a +15% benchmark suggests 550 x 1.15 = 632.5 -> 633 bps, from version 1's date. A
    /// version agreed but not yet in force (6% from day 200) is not read.
    function test_fire_ReadsTheScheduleInForce() public {
        _attach(licenceId, _clause());
        uint64 from = uint64(block.timestamp + 10 days);
        amend(licenceId, _newSchedule(550, from), END);
        amend(licenceId, _newSchedule(600, START + 200 days), END);
        vm.warp(block.timestamp + 100 days);
        _fire(_evidence(licenceId, BENCHMARK_T, 4_600_000));
        ILicenceReviews.Review memory r = reviews.reviewOf(1);
        assertEq(r.currentRateBps, 550);
        assertEq(r.suggestedRateBps, 633);
        assertEq(r.scheduleFrom, from);
    }

    // ------------------------------------------------------------------ volume

    /// @dev Cumulative net sales of 1,000,000.00 reach the threshold: review 5% towards the agreed 6%.
    function test_fire_VolumeAtTheThreshold() public {
        _attachedAndLater();
        _expectFireRevert(
            _evidence(licenceId, VOLUME_T, VOLUME - 1),
            abi.encodeWithSelector(ILicenceReviews.VolumeBelowThreshold.selector, VOLUME - 1, VOLUME)
        );
        ILicenceReviews.Evidence memory e = _evidence(licenceId, VOLUME_T, VOLUME);
        ILicenceReviews.Review memory expected = _expected(e, VOLUME, 500, VOLUME_RATE);
        vm.expectEmit(true, true, true, true, address(reviews));
        emit ILicenceReviews.ReviewOpened(1, licenceId, VOLUME_T, expected);
        _fire(e);
        _assertReview(1, expected);
        assertTrue(reviews.fired(licenceId, VOLUME_T));
    }

    // ------------------------------------------------------------------ date

    /// @dev No signatures: the chain's clock says the date has come. The review suggests the
    /// rate in force (500 bps, factor 1 / 1): a meeting, not a data-driven change.
    function test_fire_DateOnlyOnceItHasCome() public {
        _attach(licenceId, _clause());
        vm.warp(REVIEW_AT - 1);
        _expectFireRevert(
            _evidence(licenceId, DATE_T, 0),
            abi.encodeWithSelector(ILicenceReviews.ReviewDateNotReached.selector, REVIEW_AT, REVIEW_AT - 1)
        );
        vm.warp(REVIEW_AT);
        ILicenceReviews.Evidence memory e = _evidence(licenceId, DATE_T, 0);
        // Signatures would suggest they mattered: refused.
        bytes[] memory sigs = _sign(e);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.WrongSignatureCount.selector, 2, 0));
        reviews.fire(e, sigs);

        _fire(e);
        ILicenceReviews.Review memory r = reviews.reviewOf(1);
        assertEq(uint8(r.kind), uint8(DATE_T));
        assertEq(r.observed, REVIEW_AT);
        assertEq(r.referenceValue, REVIEW_AT);
        assertEq(r.currentRateBps, 500);
        assertEq(r.suggestedRateBps, 500);
        assertEq(r.numerator, 1);
        assertEq(r.denominator, 1);
    }

    // ------------------------------------------------------------------ refusals

    function test_fire_ReplayRefused() public {
        _attachedAndLater();
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        bytes[] memory sigs = _sign(e);
        reviews.fire(e, sigs);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.TriggerAlreadyFired.selector, licenceId, BENCHMARK_T));
        reviews.fire(e, sigs);
        // Fresh evidence of the same trigger fires it no more.
        _expectFireRevert(
            _evidence(licenceId, BENCHMARK_T, 5_000_000),
            abi.encodeWithSelector(ILicenceReviews.TriggerAlreadyFired.selector, licenceId, BENCHMARK_T)
        );
        assertEq(reviews.reviewCount(), 1);
    }

    function test_fire_WithoutClauseTriggerOrActiveLicenceRefused() public {
        uint256 bare = registerDefault();
        _expectFireRevert(
            _evidence(bare, BENCHMARK_T, 4_600_000),
            abi.encodeWithSelector(ILicenceReviews.NoReviewClause.selector, bare)
        );
        ILicenceReviews.Clause memory c;
        c.reviewAt = REVIEW_AT;
        _attach(bare, c);
        vm.warp(block.timestamp + 1 days);
        _expectFireRevert(
            _evidence(bare, BENCHMARK_T, 4_600_000),
            abi.encodeWithSelector(ILicenceReviews.TriggerNotInClause.selector, bare, BENCHMARK_T)
        );
        _expectFireRevert(
            _evidence(bare, VOLUME_T, VOLUME),
            abi.encodeWithSelector(ILicenceReviews.TriggerNotInClause.selector, bare, VOLUME_T)
        );
        _attach(licenceId, _clause());
        terminateByConsent(licenceId);
        _expectFireRevert(
            _evidence(licenceId, BENCHMARK_T, 4_600_000),
            abi.encodeWithSelector(ILicenceReviews.LicenceNotActive.selector, licenceId)
        );
    }

    function test_fire_StaleFutureAndEarlyEvidenceRefused() public {
        _attach(licenceId, _clause());
        uint64 attachedAt = uint64(block.timestamp);
        vm.warp(block.timestamp + 100 days);
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        bytes[] memory sigs = _sign(e);
        vm.warp(e.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.EvidenceExpired.selector, e.deadline, e.deadline + 1));
        reviews.fire(e, sigs);

        e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        e.asOf = uint64(block.timestamp + 1);
        _expectFireRevert(
            e, abi.encodeWithSelector(ILicenceReviews.EvidenceFromFuture.selector, e.asOf, block.timestamp)
        );
        e.asOf = attachedAt - 1; // observed before the parties signed the clause
        _expectFireRevert(
            e, abi.encodeWithSelector(ILicenceReviews.EvidenceBeforeClause.selector, attachedAt - 1, attachedAt)
        );
    }

    function test_fire_WrongSignerRefused() public {
        _attachedAndLater();
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        bytes[] memory sigs = _sign(e);
        sigs[1] = sign(strangerKey, reviews.evidenceDigest(e));
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.UnknownSigner.selector, 1, stranger));
        reviews.fire(e, sigs);
        assertFalse(reviews.fired(licenceId, BENCHMARK_T));
    }

    /// @dev Evidence signed for one licence fires nothing in another (the same oracles serve
    /// both): the licence is in the digest, so the signatures recover to strangers.
    function test_fire_OtherLicencesEvidenceRefused() public {
        uint256 other = registerDefault();
        _attach(licenceId, _clause());
        _attach(other, _clause());
        vm.warp(block.timestamp + 100 days);
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        bytes[] memory sigs = _sign(e);
        e.licenceId = other;
        address recovered = recoverSigner(reviews.evidenceDigest(e), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.UnknownSigner.selector, 0, recovered));
        reviews.fire(e, sigs);
        assertFalse(reviews.fired(other, BENCHMARK_T));
        // The kind is signed too: a benchmark's signatures do not fire the volume trigger.
        e.licenceId = licenceId;
        e.kind = VOLUME_T;
        e.observed = VOLUME;
        recovered = recoverSigner(reviews.evidenceDigest(e), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.UnknownSigner.selector, 0, recovered));
        reviews.fire(e, sigs);
    }

    function test_fire_SignatureCountAndOrder() public {
        _attachedAndLater();
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        bytes[] memory sigs = _sign(e);
        bytes[] memory one = new bytes[](1);
        one[0] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.WrongSignatureCount.selector, 1, THRESHOLD));
        reviews.fire(e, one);
        bytes[] memory three = signByOracles(reviews.evidenceDigest(e), 3);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.WrongSignatureCount.selector, 3, THRESHOLD));
        reviews.fire(e, three);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceReviews.SignersNotAscending.selector, 1, vm.addr(sortedOracleKeys[0]))
        );
        reviews.fire(e, sigs);
        sigs[1] = sigs[0]; // the same oracle twice
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceReviews.SignersNotAscending.selector, 1, vm.addr(sortedOracleKeys[1]))
        );
        reviews.fire(e, sigs);
        sigs[0] = new bytes(64); // ECDSA.RecoverError.InvalidSignatureLength (2), its length as detail
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.InvalidSignature.selector, 0, 2, bytes32(uint256(64))));
        reviews.fire(e, sigs);
        assertEq(reviews.reviewCount(), 0);
    }

    // ------------------------------------------------------------------ decline

    function test_decline_ByTheLicensorsSignature() public {
        _attachedAndLater();
        uint256 id = _fire(_evidence(licenceId, BENCHMARK_T, 4_600_000));
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes memory sig = sign(licensorKey, reviews.declineDigest(id, licensor, deadline));
        vm.expectEmit(true, true, true, true, address(reviews));
        emit ILicenceReviews.ReviewDeclined(id, licenceId, licensor);
        vm.prank(relayer);
        reviews.decline(id, licensor, deadline, sig);
        ILicenceReviews.Review memory r = reviews.reviewOf(id);
        assertEq(uint8(r.status), uint8(ILicenceReviews.ReviewStatus.Declined));
        assertEq(r.decidedBy, licensor);
        assertEq(r.decidedAt, block.timestamp);
        assertEq(registry.scheduleCount(licenceId), 1, "terms unchanged");

        // Decided once: neither a second decline nor an acceptance.
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceReviews.ReviewDecided.selector, id, ILicenceReviews.ReviewStatus.Declined)
        );
        reviews.decline(id, licensor, deadline, sig);
        ILicenceRegistry.Schedule memory s = _newSchedule(575, uint64(block.timestamp + 30 days));
        (bytes memory a, bytes memory b) = amendConsent(licenceId, s, END, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceReviews.ReviewDecided.selector, id, ILicenceReviews.ReviewStatus.Declined)
        );
        reviews.accept(id, s, END, deadline, a, b);
    }

    function test_decline_ByTheLicenseeCallingItself() public {
        _attachedAndLater();
        uint256 id = _fire(_evidence(licenceId, VOLUME_T, VOLUME));
        vm.prank(licensee);
        reviews.decline(id, licensee, uint64(block.timestamp), "");
        assertEq(uint8(reviews.reviewOf(id).status), uint8(ILicenceReviews.ReviewStatus.Declined));
        assertEq(reviews.reviewOf(id).decidedBy, licensee);
    }

    function test_decline_Refusals() public {
        _attachedAndLater();
        uint256 id = _fire(_evidence(licenceId, BENCHMARK_T, 4_600_000));
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.UnknownReview.selector, 2));
        reviews.decline(2, licensor, deadline, "");
        // A stranger is no party, even calling itself.
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.NotAParty.selector, licenceId, stranger));
        reviews.decline(id, stranger, deadline, "");
        // The licensee's signature is no licensor's decline; nor the licensor's for another review.
        bytes memory wrong = sign(licenseeKey, reviews.declineDigest(id, licensor, deadline));
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ConsentMissing.selector, licensor));
        reviews.decline(id, licensor, deadline, wrong);
        wrong = sign(licensorKey, reviews.declineDigest(id + 1, licensor, deadline));
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ConsentMissing.selector, licensor));
        reviews.decline(id, licensor, deadline, wrong);
        bytes memory sig = sign(licensorKey, reviews.declineDigest(id, licensor, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.ConsentExpired.selector, deadline, deadline + 1));
        reviews.decline(id, licensor, deadline, sig);
        assertEq(uint8(reviews.reviewOf(id).status), uint8(ILicenceReviews.ReviewStatus.Open));
    }

    // ------------------------------------------------------------------ accept

    /// @dev The benchmark suggests 575 bps; both parties sign the amendment to 5.75% from 30 days
    /// on; `accept` relays it and the registry has version 1 in force from then.
    function test_accept_ThroughTheRegistrysAmendment() public {
        _attachedAndLater();
        uint256 id = _fire(_evidence(licenceId, BENCHMARK_T, 4_600_000));
        uint64 from = uint64(block.timestamp + 30 days);
        ILicenceRegistry.Schedule memory s = _newSchedule(reviews.reviewOf(id).suggestedRateBps, from);
        vm.expectEmit(true, true, true, true, address(reviews));
        emit ILicenceReviews.ReviewAccepted(id, licenceId, 1, END);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.LicenceAmended(licenceId, 1, s, END, END);
        _accept(id, s);

        ILicenceReviews.Review memory r = reviews.reviewOf(id);
        assertEq(uint8(r.status), uint8(ILicenceReviews.ReviewStatus.Accepted));
        assertEq(r.acceptedVersion, 1);
        assertEq(r.decidedAt, block.timestamp);
        assertEq(r.decidedBy, address(0));
        assertEq(registry.scheduleCount(licenceId), 2);
        assertEq(registry.scheduleAt(licenceId, from - 1).rateBps, 500);
        assertEq(registry.scheduleAt(licenceId, from).rateBps, 575);

        vm.expectRevert(
            abi.encodeWithSelector(ILicenceReviews.ReviewDecided.selector, id, ILicenceReviews.ReviewStatus.Accepted)
        );
        vm.prank(licensor);
        reviews.decline(id, licensor, uint64(block.timestamp), "");
    }

    /// @dev A bad signature is the registry's ConsentMissing; the review stays open, the terms unchanged.
    function test_accept_BadSignatureRevertsAndTheReviewStaysOpen() public {
        _attachedAndLater();
        uint256 id = _fire(_evidence(licenceId, BENCHMARK_T, 4_600_000));
        ILicenceRegistry.Schedule memory s = _newSchedule(575, uint64(block.timestamp + 30 days));
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory a,) = amendConsent(licenceId, s, END, deadline);
        bytes memory forged = sign(strangerKey, registry.amendDigest(licenceId, s, END, deadline));
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensee));
        reviews.accept(id, s, END, deadline, a, forged);
        // A party calling accept itself is not the registry's caller: its signature is needed.
        vm.prank(licensee);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensee));
        reviews.accept(id, s, END, deadline, a, "");
        assertEq(uint8(reviews.reviewOf(id).status), uint8(ILicenceReviews.ReviewStatus.Open));
        assertEq(reviews.reviewOf(id).acceptedVersion, 0);
        assertEq(registry.scheduleCount(licenceId), 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceReviews.UnknownReview.selector, 9));
        reviews.accept(9, s, END, deadline, a, forged);
    }

    /// @dev An open review blocks no amendment made directly; accepting it later adds the next version.
    function test_openReviewDoesNotBlockDirectAmendments() public {
        _attachedAndLater();
        uint256 id = _fire(_evidence(licenceId, VOLUME_T, VOLUME));
        amend(licenceId, _newSchedule(550, uint64(block.timestamp + 10 days)), END);
        assertEq(registry.scheduleCount(licenceId), 2);
        assertEq(uint8(reviews.reviewOf(id).status), uint8(ILicenceReviews.ReviewStatus.Open));
        _accept(id, _newSchedule(VOLUME_RATE, uint64(block.timestamp + 20 days)));
        assertEq(reviews.reviewOf(id).acceptedVersion, 2);
        assertEq(registry.scheduleAt(licenceId, uint64(block.timestamp + 20 days)).rateBps, VOLUME_RATE);
    }

    /// @dev All three triggers fire, each once, each its own review.
    function test_everyTriggerOpensItsOwnReview() public {
        _attachedAndLater();
        _fire(_evidence(licenceId, VOLUME_T, VOLUME + 1));
        _fire(_evidence(licenceId, BENCHMARK_T, 3_000_000)); // -25%: 500 x 3 / 4 = 375
        vm.warp(REVIEW_AT + 5 days);
        _fire(_evidence(licenceId, DATE_T, 0));
        assertEq(reviews.reviewCount(), 3);
        assertEq(reviews.reviewOf(1).suggestedRateBps, VOLUME_RATE);
        assertEq(reviews.reviewOf(2).suggestedRateBps, 375);
        assertEq(reviews.reviewOf(3).observed, REVIEW_AT + 5 days);
    }

    // ------------------------------------------------------------------ digests

    function test_digests_AreTheTypedData() public view {
        ILicenceReviews.Clause memory c = _clause();
        bytes32 attachHash = keccak256(
            abi.encode(
                keccak256(
                    "AttachReview(uint256 licenceId,bytes16 benchmark,uint128 volumeThreshold,uint64 benchmarkAtSigning,uint64 reviewAt,uint16 volumeRateBps,uint16 moveBps,uint64 deadline)"
                ),
                licenceId,
                c.benchmark,
                c.volumeThreshold,
                c.benchmarkAtSigning,
                c.reviewAt,
                c.volumeRateBps,
                c.moveBps,
                uint64(7)
            )
        );
        assertEq(reviews.attachDigest(licenceId, c, 7), _typed(attachHash));
        ILicenceReviews.Evidence memory e = _evidence(licenceId, BENCHMARK_T, 4_600_000);
        bytes32 evidenceHash = keccak256(
            abi.encode(
                keccak256("ReviewEvidence(uint256 licenceId,uint8 kind,uint128 observed,uint64 asOf,uint64 deadline)"),
                e.licenceId,
                uint8(1),
                e.observed,
                e.asOf,
                e.deadline
            )
        );
        assertEq(reviews.evidenceDigest(e), _typed(evidenceHash));
        bytes32 declineHash = keccak256(
            abi.encode(keccak256("DeclineReview(uint256 reviewId,address party,uint64 deadline)"), 3, licensee, 9)
        );
        assertEq(reviews.declineDigest(3, licensee, 9), _typed(declineHash));
    }

    function _typed(bytes32 structHash) private view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("LicenceReviews"),
                keccak256("1"),
                block.chainid,
                address(reviews)
            )
        );
        assertEq(reviews.domainSeparator(), domain);
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    // ------------------------------------------------------------------ arithmetic against a model

    /// @dev An independent model of the suggestion: the quotient and remainder of the product,
    /// rounded up when the remainder is at least half the divisor, then held at 10,000.
    function _modelRate(uint256 rate, uint256 num, uint256 den) private pure returns (uint256) {
        uint256 product = rate * num;
        uint256 q = product / den;
        if ((product % den) * 2 >= den) ++q;
        return q > 10_000 ? 10_000 : q;
    }

    /// @dev An independent model of a move: the value against the band
    /// [atSigning x (1 - move), atSigning x (1 + move)], scaled by 10,000.
    function _modelMoved(uint256 observed, uint256 atSigning, uint256 moveBps) private pure returns (bool) {
        uint256 scaled = observed * 10_000;
        if (scaled > atSigning * (10_000 + moveBps)) return true;
        return moveBps < 10_000 && scaled < atSigning * (10_000 - moveBps);
    }

    function testFuzz_scaleRate_MatchesModel(uint16 rate, uint128 num, uint64 den) public pure {
        rate = uint16(bound(rate, 0, 10_000));
        den = uint64(bound(den, 1, type(uint64).max));
        assertEq(ReviewMath.scaleRate(rate, num, den), _modelRate(rate, num, den));
    }

    function testFuzz_movedBeyond_MatchesModel(uint128 observed, uint64 atSigning, uint16 moveBps) public pure {
        atSigning = uint64(bound(atSigning, 1, type(uint64).max));
        assertEq(ReviewMath.movedBeyond(observed, atSigning, moveBps), _modelMoved(observed, atSigning, moveBps));
    }

    /// @dev End to end: any benchmark value against any base rate opens a review with the
    /// model's suggestion, or is refused as within the move, and nothing else.
    function testFuzz_fire_BenchmarkSuggestionMatchesModel(uint16 rate, uint64 observed, uint16 moveBps) public {
        rate = uint16(bound(rate, 0, 10_000));
        observed = uint64(bound(observed, 1, 100 * AT_SIGNING));
        moveBps = uint16(bound(moveBps, 1, type(uint16).max));
        uint256 id = _registerWith(_newSchedule(rate, 0));
        ILicenceReviews.Clause memory c = _clause();
        c.moveBps = moveBps;
        _attach(id, c);
        vm.warp(block.timestamp + 2 hours);
        ILicenceReviews.Evidence memory e = _evidence(id, BENCHMARK_T, observed);
        if (!_modelMoved(observed, AT_SIGNING, moveBps)) {
            _expectFireRevert(
                e, abi.encodeWithSelector(ILicenceReviews.BenchmarkMoveWithin.selector, observed, AT_SIGNING, moveBps)
            );
            return;
        }
        uint256 reviewId = _fire(e);
        ILicenceReviews.Review memory r = reviews.reviewOf(reviewId);
        assertEq(r.currentRateBps, rate);
        assertEq(r.suggestedRateBps, _modelRate(rate, observed, AT_SIGNING));
    }
}
