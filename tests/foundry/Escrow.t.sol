// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Escrow: deposits, draws by settlements, arrears paid oldest first, escrow withdrawal.
contract EscrowTest is Base {
    /// @dev The escrow opens at the end of the period holding the sell-off's last second, plus the
    /// due days to report it: the sell-off ends on END + 180 days = START + 1,095 + 180 = day
    /// 1,275; that second's period is 14 (days 1,260..1,350), due 30 days later: day 1,380.
    uint64 internal constant CLOSES_AT = START + 1_380 days;
    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        licenceId = registerDefault();
    }

    function test_deposit_CreditsEscrow() public {
        token.mint(licensee, 10_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, licensee, 10_000 * USD, 0, 10_000 * USD);
        vm.prank(licensee);
        ledger.deposit(licenceId, 10_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 10_000 * USD);
        assertEq(token.balanceOf(address(ledger)), 10_000 * USD);
        assertEq(token.balanceOf(licensee), 0);
    }

    function test_deposit_ByAnyoneForTheLicence() public {
        token.mint(relayer, 2_000 * USD);
        vm.startPrank(relayer);
        token.approve(address(ledger), 2_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, relayer, 2_000 * USD, 0, 2_000 * USD);
        ledger.deposit(licenceId, 2_000 * USD);
        vm.stopPrank();
        assertEq(ledger.escrowOf(licenceId), 2_000 * USD);
    }

    function test_deposit_RevertWhen_ZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.ZeroAmount.selector));
        vm.prank(licensee);
        ledger.deposit(licenceId, 0);
    }

    function test_deposit_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 5));
        vm.prank(licensee);
        ledger.deposit(5, 1);
    }

    function test_settleReports_DrawsEscrow() public {
        deposit(licenceId, 10_000 * USD);
        uint256 id = settlePeriod(licenceId, 0, 100_000 * USD);
        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 5_000 * USD, 5_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 5_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 0);
    }

    function test_settleReports_ShortfallBecomesArrears() public {
        deposit(licenceId, 3_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(100_000 * USD));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Settled(1, licenceId, IRoyaltyLedger.Kind.Report, 0, 5_000 * USD, 0, 5_000 * USD, 3_000 * USD, false, periodEnd(0) + DUE_DAYS * 1 days);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(1, licenceId, 3_000 * USD, 300 * USD, 2_700 * USD);
        uint256 id = settle(r);

        assertSettlement(id, IRoyaltyLedger.State.Final, 5_000 * USD, 5_000 * USD, 3_000 * USD, 3_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 0);
        assertEq(ledger.arrearsOf(licenceId), 2_000 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 1_890 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 810 * USD);
    }

    function test_deposit_PaysOldestArrearsFirst() public {
        uint256 first = settlePeriod(licenceId, 0, 20_000 * USD); // 1,000 owed, nothing in escrow
        uint256 second = settlePeriod(licenceId, 1, 40_000 * USD); // 2,000 owed
        assertEq(ledger.arrearsOf(licenceId), 3_000 * USD);

        token.mint(licensee, 1_500 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(first, licenceId, 1_000 * USD, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(first, licenceId, 1_000 * USD, 100 * USD, 900 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(second, licenceId, 500 * USD, 1_500 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Released(second, licenceId, 500 * USD, 50 * USD, 1_350 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, licensee, 1_500 * USD, 1_500 * USD, 0);
        vm.prank(licensee);
        ledger.deposit(licenceId, 1_500 * USD);

        assertSettlement(first, IRoyaltyLedger.State.Final, 1_000 * USD, 1_000 * USD, 1_000 * USD, 1_000 * USD);
        assertSettlement(second, IRoyaltyLedger.State.Final, 2_000 * USD, 2_000 * USD, 500 * USD, 500 * USD);
        assertEq(ledger.arrearsOf(licenceId), 1_500 * USD);
        assertEq(ledger.escrowOf(licenceId), 0);
        assertEq(ledger.arrearsClearedAt(licenceId), 0);

        vm.warp(block.timestamp + 3 days);
        token.mint(licensee, 2_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(second, licenceId, 1_500 * USD, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsCleared(licenceId, uint64(block.timestamp));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, licensee, 2_000 * USD, 1_500 * USD, 500 * USD);
        vm.prank(licensee);
        ledger.deposit(licenceId, 2_000 * USD);

        assertSettlement(second, IRoyaltyLedger.State.Final, 2_000 * USD, 2_000 * USD, 2_000 * USD, 2_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 0);
        assertEq(ledger.arrearsClearedAt(licenceId), block.timestamp);
        assertEq(ledger.escrowOf(licenceId), 500 * USD);
        assertEq(token.balanceOf(address(ledger)), 3_500 * USD);
        assertEq(ledger.taxClaimable(licenceId), 300 * USD);
        assertEq(ledger.distributedOf(licenceId), 2_700 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 1_890 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 810 * USD);
    }

    function test_deposit_ExactArrearsLeavesNoEscrow() public {
        settlePeriod(licenceId, 0, 20_000 * USD);
        deposit(licenceId, 1_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 0);
        assertEq(ledger.escrowOf(licenceId), 0);
        // The next settlement finds an empty escrow and becomes arrears again.
        settlePeriod(licenceId, 1, 20_000 * USD);
        assertEq(ledger.arrearsOf(licenceId), 1_000 * USD);
    }

    // ------------------------------------------------------------------ escrow withdrawal

    function test_withdrawEscrow_AfterLicenceAndSellOffClose() public {
        deposit(licenceId, 10_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
        assertEq(CLOSES_AT, periodEnd(14) + DUE_DAYS * 1 days);
        vm.warp(CLOSES_AT - 1);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.LicenceStillOpen.selector, licenceId, CLOSES_AT));
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 4_000 * USD);
        vm.warp(CLOSES_AT);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.EscrowWithdrawn(licenceId, licensee, 4_000 * USD);
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 4_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 1_000 * USD);
        assertEq(token.balanceOf(licensee), 4_000 * USD);
    }

    function test_withdrawEscrow_AfterTermination() public {
        deposit(licenceId, 10_000 * USD);
        vm.warp(START + 100 days);
        terminateByConsent(licenceId);
        // Terminated on day 100: the sell-off ends on day 280, in period 3 (days 270..360), whose
        // report is due 30 days after it ends: day 390.
        uint64 closesAt = START + 390 days;
        assertEq(closesAt, periodEnd(3) + DUE_DAYS * 1 days);
        vm.warp(closesAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.LicenceStillOpen.selector, licenceId, closesAt));
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 10_000 * USD);
        vm.warp(closesAt);
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 10_000 * USD);
        assertEq(token.balanceOf(licensee), 10_000 * USD);
    }

    function test_withdrawEscrow_RevertWhen_LicenceStillOpen() public {
        deposit(licenceId, 10_000 * USD);
        vm.warp(END);
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.LicenceStillOpen.selector, licenceId, CLOSES_AT)
        );
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 1);
    }

    function test_withdrawEscrow_RevertWhen_NotLicensee() public {
        deposit(licenceId, 10_000 * USD);
        vm.warp(CLOSES_AT);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotParty.selector, licenceId, licensor));
        vm.prank(licensor);
        ledger.withdrawEscrow(licenceId, 1);
    }

    function test_withdrawEscrow_RevertWhen_EscrowTooLow() public {
        deposit(licenceId, 10_000 * USD);
        vm.warp(CLOSES_AT);
        vm.expectRevert(
            abi.encodeWithSelector(IRoyaltyLedger.EscrowTooLow.selector, licenceId, 10_000 * USD + 1, 10_000 * USD)
        );
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 10_000 * USD + 1);
    }

    function test_withdrawEscrow_RevertWhen_ZeroAmount() public {
        vm.warp(CLOSES_AT);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.ZeroAmount.selector));
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 0);
    }

    function test_withdrawEscrow_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 3));
        vm.prank(licensee);
        ledger.withdrawEscrow(3, 1);
    }
}
