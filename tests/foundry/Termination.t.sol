// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Termination by consent, for cause after notice and cure period, and expiry.
contract TerminationTest is Base {
    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        licenceId = registerDefault();
    }

    /// @dev Period 0 settles 5,000 with nothing in escrow: all arrears.
    function _arrears() private {
        settlePeriod(licenceId, 0, 100_000 * USD);
    }

    function _notice() private returns (uint64 curesAt) {
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
        curesAt = uint64(block.timestamp) + CURE_PERIOD;
    }

    // ------------------------------------------------------------------ by consent

    function test_terminateByConsent_ByRelayerWithBothSignatures() public {
        vm.warp(START + 100 days);
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = terminateConsent(licenceId, deadline);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.LicenceTerminated(licenceId, uint64(block.timestamp), true);
        vm.prank(relayer);
        registry.terminateByConsent(licenceId, deadline, licensorSig, licenseeSig);

        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Terminated));
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        assertEq(c.effectiveEnd, START + 100 days);
        assertEq(c.sellOffEnd, START + 280 days);
    }

    function test_terminateByConsent_ByLicenseeWithLicensorSignature() public {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig,) = terminateConsent(licenceId, deadline);
        vm.prank(licensee);
        registry.terminateByConsent(licenceId, deadline, licensorSig, "");
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Terminated));
    }

    function test_terminateByConsent_RevertWhen_OnlyOneParty() public {
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentMissing.selector, licensee));
        vm.prank(licensor);
        registry.terminateByConsent(licenceId, deadline, "", "");
    }

    function test_terminateByConsent_RevertWhen_ConsentExpired() public {
        uint64 deadline = uint64(block.timestamp + 1 hours);
        (bytes memory licensorSig, bytes memory licenseeSig) = terminateConsent(licenceId, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.ConsentExpired.selector, deadline, deadline + 1));
        registry.terminateByConsent(licenceId, deadline, licensorSig, licenseeSig);
    }

    function test_terminateByConsent_RevertWhen_AlreadyTerminated() public {
        terminateByConsent(licenceId);
        uint64 deadline = uint64(block.timestamp + 2 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILicenceRegistry.LicenceNotActive.selector, licenceId, ILicenceRegistry.Status.Terminated
            )
        );
        registry.terminateByConsent(licenceId, deadline, "", "");
    }

    function test_terminateByConsent_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.UnknownLicence.selector, 5));
        registry.terminateByConsent(5, uint64(block.timestamp), "", "");
    }

    // ------------------------------------------------------------------ expiry

    function test_status_ExpiresAutomaticallyAtEnd() public {
        vm.warp(END - 1);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Active));
        vm.warp(END);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Expired));
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceRegistry.LicenceNotActive.selector, licenceId, ILicenceRegistry.Status.Expired)
        );
        registry.terminateByConsent(licenceId, deadline, "", "");
    }

    // ------------------------------------------------------------------ for cause

    function test_noticeBreach_StartsCurePeriod() public {
        _arrears();
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.BreachNoticed(licenceId, 5_000 * USD, uint64(block.timestamp) + CURE_PERIOD);
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
    }

    function test_noticeBreach_RevertWhen_NoArrears() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NoArrears.selector, licenceId));
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
    }

    function test_noticeBreach_RevertWhen_NotLicensor() public {
        _arrears();
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NotLicensor.selector, coOwner));
        vm.prank(coOwner);
        registry.noticeBreach(licenceId);
    }

    function test_noticeBreach_RevertWhen_Expired() public {
        _arrears();
        vm.warp(END);
        vm.expectRevert(
            abi.encodeWithSelector(ILicenceRegistry.LicenceNotActive.selector, licenceId, ILicenceRegistry.Status.Expired)
        );
        vm.prank(licensor);
        registry.noticeBreach(licenceId);
    }

    function test_terminateForCause_AfterCurePeriodWithArrearsUnpaid() public {
        _arrears();
        uint64 curesAt = _notice();
        deposit(licenceId, 4_999 * USD); // one dollar short does not cure
        vm.warp(curesAt);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILicenceRegistry.LicenceTerminated(licenceId, curesAt, false);
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Terminated));
        // The arrears stay owed after termination.
        assertEq(ledger.arrearsOf(licenceId), 1 * USD);
        deposit(licenceId, 1 * USD);
        assertEq(ledger.arrearsOf(licenceId), 0);
    }

    function test_terminateForCause_RevertWhen_NoBreachNotice() public {
        _arrears();
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NoBreachNotice.selector, licenceId));
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
    }

    function test_terminateForCause_RevertWhen_CurePeriodRunning() public {
        _arrears();
        uint64 curesAt = _notice();
        vm.warp(curesAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.CurePeriodRunning.selector, licenceId, curesAt));
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
    }

    function test_terminateForCause_RevertWhen_CuredByPaying() public {
        _arrears();
        uint64 curesAt = _notice();
        vm.warp(curesAt - 1 days);
        deposit(licenceId, 5_000 * USD);
        uint64 clearedAt = uint64(block.timestamp);
        vm.warp(curesAt);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.BreachCured.selector, licenceId, clearedAt));
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
    }

    function test_terminateForCause_NewArrearsNeedNewNotice() public {
        _arrears();
        _notice();
        deposit(licenceId, 5_000 * USD); // cured
        uint64 clearedAt = uint64(block.timestamp);
        settlePeriod(licenceId, 1, 100_000 * USD); // new arrears, after the cure
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.BreachCured.selector, licenceId, clearedAt));
        vm.prank(licensor);
        registry.terminateForCause(licenceId);

        uint64 curesAt = _notice();
        vm.warp(curesAt);
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
        assertEq(uint8(registry.status(licenceId)), uint8(ILicenceRegistry.Status.Terminated));
    }

    function test_terminateForCause_RevertWhen_NotLicensor() public {
        _arrears();
        uint64 curesAt = _notice();
        vm.warp(curesAt);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.NotLicensor.selector, licensee));
        vm.prank(licensee);
        registry.terminateForCause(licenceId);
    }

    function test_terminateForCause_RevertWhen_Terminated() public {
        _arrears();
        uint64 curesAt = _notice();
        vm.warp(curesAt);
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILicenceRegistry.LicenceNotActive.selector, licenceId, ILicenceRegistry.Status.Terminated
            )
        );
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
    }

    function test_terminateForCause_ReportsOnlyInsideSellOff() public {
        _arrears(); // period 0 reported at day 90
        uint64 curesAt = _notice();
        vm.warp(curesAt); // day 120
        vm.prank(licensor);
        registry.terminateForCause(licenceId);
        // Sell-off ends on day 300: period 3 (day 270) still settles, period 4 (day 360) does not.
        assertEq(ledger.settlement(settlePeriod(licenceId, 3, 100_000 * USD)).royalty, 5_000 * USD);
        warpPastPeriod(4);
        expectSettleRevert(
            makeReport(licenceId, 4, salesOf(100_000 * USD)),
            abi.encodeWithSelector(
                IRoyaltyLedger.PeriodOutsideTerm.selector, licenceId, 4, periodStart(4), curesAt + 180 days
            )
        );
    }
}
