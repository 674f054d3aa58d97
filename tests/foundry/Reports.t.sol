// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {LicenceRegistry} from "../../contracts/LicenceRegistry.sol";
import {RoyaltyLedger} from "../../contracts/RoyaltyLedger.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Signed sales reports: signature checks, report checks, scope, batches.
contract ReportsTest is Base {
    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        licenceId = registerDefault();
        deposit(licenceId, 1_000_000 * USD);
        warpPastPeriod(0);
    }

    function _settleWith(IRoyaltyLedger.Report memory r, bytes[] memory sigs) private returns (uint256) {
        vm.prank(relayer);
        return ledger.settleReports(asBatch(r), asBatch(sigs))[0];
    }

    function _expectRevertWith(IRoyaltyLedger.Report memory r, bytes[] memory sigs, bytes memory expected) private {
        IRoyaltyLedger.Report[] memory reports = asBatch(r);
        bytes[][] memory sets = asBatch(sigs);
        vm.expectRevert(expected);
        vm.prank(relayer);
        ledger.settleReports(reports, sets);
    }

    function _keys(uint256 a, uint256 b) private pure returns (uint256[] memory keys) {
        keys = new uint256[](2);
        keys[0] = a;
        keys[1] = b;
    }

    // ------------------------------------------------------------------ happy path

    function test_settleReports_RecordsSettlementAndEvents() public {
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(4, 1, 2, 30, 100_000 * USD, 0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, buckets);
        bytes[] memory sigs = signReport(r, 2);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(1, licenceId, IRoyaltyLedger.Kind.Report, 0, 5_000 * USD, 0, 5_000 * USD, 5_000 * USD, false, periodEnd(0) + DUE_DAYS * 1 days);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(1, licenceId, 5_000 * USD, 500 * USD, 4_500 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ReportAccepted(1, licenceId, 1, r.linesRoot, r.lineCount, 0, signedOne(100_000 * USD), signedOne(5_000 * USD), 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.BucketReported(1, 0, 4, 1, 2, 30, 100_000 * USD, 0, true);
        uint256 id = _settleWith(r, sigs);

        assertEq(id, 1);
        assertEq(ledger.settlementCount(), 1);
        assertEq(ledger.settledPeriod(licenceId, 0), 1);
        assertEq(ledger.lastSequence(licenceId), 1);
        IRoyaltyLedger.Settlement memory s = ledger.settlement(id);
        assertEq(s.licenceId, licenceId);
        assertEq(s.period, 0);
        assertEq(uint8(s.kind), uint8(IRoyaltyLedger.Kind.Report));
        // Final at once and paid in full: its record is one slot, without the time it settled
        // (its Settled event's block has it) or a window.
        assertEq(s.settledAt, 0);
        assertEq(s.disputeUntil, 0);
        assertEq(s.dueAt, periodEnd(0) + DUE_DAYS * 1 days);
        assertEq(s.due, 5_000 * USD);
        assertEq(s.paid, 5_000 * USD);
    }

    function test_settleReports_AnyTwoOfThreeOracles() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        _settleWith(r, signReportWith(r, _keys(sortedOracleKeys[1], sortedOracleKeys[2])));
        warpPastPeriod(1);
        r = makeReport(licenceId, 1, salesOf(100_000 * USD));
        _settleWith(r, signReportWith(r, _keys(sortedOracleKeys[0], sortedOracleKeys[2])));
        assertEq(ledger.settledPeriod(licenceId, 1), 2);
    }

    function test_settleReports_ThresholdOfOne() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.threshold = 1;
        t.salt = "k=1";
        uint256 single = register(t);
        IRoyaltyLedger.Report memory r = makeReport(single, 0, salesOf(100_000 * USD));
        uint256[] memory keys = new uint256[](1);
        keys[0] = oracle3Key;
        uint256 id = _settleWith(r, signReportWith(r, keys));
        assertEq(ledger.settlement(id).royalty, 5_000 * USD);
    }

    // ------------------------------------------------------------------ signatures

    function test_settleReports_RevertWhen_TooFewSignatures() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        _expectRevertWith(r, signReport(r, 1), abi.encodeWithSelector(IRoyaltyLedger.WrongSignatureCount.selector, 1, 2));
        _expectRevertWith(r, new bytes[](0), abi.encodeWithSelector(IRoyaltyLedger.WrongSignatureCount.selector, 0, 2));
    }

    function test_settleReports_RevertWhen_TooManySignatures() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        _expectRevertWith(r, signReport(r, 3), abi.encodeWithSelector(IRoyaltyLedger.WrongSignatureCount.selector, 3, 2));
    }

    function test_settleReports_RevertWhen_UnknownSigner() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        // Keep the signatures ascending so that the signer check is the one that fails.
        bool strangerFirst = stranger < sortedOracles[0];
        uint256[] memory keys = strangerFirst
            ? _keys(strangerKey, sortedOracleKeys[0])
            : _keys(sortedOracleKeys[0], strangerKey);
        _expectRevertWith(
            r,
            signReportWith(r, keys),
            abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, strangerFirst ? 0 : 1, stranger)
        );
    }

    function test_settleReports_RevertWhen_OracleOfAnotherLicence() public {
        (address outsider, uint256 outsiderKey) = makeAddrAndKey("outsiderOracle");
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.oracles[0] = outsider;
        t.salt = "other oracles";
        register(t);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        uint256[] memory keys = new uint256[](2);
        (keys[0], keys[1]) = outsider < sortedOracles[0]
            ? (outsiderKey, sortedOracleKeys[0])
            : (sortedOracleKeys[0], outsiderKey);
        _expectRevertWith(
            r,
            signReportWith(r, keys),
            abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, outsider < sortedOracles[0] ? 0 : 1, outsider)
        );
    }

    function test_settleReports_RevertWhen_DuplicateSigner() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes[] memory sigs = signReport(r, 2);
        sigs[1] = sigs[0]; // the same signature twice
        _expectRevertWith(
            r, sigs, abi.encodeWithSelector(IRoyaltyLedger.SignersNotAscending.selector, 1, sortedOracles[0])
        );
    }

    function test_settleReports_RevertWhen_SignersDescending() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        _expectRevertWith(
            r,
            signReportWith(r, _keys(sortedOracleKeys[2], sortedOracleKeys[0])),
            abi.encodeWithSelector(IRoyaltyLedger.SignersNotAscending.selector, 1, sortedOracles[0])
        );
    }

    function test_settleReports_RevertWhen_MalleableHighS() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes32 digest = registry.typedData().reportDigest(r);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(sortedOracleKeys[0], digest);
        // (r, n - s, v ^ 1) recovers the same signer: a second valid-looking encoding.
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        assertEq(ecrecover(digest, flippedV, rr, highS), sortedOracles[0], "same signer");
        bytes[] memory sigs = signReport(r, 2);
        sigs[0] = abi.encodePacked(rr, highS, flippedV);
        // reason 3 is ECDSA.RecoverError.InvalidSignatureS; the detail is the offending s
        _expectRevertWith(r, sigs, abi.encodeWithSelector(IRoyaltyLedger.InvalidSignature.selector, 0, 3, highS));
    }

    function test_settleReports_RevertWhen_SignatureMalformed() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes[] memory sigs = signReport(r, 2);
        sigs[1] = hex"deadbeef";
        // reason 2 is ECDSA.RecoverError.InvalidSignatureLength; the detail is the length
        _expectRevertWith(
            r, sigs, abi.encodeWithSelector(IRoyaltyLedger.InvalidSignature.selector, 1, 2, bytes32(uint256(4)))
        );
    }

    function test_settleReports_RevertWhen_SignedForAnotherChain() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes32 digest = registry.typedData().reportDigest(r);
        uint256 chainId = block.chainid;
        vm.chainId(1);
        bytes32 foreignDigest = registry.typedData().reportDigest(r);
        assertTrue(foreignDigest != digest, "the domain binds the chain id");
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = sign(sortedOracleKeys[0], foreignDigest);
        sigs[1] = sign(sortedOracleKeys[1], foreignDigest);
        vm.chainId(chainId);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(sortedOracleKeys[0], foreignDigest);
        address recovered = ecrecover(digest, v, rr, s);
        _expectRevertWith(r, sigs, abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, 0, recovered));
    }

    function test_settleReports_RevertWhen_SignedForAnotherRegistry() public {
        LicenceRegistry otherRegistry = new LicenceRegistry(admin);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes32 foreignDigest = otherRegistry.typedData().reportDigest(r);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = sign(sortedOracleKeys[0], foreignDigest);
        sigs[1] = sign(sortedOracleKeys[1], foreignDigest);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(sortedOracleKeys[0], foreignDigest);
        address recovered = ecrecover(registry.typedData().reportDigest(r), v, rr, s);
        _expectRevertWith(r, sigs, abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, 0, recovered));
    }

    function test_settleReports_RevertWhen_ReportAlteredAfterSigning() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes[] memory sigs = signReport(r, 2);
        r.buckets[0].gross = 10_000 * USD; // the relayer under-reports sales
        address recovered = _recover(registry.typedData().reportDigest(r), sigs[0]);
        _expectRevertWith(r, sigs, abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, 0, recovered));
    }

    function _recover(bytes32 digest, bytes memory sig) private pure returns (address) {
        bytes32 rr;
        bytes32 s;
        uint8 v;
        assembly {
            rr := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        return ecrecover(digest, v, rr, s);
    }

    // ------------------------------------------------------------------ report checks

    function test_settleReports_RevertWhen_PeriodAlreadySettled() public {
        uint256 first = settle(makeReport(licenceId, 0, salesOf(100_000 * USD)));
        // A correction must be an explicit adjustment, never a resubmission of the period.
        expectSettleRevert(
            makeReport(licenceId, 0, salesOf(1 * USD)),
            abi.encodeWithSelector(IRoyaltyLedger.PeriodAlreadySettled.selector, licenceId, 0, first)
        );
    }

    function test_settleReports_RevertWhen_StaleSequence() public {
        settle(makeReport(licenceId, 0, 5, salesOf(100_000 * USD)));
        warpPastPeriod(1);
        expectSettleRevert(
            makeReport(licenceId, 1, 5, salesOf(100_000 * USD)),
            abi.encodeWithSelector(IRoyaltyLedger.StaleSequence.selector, licenceId, 5, 5)
        );
        expectSettleRevert(
            makeReport(licenceId, 1, 3, salesOf(100_000 * USD)),
            abi.encodeWithSelector(IRoyaltyLedger.StaleSequence.selector, licenceId, 3, 5)
        );
        settle(makeReport(licenceId, 1, 9, salesOf(100_000 * USD)));
        assertEq(ledger.lastSequence(licenceId), 9);
    }

    function test_settleReports_RevertWhen_DeadlinePassed() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        r.deadline = uint64(block.timestamp - 1);
        expectSettleRevert(
            r, abi.encodeWithSelector(IRoyaltyLedger.ReportExpired.selector, licenceId, r.deadline, block.timestamp)
        );
    }

    function test_settleReports_AtDeadline() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        r.deadline = uint64(block.timestamp);
        assertEq(settle(r), 1);
    }

    function test_settleReports_RevertWhen_PeriodNotEnded() public {
        expectSettleRevert(
            makeReport(licenceId, 1, salesOf(100_000 * USD)),
            abi.encodeWithSelector(IRoyaltyLedger.PeriodNotEnded.selector, licenceId, 1, periodEnd(1))
        );
        vm.warp(periodEnd(1) - 1);
        expectSettleRevert(
            makeReport(licenceId, 1, salesOf(100_000 * USD)),
            abi.encodeWithSelector(IRoyaltyLedger.PeriodNotEnded.selector, licenceId, 1, periodEnd(1))
        );
        vm.warp(periodEnd(1));
        settle(makeReport(licenceId, 1, salesOf(100_000 * USD)));
    }

    function test_settleReports_SellOffPeriodsAfterExpiry() public {
        // Term ends on day 1095, sell-off on day 1275; period 14 starts on day 1260.
        assertEq(ledger.settlement(settlePeriod(licenceId, 14, 100_000 * USD)).royalty, 5_000 * USD);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Expired));
    }

    function test_settleReports_RevertWhen_PeriodOutsideTerm() public {
        warpPastPeriod(15);
        // Period 15 starts on day 1350, after the sell-off ended on day 1275.
        expectSettleRevert(
            makeReport(licenceId, 15, salesOf(100_000 * USD)),
            abi.encodeWithSelector(
                IRoyaltyLedger.PeriodOutsideTerm.selector, licenceId, 15, periodStart(15), END + 180 days
            )
        );
    }

    function test_settleReports_InsideSellOffAfterTermination() public {
        vm.warp(START + 200 days);
        terminateByConsent(licenceId);
        uint64 sellOffEnd = START + 200 days + 180 days;
        // Period 4 starts on day 360, inside the sell-off: it still earns royalties.
        assertEq(ledger.settlement(settlePeriod(licenceId, 4, 100_000 * USD)).royalty, 5_000 * USD);
        // Period 5 starts on day 450, after it.
        warpPastPeriod(5);
        expectSettleRevert(
            makeReport(licenceId, 5, salesOf(100_000 * USD)),
            abi.encodeWithSelector(IRoyaltyLedger.PeriodOutsideTerm.selector, licenceId, 5, periodStart(5), sellOffEnd)
        );
    }

    function test_settleReports_RevertWhen_UnknownLicence() public {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        bytes[] memory sigs = signReport(r, 2);
        r.licenceId = 9;
        _expectRevertWith(r, sigs, abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 9));
    }

    function test_settleReports_RevertWhen_TooManyBuckets() public {
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](257);
        expectSettleRevert(
            makeReport(licenceId, 0, buckets), abi.encodeWithSelector(IRoyaltyLedger.TooManyBuckets.selector, 257, 256)
        );
    }

    // ------------------------------------------------------------------ scope

    function test_settleReports_OutOfScopeBucketsEarnNothingAndAreFlagged() public {
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](4);
        buckets[0] = bucket(10, 3, 2, 0, 100_000 * USD, 0); // inside: highest codes licensed
        buckets[1] = bucket(11, 0, 0, 0, 70_000 * USD, 0); // territory 11 not licensed
        buckets[2] = bucket(0, 4, 0, 0, 80_000 * USD, 0); // field 4 not licensed
        buckets[3] = bucket(0, 0, 3, 0, 90_000 * USD, 0); // channel 3 not licensed
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, buckets);
        bytes[] memory sigs = signReport(r, 2);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.BucketReported(1, 0, 11, 0, 0, 0, 70_000 * USD, 0, false);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ScopeBreached(licenceId, 1, 11, 0, 0, 70_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.BucketReported(1, 0, 0, 4, 0, 0, 80_000 * USD, 0, false);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ScopeBreached(licenceId, 1, 0, 4, 0, 80_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.BucketReported(1, 0, 0, 0, 3, 0, 90_000 * USD, 0, false);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ScopeBreached(licenceId, 1, 0, 0, 3, 90_000 * USD);
        uint256 id = _settleWith(r, sigs);
        assertEq(ledger.settlement(id).royalty, 5_000 * USD, "only the in-scope bucket earns");

        ILicenceRegistry.Priced memory priced = verifyPrice(licenceId, buckets, 0);
        assertEq(priced.outOfScope, 0xe, "buckets 1, 2 and 3");
    }

    function test_price_CodesBeyondBitmapWidthAreOutOfScope() public {
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](3);
        buckets[0] = bucket(255, 0, 0, 100, 1_000 * USD, 0);
        buckets[1] = bucket(0, 200, 0, 100, 1_000 * USD, 0);
        buckets[2] = bucket(0, 0, 40, 100, 1_000 * USD, 0);
        ILicenceRegistry.Priced memory priced = verifyPrice(licenceId, buckets, 0);
        assertEq(priced.royalty, int256(0));
        assertEq(priced.outOfScope, 7);
    }

    // ------------------------------------------------------------------ batches

    function test_settleReports_BatchOfSeveralReports() public {
        warpPastPeriod(2);
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](3);
        bytes[][] memory sigs = new bytes[][](3);
        for (uint32 p; p < 3; ++p) {
            reports[p] = makeReport(licenceId, p, p + 1, salesOf((p + 1) * 100_000 * USD));
            sigs[p] = signReport(reports[p], 2);
        }
        vm.prank(relayer);
        uint256[] memory ids = ledger.settleReports(reports, sigs);
        assertEq(ids.length, 3);
        for (uint32 p; p < 3; ++p) {
            assertEq(ids[p], p + 1);
            assertEq(ledger.settledPeriod(licenceId, p), p + 1);
            assertEq(ledger.settlement(ids[p]).royalty, (p + 1) * 5_000 * USD);
        }
        assertEq(ledger.lastSequence(licenceId), 3);
    }

    function test_settleReports_BatchAcrossLicences() public {
        uint256 other = registerDefault();
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](2);
        bytes[][] memory sigs = new bytes[][](2);
        reports[0] = makeReport(licenceId, 0, salesOf(100_000 * USD));
        reports[1] = makeReport(other, 0, salesOf(200_000 * USD));
        sigs[0] = signReport(reports[0], 2);
        sigs[1] = signReport(reports[1], 2);
        vm.prank(relayer);
        uint256[] memory ids = ledger.settleReports(reports, sigs);
        assertEq(ledger.settlement(ids[0]).licenceId, licenceId);
        assertEq(ledger.settlement(ids[1]).licenceId, other);
        assertEq(ledger.arrearsOf(other), 10_000 * USD, "the other licence has no escrow");
    }

    function test_settleReports_BatchIsAtomic() public {
        warpPastPeriod(1);
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](2);
        bytes[][] memory sigs = new bytes[][](2);
        reports[0] = makeReport(licenceId, 0, 1, salesOf(100_000 * USD));
        reports[1] = makeReport(licenceId, 1, 2, salesOf(100_000 * USD));
        sigs[0] = signReport(reports[0], 2);
        sigs[1] = signReport(reports[1], 1); // one signature short
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.WrongSignatureCount.selector, 1, 2));
        vm.prank(relayer);
        ledger.settleReports(reports, sigs);
        assertEq(ledger.settledPeriod(licenceId, 0), 0, "the valid report did not settle either");
        assertEq(ledger.lastSequence(licenceId), 0);
        assertEq(ledger.settlementCount(), 0);
    }

    function test_settleReports_RevertWhen_SamePeriodTwiceInBatch() public {
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](2);
        bytes[][] memory sigs = new bytes[][](2);
        reports[0] = makeReport(licenceId, 0, 1, salesOf(100_000 * USD));
        reports[1] = makeReport(licenceId, 0, 2, salesOf(100_000 * USD));
        sigs[0] = signReport(reports[0], 2);
        sigs[1] = signReport(reports[1], 2);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PeriodAlreadySettled.selector, licenceId, 0, 1));
        vm.prank(relayer);
        ledger.settleReports(reports, sigs);
    }

    function test_settleReports_RevertWhen_ReportsAndSignaturesMismatch() public {
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](2);
        bytes[][] memory sigs = new bytes[][](1);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.ReportsAndSignaturesMismatch.selector, 2, 1));
        ledger.settleReports(reports, sigs);
    }

    function test_settleReports_RevertWhen_EmptyBatch() public {
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](0);
        bytes[][] memory sigs = new bytes[][](0);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.EmptyBatch.selector));
        ledger.settleReports(reports, sigs);
    }
}
