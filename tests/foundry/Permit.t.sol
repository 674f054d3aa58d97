// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Deposits by the licensee's EIP-2612 permit, relayed by anyone: credited as `deposit`
/// is, from the licensee only, and still deposited when someone front-ran the permit.
contract PermitTest is Base {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint256 internal constant AMOUNT = 2_500 * USD;

    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        licenceId = registerDefault();
        // Base gives the ledger a standing allowance; permits are what is tested here.
        vm.prank(licensee);
        token.approve(address(ledger), 0);
        token.mint(licensee, 10_000 * USD);
    }

    function _permit(uint256 key, address owner, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, address(ledger), value, nonce, deadline));
        (v, r, s) = vm.sign(key, MessageHashUtils.toTypedDataHash(token.DOMAIN_SEPARATOR(), structHash));
    }

    function _licenseePermit(uint256 value, uint256 deadline) internal view returns (uint8, bytes32, bytes32) {
        return _permit(licenseeKey, licensee, value, token.nonces(licensee), deadline);
    }

    function _assertNothingMoved() internal view {
        assertEq(ledger.escrowOf(licenceId), 0);
        assertEq(token.balanceOf(licensee), 10_000 * USD);
        assertEq(token.balanceOf(address(ledger)), 0);
        assertEq(token.nonces(licensee), 0);
    }

    function test_depositWithPermit_RelayedCreditsEscrowFromTheLicensee() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, licensee, AMOUNT, 0, AMOUNT);
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);

        assertEq(ledger.escrowOf(licenceId), 2_500 * USD);
        assertEq(token.balanceOf(licensee), 10_000 * USD - 2_500 * USD); // 7,500
        assertEq(token.balanceOf(address(ledger)), 2_500 * USD);
        assertEq(token.balanceOf(relayer), 0);
        assertEq(token.allowance(licensee, address(ledger)), 0);
        assertEq(token.nonces(licensee), 1);
    }

    function test_depositWithPermit_PaysArrearsFirst() public {
        uint256 first = settlePeriod(licenceId, 0, 20_000 * USD); // 5% of 20,000: 1,000 owed, no escrow
        assertEq(ledger.arrearsOf(licenceId), 1_000 * USD);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.ArrearsPaid(first, licenceId, 1_000 * USD, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Deposited(licenceId, licensee, AMOUNT, 1_000 * USD, 1_500 * USD);
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);

        assertEq(ledger.arrearsOf(licenceId), 0);
        assertEq(ledger.escrowOf(licenceId), 2_500 * USD - 1_000 * USD); // 1,500
        // The 1,000 paid, less 10% tax, split 70/30: 630 and 270.
        assertEq(ledger.claimable(licenceId, licensor), 630 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 270 * USD);
        assertEq(ledger.taxClaimable(licenceId), 100 * USD);
    }

    function test_depositWithPermit_FrontRunPermitStillDeposits() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        // Someone saw the relayed transaction and submitted its permit to the token first.
        vm.prank(stranger);
        token.permit(licensee, address(ledger), AMOUNT, deadline, v, r, s);
        assertEq(token.allowance(licensee, address(ledger)), AMOUNT);

        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);
        assertEq(ledger.escrowOf(licenceId), 2_500 * USD);
        assertEq(token.balanceOf(licensee), 7_500 * USD);
        assertEq(token.allowance(licensee, address(ledger)), 0);
        assertEq(token.nonces(licensee), 1);
    }

    function test_depositWithPermit_RevertWhen_PermitReplayed() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);

        // The permit is spent (nonce 1 now) and its allowance used: the replay pulls nothing.
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(ledger), 0, AMOUNT)
        );
        vm.prank(stranger);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);
        assertEq(ledger.escrowOf(licenceId), 2_500 * USD);
        assertEq(token.balanceOf(licensee), 7_500 * USD);
    }

    function test_depositWithPermit_RevertWhen_PermitExpired() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(ledger), 0, AMOUNT)
        );
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);
        _assertNothingMoved();
    }

    function test_depositWithPermit_RevertWhen_SignedByAnotherAccount() public {
        uint256 deadline = block.timestamp + 1 hours;
        // The stranger signs a permit naming the licensee as owner: it is not the licensee's.
        (uint8 v, bytes32 r, bytes32 s) = _permit(strangerKey, licensee, AMOUNT, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(ledger), 0, AMOUNT)
        );
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);
        _assertNothingMoved();
    }

    function test_depositWithPermit_RevertWhen_PermitOfAnotherOwner() public {
        // A permit by someone who is not the licensee cannot fund the licence from its wallet.
        token.mint(stranger, AMOUNT);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _permit(strangerKey, stranger, AMOUNT, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(ledger), 0, AMOUNT)
        );
        vm.prank(stranger);
        ledger.depositWithPermit(licenceId, AMOUNT, deadline, v, r, s);
        _assertNothingMoved();
        assertEq(token.balanceOf(stranger), AMOUNT);
    }

    function test_depositWithPermit_RevertWhen_AmountAbovePermit() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(ledger), 0, AMOUNT + 1)
        );
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, AMOUNT + 1, deadline, v, r, s);
        _assertNothingMoved();
    }

    function test_depositWithPermit_RevertWhen_ZeroAmount() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.ZeroAmount.selector));
        vm.prank(relayer);
        ledger.depositWithPermit(licenceId, 0, deadline, v, r, s);
        _assertNothingMoved();
    }

    function test_depositWithPermit_RevertWhen_UnknownLicence() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _licenseePermit(AMOUNT, deadline);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 99));
        vm.prank(relayer);
        ledger.depositWithPermit(99, AMOUNT, deadline, v, r, s);
        _assertNothingMoved();
    }
}
