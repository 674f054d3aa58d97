// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {BlocklistToken} from "../../contracts/test/BlocklistToken.sol";
import {CallbackToken} from "../../contracts/test/CallbackToken.sol";
import {FeeOnTransferToken} from "../../contracts/test/FeeOnTransferToken.sol";
import {HostilePayee} from "../../contracts/test/HostilePayee.sol";
import {NoReturnToken} from "../../contracts/test/NoReturnToken.sol";
import {Base} from "./Base.t.sol";

/// @notice The ledger with tokens that misbehave: fees on transfer, no return values, blocklists
/// and recipient hooks that reenter or revert.
contract HostileTokensTest is Base {
    address internal tokenOwner;

    function setUp() public override {
        super.setUp();
        tokenOwner = makeAddr("tokenOwner");
    }

    function _allow(address tokenAddress) private {
        vm.prank(admin);
        registry.setTokenAllowed(tokenAddress, true);
    }

    /// @dev Default terms paid in `tokenAddress`; the licensee must already have approved the advance.
    function _register(ILicenceRegistry.Terms memory t, address tokenAddress) private returns (uint256 licenceId) {
        _allow(tokenAddress);
        t.token = tokenAddress;
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.prank(relayer);
        licenceId = registry.register(t, deadline, licensorSig, licenseeSig);
    }

    // ------------------------------------------------------------------ fee on transfer

    function test_deposit_FeeOnTransferTokenCreditsMeasuredBalance() public {
        FeeOnTransferToken fot = new FeeOnTransferToken();
        fot.mint(licensee, 11_000 * USD);
        vm.prank(licensee);
        fot.approve(address(ledger), type(uint256).max);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.advance = 1_000 * USD;

        uint256 licenceId = _register(t, address(fot));
        assertEq(ledger.advanceRemaining(licenceId), 990 * USD, "advance less the 1% fee");
        assertEq(ledger.settlement(1).paid, 990 * USD);
        assertEq(fot.balanceOf(address(ledger)), 990 * USD);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, licensee, 9_900 * USD, 0, 9_900 * USD);
        vm.prank(licensee);
        ledger.deposit(licenceId, 10_000 * USD);
        assertEq(ledger.escrowOf(licenceId), 9_900 * USD);

        // 5,000 of royalty: 990 recouped, 4,010 from escrow.
        uint256 id = settlePeriod(licenceId, 0, 100_000 * USD);
        assertEq(ledger.settlement(id).due, 4_010 * USD);
        assertEq(ledger.escrowOf(licenceId), 5_890 * USD);
        assertEq(ledger.distributedOf(licenceId), 4_500 * USD);

        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        assertEq(fot.balanceOf(licensor), 3_118_500_000, "the payee bears the token's own fee");
        // Everything the ledger still owes is covered by what it holds.
        uint256 owed = ledger.escrowOf(licenceId) + ledger.taxClaimable(licenceId) + ledger.claimable(licenceId, coOwner);
        assertEq(fot.balanceOf(address(ledger)), owed);
        assertEq(owed, 7_740 * USD);
    }

    // ------------------------------------------------------------------ no return values

    function test_withdraw_NoReturnTokenWorksThroughSafeERC20() public {
        NoReturnToken nrt = new NoReturnToken();
        // The token really returns nothing: a bool-decoding caller would revert on it.
        nrt.mint(address(this), 1);
        (bool ok, bytes memory ret) = address(nrt).call(abi.encodeCall(IERC20.transfer, (stranger, 1)));
        assertTrue(ok);
        assertEq(ret.length, 0);

        nrt.mint(licensee, 21_000 * USD);
        vm.prank(licensee);
        nrt.approve(address(ledger), type(uint256).max);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.advance = 1_000 * USD;
        uint256 licenceId = _register(t, address(nrt));
        vm.prank(licensee);
        ledger.deposit(licenceId, 20_000 * USD);

        settlePeriod(licenceId, 0, 100_000 * USD); // 5,000: 1,000 recouped, 4,000 drawn
        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.withdraw(licenceId, coOwner), 1_350 * USD);
        assertEq(ledger.withdrawTax(licenceId), 500 * USD);
        assertEq(nrt.balanceOf(licensor), 3_150 * USD);
        assertEq(nrt.balanceOf(coOwner), 1_350 * USD);
        assertEq(nrt.balanceOf(taxAccount), 500 * USD);

        // The escrow opens on day 1,380: the sell-off ends on day 1,095 + 180 = 1,275, in period 14
        // (days 1,260..1,350), whose report is due 30 days after it ends.
        vm.warp(START + 1_380 days);
        vm.prank(licensee);
        ledger.withdrawEscrow(licenceId, 16_000 * USD);
        assertEq(nrt.balanceOf(licensee), 16_000 * USD);
        assertEq(nrt.balanceOf(address(ledger)), 0);
    }

    function test_deposit_RevertWhen_NoReturnTokenNotApproved() public {
        NoReturnToken nrt = new NoReturnToken();
        uint256 licenceId = _register(defaultTerms(), address(nrt));
        nrt.mint(licensee, 1_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(NoReturnToken.InsufficientAllowance.selector, address(ledger), 0, 1_000 * USD));
        vm.prank(licensee);
        ledger.deposit(licenceId, 1_000 * USD);
    }

    // ------------------------------------------------------------------ blocklist

    function _blocklistLicence() private returns (BlocklistToken blt, uint256 licenceId) {
        blt = new BlocklistToken(tokenOwner);
        licenceId = _register(defaultTerms(), address(blt));
        blt.mint(licensee, 10_000 * USD);
        vm.startPrank(licensee);
        blt.approve(address(ledger), type(uint256).max);
        ledger.deposit(licenceId, 10_000 * USD);
        vm.stopPrank();
        settlePeriod(licenceId, 0, 100_000 * USD);
    }

    function test_withdraw_BlocklistedPayeeDoesNotBlockOthers() public {
        (BlocklistToken blt, uint256 licenceId) = _blocklistLicence();
        vm.prank(tokenOwner);
        blt.setBlocklisted(coOwner, true);

        vm.expectRevert(abi.encodeWithSelector(BlocklistToken.AccountBlocklisted.selector, coOwner));
        ledger.withdraw(licenceId, coOwner);
        assertEq(ledger.claimable(licenceId, coOwner), 1_350 * USD, "kept for later");

        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.withdrawTax(licenceId), 500 * USD);
        // Later settlements still credit everyone.
        settlePeriod(licenceId, 1, 20_000 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 1_620 * USD);

        vm.prank(tokenOwner);
        blt.setBlocklisted(coOwner, false);
        assertEq(ledger.withdraw(licenceId, coOwner), 1_620 * USD);
        assertEq(blt.balanceOf(coOwner), 1_620 * USD);
    }

    function test_withdrawTax_BlocklistedTaxAccountDoesNotBlockPayees() public {
        (BlocklistToken blt, uint256 licenceId) = _blocklistLicence();
        vm.prank(tokenOwner);
        blt.setBlocklisted(taxAccount, true);
        vm.expectRevert(abi.encodeWithSelector(BlocklistToken.AccountBlocklisted.selector, taxAccount));
        ledger.withdrawTax(licenceId);
        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.withdraw(licenceId, coOwner), 1_350 * USD);
        assertEq(ledger.taxClaimable(licenceId), 500 * USD);
    }

    function test_settleReports_BlocklistedLicenseeStillPaysFromEscrow() public {
        (BlocklistToken blt, uint256 licenceId) = _blocklistLicence();
        vm.prank(tokenOwner);
        blt.setBlocklisted(licensee, true);
        vm.expectRevert(abi.encodeWithSelector(BlocklistToken.AccountBlocklisted.selector, licensee));
        vm.prank(licensee);
        ledger.deposit(licenceId, 1);
        // Settlement moves no tokens: it still draws the escrow already deposited.
        uint256 id = settlePeriod(licenceId, 1, 100_000 * USD);
        assertEq(ledger.settlement(id).paid, 5_000 * USD);
        assertEq(ledger.withdraw(licenceId, licensor), 6_300 * USD);
    }

    // ------------------------------------------------------------------ hooks: reentrancy and refusal

    function _hostileLicence(HostilePayee.Mode mode)
        private
        returns (CallbackToken cbt, HostilePayee hostile, uint256 licenceId)
    {
        cbt = new CallbackToken();
        hostile = new HostilePayee(ledger, cbt);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees[1].account = address(hostile);
        sortPayees(t.payees); // the hostile payee (30%) may sort before the licensor (70%)
        licenceId = _register(t, address(cbt));
        hostile.configure(licenceId, mode);
        cbt.mint(licensee, 10_000 * USD);
        vm.startPrank(licensee);
        cbt.approve(address(ledger), type(uint256).max);
        ledger.deposit(licenceId, 10_000 * USD);
        vm.stopPrank();
        settlePeriod(licenceId, 0, 100_000 * USD); // hostile payee: 1,350
    }

    function test_withdraw_RefusingPayeeOnlyBlocksItself() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostileLicence(HostilePayee.Mode.Refuse);
        vm.expectRevert(
            abi.encodeWithSelector(HostilePayee.PaymentRefused.selector, address(ledger), 1_350 * USD)
        );
        ledger.withdraw(licenceId, address(hostile));
        assertEq(ledger.claimable(licenceId, address(hostile)), 1_350 * USD);
        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        assertEq(ledger.withdrawTax(licenceId), 500 * USD);
        assertEq(cbt.balanceOf(licensor), 3_150 * USD);
    }

    function test_withdraw_RevertWhen_PayeeReentersWithdraw() public {
        (, HostilePayee hostile, uint256 licenceId) = _hostileLicence(HostilePayee.Mode.ReenterWithdraw);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        ledger.withdraw(licenceId, address(hostile));
        assertEq(ledger.claimable(licenceId, address(hostile)), 1_350 * USD);
        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
    }

    function test_withdraw_RevertWhen_PayeeReentersDeposit() public {
        (, HostilePayee hostile, uint256 licenceId) = _hostileLicence(HostilePayee.Mode.ReenterDeposit);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        ledger.withdraw(licenceId, address(hostile));
    }

    function test_withdraw_SwallowedReentryPaysOnce() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) =
            _hostileLicence(HostilePayee.Mode.TryReenterWithdraw);
        uint256 ledgerBefore = cbt.balanceOf(address(ledger));
        assertEq(ledger.withdraw(licenceId, address(hostile)), 1_350 * USD);
        assertTrue(hostile.reentryFailed());
        assertEq(hostile.reentryError(), abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        assertEq(hostile.received(), 1_350 * USD);
        assertEq(cbt.balanceOf(address(hostile)), 1_350 * USD);
        assertEq(cbt.balanceOf(address(ledger)), ledgerBefore - 1_350 * USD);
        assertEq(ledger.claimable(licenceId, address(hostile)), 0);
    }

    function test_withdraw_HookedPayeeIsPaid() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostileLicence(HostilePayee.Mode.Accept);
        assertEq(ledger.withdraw(licenceId, address(hostile)), 1_350 * USD);
        assertEq(hostile.received(), 1_350 * USD);
        assertEq(cbt.balanceOf(address(hostile)), 1_350 * USD);
    }
}
