// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice The pauser stops settlement only; money already owed keeps moving, and no role can
/// move anybody's funds.
contract PauseTest is Base {
    uint256 internal licenceId;
    uint256 internal settled;

    function setUp() public override {
        super.setUp();
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.disputeWindow = 7 days;
        t.schedule.minimumGuarantee = 100_000 * USD;
        licenceId = register(t);
        deposit(licenceId, 50_000 * USD);
        settled = settlePeriod(licenceId, 0, 100_000 * USD); // 5,000, pending for 7 days
    }

    function _pause() private {
        vm.expectEmit(true, true, true, true, address(ledger));
        emit Pausable.Paused(admin);
        vm.prank(admin);
        ledger.pause();
    }

    function test_pause_StopsSettleReports() public {
        _pause();
        warpPastPeriod(1);
        expectSettleRevert(
            makeReport(licenceId, 1, salesOf(100_000 * USD)), abi.encodeWithSelector(Pausable.EnforcedPause.selector)
        );
        vm.prank(admin);
        ledger.unpause();
        settle(makeReport(licenceId, 1, salesOf(100_000 * USD)));
        assertEq(ledger.settledPeriod(licenceId, 1), 2);
    }

    function test_pause_StopsChargeMinimumGuarantee() public {
        _pause();
        (uint64 end,) = yearEnd(licenceId, 0); // START + 366 days: 2023-11-15..2024-11-15 holds 29 February
        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        ledger.chargeMinimumGuarantee(licenceId, 0);
        vm.prank(admin);
        ledger.unpause();
        ledger.chargeMinimumGuarantee(licenceId, 0);
    }

    function test_pause_DepositsAndWithdrawalsContinue() public {
        _pause();
        deposit(licenceId, 1_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 46_000 * USD);

        vm.warp(block.timestamp + 7 days);
        ledger.releaseMatured(licenceId);
        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.withdraw(licenceId, coOwner), 1_350 * USD);
        assertEq(ledger.withdrawTax(licenceId), 500 * USD);
        assertEq(token.balanceOf(licensor), 3_150 * USD);

        // The escrow opens on day 1,380: the sell-off ends on day 1,095 + 180 = 1,275, in period 14
        // (days 1,260..1,350), whose report is due 30 days after it ends.
        vm.warp(START + 1_380 days);
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 46_000 * USD);
        assertEq(token.balanceOf(address(ledger)), 0);
    }

    function test_pause_DisputesContinue() public {
        _pause();
        vm.prank(licensee);
        ledger.dispute(settled);
        vm.prank(arbiter);
        ledger.resolveDispute(settled, 4_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 46_000 * USD);
    }

    function test_pause_RegistrationContinues() public {
        _pause();
        assertEq(registerDefault(), 2);
    }

    function test_pause_RevertWhen_NotPauser() public {
        bytes32 role = ledger.PAUSER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, licensor, role));
        vm.prank(licensor);
        ledger.pause();
        _pause();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, licensor, role));
        vm.prank(licensor);
        ledger.unpause();
    }

    function test_pause_PauserCannotMoveFunds() public {
        _pause();
        vm.warp(block.timestamp + 7 days);
        vm.startPrank(admin);
        // Escrow belongs to the licensee.
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotParty.selector, licenceId, admin));
        ledger.withdrawEscrow(licenceId, 1);
        // A payee's balance goes to the payee, whoever calls.
        ledger.withdraw(licenceId, licensor);
        assertEq(token.balanceOf(admin), 0);
        // Withholding goes to the tax account.
        ledger.withdrawTax(licenceId);
        assertEq(token.balanceOf(admin), 0);
        // The admin is neither arbiter nor party.
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotArbiter.selector, admin));
        ledger.resolveDispute(settled, 0);
        // Only the registry opens licences (and so pulls advances).
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotRegistry.selector, admin));
        ledger.openLicence(9, address(token), licensee, new address[](0), new uint16[](0), 0, address(0), 1, 0, true);
        vm.stopPrank();
        assertEq(token.balanceOf(licensor), 3_150 * USD);
        assertEq(token.balanceOf(taxAccount), 500 * USD);
    }

    function test_hasRole_AdminHoldsOnlyPauseAndTokenRoles() public view {
        assertTrue(ledger.hasRole(ledger.PAUSER_ROLE(), admin));
        assertTrue(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(registry.hasRole(registry.TOKEN_ADMIN_ROLE(), admin));
        assertFalse(ledger.hasRole(ledger.PAUSER_ROLE(), licensor));
    }
}
