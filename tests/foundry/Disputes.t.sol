// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {ERC1271Wallet} from "../../contracts/test/ERC1271Wallet.sol";
import {Base} from "./Base.t.sol";

/// @notice Dispute window, disputes by either party (direct or relayed), resolutions.
contract DisputesTest is Base {
    uint32 internal constant WINDOW = 7 days;
    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        licenceId = register(_windowTerms());
    }

    function _windowTerms() private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.disputeWindow = WINDOW;
    }

    /// @dev Escrow 10,000; period 0 settles 5,000, pending for the window.
    function _pendingSettlement() private returns (uint256 id) {
        deposit(licenceId, 10_000 * USD);
        id = settlePeriod(licenceId, 0, 100_000 * USD);
    }

    function _disputedSettlement() private returns (uint256 id) {
        id = _pendingSettlement();
        vm.prank(licensee);
        ledger.dispute(id);
    }

    function _resolveByParties(uint256 id, uint128 finalAmount) private {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = resolveDigest(id, finalAmount, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory licenseeSig = sign(licenseeKey, digest);
        vm.prank(relayer);
        ledger.resolveDisputeByParties(id, finalAmount, deadline, licensorSig, licenseeSig);
    }

    // ------------------------------------------------------------------ window

    function test_settleReports_PendingDuringDisputeWindow() public {
        deposit(licenceId, 10_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(1, licenceId, IRoyaltyLedger.Kind.Report, 0, 5_000 * USD, 0, 5_000 * USD, 5_000 * USD, true, periodEnd(0) + DUE_DAYS * 1 days);
        uint256 id = settle(r);

        assertSettlement(id, IRoyaltyLedger.State.Pending, 5_000 * USD, 5_000 * USD, 5_000 * USD, 0);
        assertEq(ledger.settlement(id).disputeUntil, block.timestamp + WINDOW);
        assertEq(ledger.escrowOf(licenceId), 5_000 * USD, "drawn at once");
        assertEq(ledger.claimable(licenceId, licensor), 0, "held until final");
        assertEq(ledger.taxClaimable(licenceId), 0);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToWithdraw.selector, licenceId, licensor));
        ledger.withdraw(licenceId, licensor);
    }

    function test_releaseMatured_AfterWindow() public {
        uint256 id = _pendingSettlement();
        uint64 until = ledger.settlement(id).disputeUntil;
        vm.warp(until - 1);
        ledger.releaseMatured(licenceId);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Pending));

        vm.warp(until);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(id, licenceId, 5_000 * USD, 500 * USD, 4_500 * USD);
        vm.prank(stranger); // anyone may call it
        ledger.releaseMatured(licenceId);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.taxClaimable(licenceId), 500 * USD);
    }

    function test_releaseMatured_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 8));
        ledger.releaseMatured(8);
    }

    function test_withdraw_ReleasesMaturedSettlementsFirst() public {
        uint256 id = _pendingSettlement();
        vm.warp(ledger.settlement(id).disputeUntil);
        assertEq(ledger.claimable(licenceId, coOwner), 0, "the view counts released settlements only");
        assertEq(ledger.withdraw(licenceId, coOwner), 1_350 * USD);
        assertEq(ledger.withdrawTax(licenceId), 500 * USD);
    }

    function test_releaseMatured_InSettlementOrderStopsAtFirstPending() public {
        uint256 first = _pendingSettlement();
        uint256 second = settlePeriod(licenceId, 1, 100_000 * USD);
        vm.warp(ledger.settlement(first).disputeUntil);
        ledger.releaseMatured(licenceId);
        assertEq(uint8(ledger.settlement(first).state), uint8(IRoyaltyLedger.State.Final));
        assertEq(uint8(ledger.settlement(second).state), uint8(IRoyaltyLedger.State.Pending));
        vm.warp(ledger.settlement(second).disputeUntil);
        ledger.releaseMatured(licenceId);
        assertEq(uint8(ledger.settlement(second).state), uint8(IRoyaltyLedger.State.Final));
        assertEq(ledger.distributedOf(licenceId), 9_000 * USD);
    }

    // ------------------------------------------------------------------ disputes

    function test_dispute_ByLicensee() public {
        uint256 id = _pendingSettlement();
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Disputed(id, licenceId, licensee);
        vm.prank(licensee);
        ledger.dispute(id);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Disputed));

        // Held past the window until resolved.
        vm.warp(block.timestamp + WINDOW + 1);
        ledger.releaseMatured(licenceId);
        assertSettlement(id, IRoyaltyLedger.State.Disputed, 5_000 * USD, 5_000 * USD, 5_000 * USD, 0);
        assertEq(ledger.claimable(licenceId, licensor), 0);
    }

    function test_dispute_ByLicensor() public {
        uint256 id = _pendingSettlement();
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Disputed(id, licenceId, licensor);
        vm.prank(licensor);
        ledger.dispute(id);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Disputed));
    }

    function test_disputeFor_RelayedLicenseeSignature() public {
        uint256 id = _pendingSettlement();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = sign(licenseeKey, disputeDigest(id, licensee, deadline));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Disputed(id, licenceId, licensee);
        vm.prank(relayer);
        ledger.disputeFor(id, licensee, deadline, sig);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Disputed));
    }

    function test_disputeFor_RelayedLicensorSignature() public {
        uint256 id = _pendingSettlement();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = sign(licensorKey, disputeDigest(id, licensor, deadline));
        vm.prank(relayer);
        ledger.disputeFor(id, licensor, deadline, sig);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Disputed));
    }

    function test_disputeFor_ContractWalletParty() public {
        ERC1271Wallet wallet = new ERC1271Wallet(licensee);
        ILicenceRegistry.Terms memory t = _windowTerms();
        t.licensee = address(wallet);
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = registry.registerDigest(t, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory walletSig = sign(licenseeKey, digest);
        vm.prank(relayer);
        uint256 walletLicence = registry.register(t, deadline, licensorSig, walletSig);

        uint256 id = settlePeriod(walletLicence, 0, 100_000 * USD);
        deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = sign(licenseeKey, disputeDigest(id, address(wallet), deadline));
        vm.prank(relayer);
        ledger.disputeFor(id, address(wallet), deadline, sig);
        assertEq(uint8(ledger.settlement(id).state), uint8(IRoyaltyLedger.State.Disputed));
    }

    function test_disputeFor_RevertWhen_SignatureExpired() public {
        uint256 id = _pendingSettlement();
        uint64 deadline = uint64(block.timestamp - 1);
        bytes memory sig = sign(licenseeKey, disputeDigest(id, licensee, deadline));
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.SignatureExpired.selector, deadline, block.timestamp));
        ledger.disputeFor(id, licensee, deadline, sig);
    }

    function test_disputeFor_RevertWhen_SignatureNotByParty() public {
        uint256 id = _pendingSettlement();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = sign(strangerKey, disputeDigest(id, licensee, deadline));
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PartySignatureInvalid.selector, licensee));
        ledger.disputeFor(id, licensee, deadline, sig);
    }

    function test_disputeFor_RevertWhen_SignerNotParty() public {
        uint256 id = _pendingSettlement();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = sign(strangerKey, disputeDigest(id, stranger, deadline));
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotParty.selector, licenceId, stranger));
        ledger.disputeFor(id, stranger, deadline, sig);
    }

    function test_dispute_RevertWhen_NotParty() public {
        uint256 id = _pendingSettlement();
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotParty.selector, licenceId, coOwner));
        vm.prank(coOwner);
        ledger.dispute(id);
    }

    function test_dispute_RevertWhen_WindowClosed() public {
        uint256 id = _pendingSettlement();
        uint64 until = ledger.settlement(id).disputeUntil;
        vm.warp(until);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.DisputeWindowClosed.selector, id, until));
        vm.prank(licensee);
        ledger.dispute(id);
    }

    function test_dispute_RevertWhen_AlreadyDisputed() public {
        uint256 id = _disputedSettlement();
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.NotDisputable.selector, id, IRoyaltyLedger.State.Disputed)
        );
        vm.prank(licensor);
        ledger.dispute(id);
    }

    function test_dispute_RevertWhen_Final() public {
        ILicenceRegistry.Terms memory t = defaultTerms(); // no window: final at once
        uint256 finalLicence = register(t);
        uint256 id = settlePeriod(finalLicence, 0, 100_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotDisputable.selector, id, IRoyaltyLedger.State.Final));
        vm.prank(licensee);
        ledger.dispute(id);
    }

    function test_dispute_RevertWhen_AdvanceSettlement() public {
        ILicenceRegistry.Terms memory t = _windowTerms();
        t.advance = 1_000 * USD;
        t.salt = "advance";
        register(t);
        uint256 advanceId = ledger.settlementCount();
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.NotDisputable.selector, advanceId, IRoyaltyLedger.State.Final)
        );
        vm.prank(licensee);
        ledger.dispute(advanceId);
    }

    function test_dispute_RevertWhen_UnknownSettlement() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownSettlement.selector, 99));
        vm.prank(licensee);
        ledger.dispute(99);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownSettlement.selector, 99));
        ledger.settlement(99);
    }

    // ------------------------------------------------------------------ resolution

    function test_resolveDispute_LowerAmountRefundsEscrow() public {
        uint256 id = _disputedSettlement(); // escrow 5,000 after drawing 5,000
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.DisputeResolved(id, licenceId, 3_000 * USD, 2_000 * USD, true);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(id, licenceId, 3_000 * USD, 300 * USD, 2_700 * USD);
        vm.prank(arbiter);
        ledger.resolveDispute(id, 3_000 * USD);

        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 3_000 * USD, 3_000 * USD, 3_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 7_000 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 1_890 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 810 * USD);
        assertEq(ledger.taxClaimable(licenceId), 300 * USD);
        assertEq(token.balanceOf(address(ledger)), 10_000 * USD);
    }

    function test_resolveDispute_FullAmountReleasesAll() public {
        uint256 id = _disputedSettlement();
        vm.prank(arbiter);
        ledger.resolveDispute(id, 5_000 * USD);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 5_000 * USD);
    }

    function test_resolveDispute_RefundPaysOtherArrearsFirst() public {
        deposit(licenceId, 5_000 * USD);
        uint256 first = settlePeriod(licenceId, 0, 100_000 * USD); // 5,000 paid from escrow
        uint256 second = settlePeriod(licenceId, 1, 80_000 * USD); // 4,000, all arrears
        assertEq(ledger.arrearsOf(licenceId), 4_000 * USD);
        vm.warp(ledger.settlement(first).disputeUntil - 1);
        vm.prank(licensee);
        ledger.dispute(first);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.DisputeResolved(first, licenceId, 2_000 * USD, 3_000 * USD, true);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(second, licenceId, 3_000 * USD, 1_000 * USD);
        vm.prank(arbiter);
        ledger.resolveDispute(first, 2_000 * USD);

        assertEq(ledger.arrearsOf(licenceId), 1_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 0);
        assertSettlement(second, IRoyaltyLedger.State.Pending, 4_000 * USD, 4_000 * USD, 3_000 * USD, 0);
    }

    function test_resolveDispute_UnpaidAmountReducesArrears() public {
        uint256 id = settlePeriod(licenceId, 0, 100_000 * USD); // nothing in escrow: 5,000 arrears
        vm.prank(licensee);
        ledger.dispute(id);
        vm.prank(arbiter);
        ledger.resolveDispute(id, 1_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 1_000 * USD);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 1_000 * USD, 0, 0);
        // Paying the rest now credits the payees at once.
        deposit(licenceId, 1_000 * USD);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
    }

    function test_resolveDispute_ToZeroClearsArrears() public {
        uint256 id = settlePeriod(licenceId, 0, 100_000 * USD);
        vm.prank(licensee);
        ledger.dispute(id);
        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsCleared(licenceId, uint64(block.timestamp));
        vm.prank(arbiter);
        ledger.resolveDispute(id, 0);
        assertEq(ledger.arrearsOf(licenceId), 0);
        assertEq(ledger.arrearsClearedAt(licenceId), block.timestamp);
    }

    function test_resolveDispute_LowersYearRoyaltyForGuarantee() public {
        ILicenceRegistry.Terms memory t = _windowTerms();
        t.schedule.minimumGuarantee = 50_000 * USD;
        t.salt = "guarantee";
        uint256 mg = register(t);
        deposit(mg, 1_000_000 * USD);
        uint256 id = settlePeriod(mg, 0, 400_000 * USD); // 20,000
        vm.prank(licensee);
        ledger.dispute(id);
        vm.prank(arbiter);
        ledger.resolveDispute(id, 5_000 * USD);
        // Year 0 is 2023-11-15..2024-11-15, 366 days (29 February 2024): it ends on START + 366 days.
        (uint64 end,) = yearEnd(mg, 0);
        assertEq(end, START + 366 days);
        vm.warp(end);
        uint256 charge = ledger.chargeMinimumGuarantee(mg, 0);
        assertEq(ledger.settlement(charge).royalty, 45_000 * USD, "50,000 less the 5,000 finally owed");
    }

    function test_resolveDispute_GuaranteeShortfallLowered() public {
        ILicenceRegistry.Terms memory t = _windowTerms();
        t.schedule.minimumGuarantee = 30_000 * USD;
        t.salt = "guarantee";
        uint256 mg = register(t);
        deposit(mg, 1_000_000 * USD);
        (uint64 end,) = yearEnd(mg, 0); // START + 366 days: 2024-11-15
        vm.warp(end);
        uint256 charge = ledger.chargeMinimumGuarantee(mg, 0); // 30,000, nothing reported
        vm.prank(licensee);
        ledger.dispute(charge);
        vm.prank(arbiter);
        ledger.resolveDispute(charge, 10_000 * USD);
        // A late report of year 0 is offset only by the 10,000 finally charged. Period 4 (days
        // 360..450) crosses year 0's end on day 366; its one bucket holds year-0 sales (days 360..366).
        uint256 late = settlePeriod(mg, 4, 240_000 * USD); // 12,000
        assertEq(ledger.settlement(late).due, 2_000 * USD);
    }

    function test_resolveDisputeByParties_BothSignaturesRelayed() public {
        uint256 id = _disputedSettlement();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = resolveDigest(id, 4_000 * USD, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory licenseeSig = sign(licenseeKey, digest);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.DisputeResolved(id, licenceId, 4_000 * USD, 1_000 * USD, false);
        vm.prank(relayer);
        ledger.resolveDisputeByParties(id, 4_000 * USD, deadline, licensorSig, licenseeSig);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 4_000 * USD, 4_000 * USD, 4_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 6_000 * USD);
    }

    function test_resolveDisputeByParties_PartySubmitsWithOtherSignature() public {
        uint256 id = _disputedSettlement();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes memory licensorSig = sign(licensorKey, resolveDigest(id, 4_500 * USD, deadline));
        vm.prank(licensee);
        ledger.resolveDisputeByParties(id, 4_500 * USD, deadline, licensorSig, "");
        assertEq(ledger.settlement(id).due, 4_500 * USD);
    }

    function test_resolveDisputeByParties_RevertWhen_SignatureExpired() public {
        uint256 id = _disputedSettlement();
        uint64 deadline = uint64(block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.SignatureExpired.selector, deadline, block.timestamp));
        ledger.resolveDisputeByParties(id, 1, deadline, "", "");
    }

    function test_resolveDisputeByParties_RevertWhen_SignatureInvalid() public {
        uint256 id = _disputedSettlement();
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = resolveDigest(id, 1_000 * USD, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory otherAmountSig = sign(licenseeKey, resolveDigest(id, 4_000 * USD, deadline));
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PartySignatureInvalid.selector, licensee));
        ledger.resolveDisputeByParties(id, 1_000 * USD, deadline, licensorSig, otherAmountSig);

        bytes memory licenseeSig = sign(licenseeKey, digest);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PartySignatureInvalid.selector, licensor));
        ledger.resolveDisputeByParties(id, 1_000 * USD, deadline, licenseeSig, licenseeSig);
    }

    function test_resolveDispute_RevertWhen_NotArbiter() public {
        uint256 id = _disputedSettlement();
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotArbiter.selector, licensor));
        vm.prank(licensor);
        ledger.resolveDispute(id, 0);
    }

    function test_resolveDispute_RevertWhen_NotDisputed() public {
        uint256 id = _pendingSettlement();
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotDisputed.selector, id, IRoyaltyLedger.State.Pending));
        vm.prank(arbiter);
        ledger.resolveDispute(id, 0);
    }

    function test_resolveDispute_RevertWhen_ResolvedTwice() public {
        uint256 id = _disputedSettlement();
        _resolveByParties(id, 4_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotDisputed.selector, id, IRoyaltyLedger.State.Final));
        vm.prank(arbiter);
        ledger.resolveDispute(id, 0);
    }

    function test_resolveDispute_RevertWhen_FinalAmountAboveDue() public {
        uint256 id = _disputedSettlement();
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.FinalAmountAboveDue.selector, id, 5_000 * USD + 1, 5_000 * USD)
        );
        vm.prank(arbiter);
        ledger.resolveDispute(id, 5_000 * USD + 1);
    }

    function test_resolveDispute_RevertWhen_UnknownSettlement() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownSettlement.selector, 77));
        vm.prank(arbiter);
        ledger.resolveDispute(77, 0);
    }

    // ------------------------------------------------------------------ minimum guarantee and open reports

    /// @dev A licence with the 7-day window and a 50,000 guarantee, 1,000,000 in escrow.
    function _guaranteeLicence() private returns (uint256 mg) {
        ILicenceRegistry.Terms memory t = _windowTerms();
        t.schedule.minimumGuarantee = 50_000 * USD;
        t.salt = "guarantee";
        mg = register(t);
        deposit(mg, 1_000_000 * USD);
    }

    /// @notice Regression: the shortfall used to be computed while a report of the year was still
    /// disputed, counting it in full; resolving it lower afterwards left the year under its
    /// guarantee (40,000 of 50,000). Now the charge waits for the resolution and covers it all.
    function test_resolveDispute_LowerReportBeforeGuaranteeChargeKeepsFullGuarantee() public {
        uint256 mg = _guaranteeLicence();
        uint256[] memory reports = new uint256[](4);
        for (uint32 p; p < 4; ++p) {
            reports[p] = settlePeriod(mg, p, 200_000 * USD); // 10,000 each, 40,000 in year 0
        }
        vm.prank(licensee);
        ledger.dispute(reports[3]); // period 3, settled on day 360, still in its window

        // Day 366, the end of year 0 (2023-11-15..2024-11-15 holds 29 February 2024): periods
        // 0..2 have matured but nobody released them; period 3 (window to day 367) is disputed.
        // The charge releases the matured ones first, so only the disputed one counts as open
        // (the release is undone with the revert).
        (uint64 end,) = yearEnd(mg, 0);
        assertEq(end, START + 366 days);
        vm.warp(end);
        for (uint256 i; i < 3; ++i) {
            assertEq(uint8(ledger.settlement(reports[i]).state), uint8(IRoyaltyLedger.State.Pending));
        }
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearHasOpenSettlements.selector, mg, 0, 1));
        ledger.chargeMinimumGuarantee(mg, 0);
        // Still blocked after the window: a disputed report stays open until it is resolved.
        vm.warp(end + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearHasOpenSettlements.selector, mg, 0, 1));
        ledger.chargeMinimumGuarantee(mg, 0);

        vm.prank(arbiter);
        ledger.resolveDispute(reports[3], 0); // the period's sales were not real
        uint256 charge = ledger.chargeMinimumGuarantee(mg, 0); // 50,000 - 30,000
        IRoyaltyLedger.Settlement memory c = ledger.settlement(charge);
        assertEq(uint8(c.kind), uint8(IRoyaltyLedger.Kind.MinimumGuarantee));
        assertEq(c.royalty, 20_000 * USD);
        assertEq(c.due, 20_000 * USD);

        uint256 yearRoyalty;
        for (uint256 i; i < 4; ++i) {
            yearRoyalty += ledger.settlement(reports[i]).due;
        }
        assertEq(yearRoyalty, 30_000 * USD);
        assertEq(yearRoyalty + c.due, 50_000 * USD, "year royalty + shortfall == guarantee");
    }

    function test_chargeMinimumGuarantee_RevertWhen_YearHasOpenSettlements() public {
        uint256 mg = _guaranteeLicence();
        settlePeriod(mg, 0, 200_000 * USD); // 10,000, final on day 97
        settlePeriod(mg, 1, 200_000 * USD); // 10,000, final on day 187
        vm.warp(START + 364 days);
        uint256 late2 = settle(makeReport(mg, 2, salesOf(200_000 * USD))); // 10,000, pending to day 371
        uint256 late3 = settle(makeReport(mg, 3, salesOf(200_000 * USD))); // 10,000, pending to day 371

        // Day 366, the end of year 0 (a leap year's 366 days): both late reports still pending.
        (uint64 end,) = yearEnd(mg, 0);
        assertEq(end, START + 366 days);
        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearHasOpenSettlements.selector, mg, 0, 2));
        ledger.chargeMinimumGuarantee(mg, 0);
        vm.prank(licensor);
        ledger.dispute(late2);

        // Day 371: the charge releases period 3 first (undone by the revert); period 2 is still disputed.
        vm.warp(START + 364 days + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.YearHasOpenSettlements.selector, mg, 0, 1));
        ledger.chargeMinimumGuarantee(mg, 0);
        assertEq(uint8(ledger.settlement(late3).state), uint8(IRoyaltyLedger.State.Pending), "rolled back");

        _resolveByParties(late2, 5_000 * USD);
        uint256 charge = ledger.chargeMinimumGuarantee(mg, 0);
        assertEq(uint8(ledger.settlement(late3).state), uint8(IRoyaltyLedger.State.Final), "released by the charge");
        // 10,000 + 10,000 + 5,000 + 10,000 = 35,000 royalty: 15,000 short of the guarantee
        assertEq(ledger.settlement(charge).due, 15_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.GuaranteeAlreadyCharged.selector, mg, 0));
        ledger.chargeMinimumGuarantee(mg, 0);
    }

    function test_chargeMinimumGuarantee_ReleasesMaturedReportsFirst() public {
        uint256 mg = _guaranteeLicence();
        for (uint32 p; p < 3; ++p) {
            settlePeriod(mg, p, 200_000 * USD);
        }
        vm.warp(START + 364 days);
        uint256 late = settle(makeReport(mg, 3, salesOf(200_000 * USD))); // pending to day 371
        vm.warp(START + 364 days + WINDOW); // matured, but nobody released it yet
        assertEq(uint8(ledger.settlement(late).state), uint8(IRoyaltyLedger.State.Pending));
        uint256 charge = ledger.chargeMinimumGuarantee(mg, 0);
        assertEq(uint8(ledger.settlement(late).state), uint8(IRoyaltyLedger.State.Final));
        assertEq(ledger.settlement(charge).due, 10_000 * USD, "50,000 - 4 * 10,000");
    }

    // ------------------------------------------------------------------ arrears cleared by a resolution

    /// @notice Regression: a resolution that refunded part of a payment and so cleared the arrears
    /// used to skip `ArrearsCleared`, leaving `arrearsClearedAt` stale, so the licensor could later
    /// terminate for cause on the cured notice.
    function test_resolveDispute_RefundThatClearsArrearsEmitsArrearsCleared() public {
        deposit(licenceId, 3_000 * USD);
        uint256 id = settlePeriod(licenceId, 0, 100_000 * USD); // 5,000: 3,000 paid, 2,000 arrears
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
        vm.prank(licensee);
        ledger.dispute(id);

        vm.warp(block.timestamp + 1 days);
        uint64 resolvedAt = uint64(block.timestamp);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsCleared(licenceId, resolvedAt);
        vm.prank(arbiter);
        ledger.resolveDispute(id, 2_500 * USD); // 500 refunded, nothing outstanding any more
        assertEq(ledger.arrearsOf(licenceId), 0);
        assertEq(ledger.escrowOf(licenceId), 500 * USD);
        assertEq(ledger.arrearsClearedAt(licenceId), resolvedAt);

        // New arrears after the cure, with no new notice.
        settlePeriod(licenceId, 1, 100_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 4_500 * USD);
        vm.warp(block.timestamp + CURE_PERIOD);

        assertEq(ledger.arrearsClearedAt(licenceId), resolvedAt, "the resolution cured the breach");
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.BreachCured.selector, licenceId, resolvedAt));
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
    }

    function test_resolveDispute_ReductionWithoutRefundThatClearsArrearsEmitsArrearsCleared() public {
        deposit(licenceId, 3_000 * USD);
        uint256 id = settlePeriod(licenceId, 0, 100_000 * USD); // 5,000: 3,000 paid, 2,000 arrears
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
        vm.prank(licensee);
        ledger.dispute(id);

        vm.warp(block.timestamp + 1 days);
        uint64 resolvedAt = uint64(block.timestamp);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsCleared(licenceId, resolvedAt);
        vm.prank(arbiter);
        ledger.resolveDispute(id, 3_000 * USD); // exactly what was paid: no refund, no arrears
        assertEq(ledger.arrearsOf(licenceId), 0);
        assertEq(ledger.escrowOf(licenceId), 0);
        assertEq(ledger.arrearsClearedAt(licenceId), resolvedAt);

        vm.warp(block.timestamp + CURE_PERIOD);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.BreachCured.selector, licenceId, resolvedAt));
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
    }

    // ------------------------------------------------------------------ disputed arrears

    /// @dev No escrow: period 0 settles 5,000 entirely as arrears, pending for the window.
    function _unpaidSettlement() private returns (uint256 id) {
        id = settlePeriod(licenceId, 0, 100_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 5_000 * USD);
    }

    function test_noticeBreach_RevertWhen_AllArrearsAreDisputed() public {
        uint256 id = _unpaidSettlement();
        vm.prank(licensee);
        ledger.dispute(id);
        assertEq(ledger.arrearsOf(licenceId), 5_000 * USD);
        assertEq(ledger.undisputedArrearsOf(licenceId), 0, "a contested amount is not a breach");
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NoArrears.selector, licenceId));
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
    }

    function test_noticeBreach_AfterDisputeResolvedAgainstLicensee() public {
        uint256 id = _unpaidSettlement();
        vm.prank(licensee);
        ledger.dispute(id);
        vm.prank(arbiter);
        ledger.resolveDispute(id, 4_000 * USD);
        assertEq(ledger.undisputedArrearsOf(licenceId), 4_000 * USD, "the final amount is owed again");
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
    }

    function test_deposit_PayingDisputedArrearsReducesTheDisputedPart() public {
        uint256 id = _unpaidSettlement();
        vm.prank(licensee);
        ledger.dispute(id);
        deposit(licenceId, 1_500 * USD);
        assertEq(ledger.arrearsOf(licenceId), 3_500 * USD);
        assertEq(ledger.undisputedArrearsOf(licenceId), 0, "the rest is still contested");
        vm.prank(arbiter);
        ledger.resolveDispute(id, 5_000 * USD);
        assertEq(ledger.undisputedArrearsOf(licenceId), 3_500 * USD);
    }
}
