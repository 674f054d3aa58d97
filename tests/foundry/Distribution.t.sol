// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {BlocklistToken} from "../../contracts/test/BlocklistToken.sol";
import {CallbackToken} from "../../contracts/test/CallbackToken.sol";
import {FalseReturnToken} from "../../contracts/test/FalseReturnToken.sol";
import {HostilePayee} from "../../contracts/test/HostilePayee.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {Base} from "./Base.t.sol";

/// @notice Distribution to every payee in one call, multi-licence claims and the payee list
/// published as code. Default licence: licensor 70%, co-owner 30%, 10% withheld; a settlement of
/// 100,000 net sales at 5% is 5,000: 500 tax, 4,500 distributed, 3,150 and 1,350.
contract DistributionTest is Base {
    address internal tokenOwner;

    function setUp() public override {
        super.setUp();
        tokenOwner = makeAddr("tokenOwner");
    }

    // ------------------------------------------------------------------ helpers

    function _settledDefault() private returns (uint256 licenceId) {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.salt = bytes32(registry.licenceCount()); // distinct terms, so distinct consents
        licenceId = registerFunded(t, 100_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
    }

    /// @dev Default terms in `tokenAddress` (allowed here), funded with 10,000 and settled once.
    function _settledIn(ILicenceRegistry.Terms memory t, address tokenAddress) private returns (uint256 licenceId) {
        vm.prank(admin);
        registry.setTokenAllowed(tokenAddress, true);
        t.token = tokenAddress;
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.prank(relayer);
        licenceId = registry.register(t, deadline, licensorSig, licenseeSig);
        vm.startPrank(licensee);
        (bool ok,) = tokenAddress.call(abi.encodeWithSignature("approve(address,uint256)", address(ledger), type(uint256).max));
        assertTrue(ok);
        ledger.deposit(licenceId, 10_000 * USD);
        vm.stopPrank();
        settlePeriod(licenceId, 0, 100_000 * USD);
    }

    function _distribute(uint256 licenceId) private returns (uint256 paid) {
        vm.prank(stranger);
        paid = ledger.distribute(licenceId);
    }

    function _hostile(HostilePayee.Mode mode) private returns (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) {
        cbt = new CallbackToken();
        hostile = new HostilePayee(ledger, cbt);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees[1].account = address(hostile);
        sortPayees(t.payees);
        cbt.mint(licensee, 10_000 * USD);
        licenceId = _settledIn(t, address(cbt));
        hostile.configure(licenceId, mode);
    }

    /// @dev After a distribution in which only `hostile` failed: the licensor has its 3,150, the
    /// hostile payee nothing and its 1,350 still claimable, the ledger exactly what it owes.
    function _assertOnlyHostileUnpaid(CallbackToken cbt, HostilePayee hostile, uint256 licenceId) private view {
        assertEq(cbt.balanceOf(licensor), 3_150 * USD);
        assertEq(cbt.balanceOf(address(hostile)), 0);
        assertEq(ledger.claimable(licenceId, address(hostile)), 1_350 * USD);
        assertEq(ledger.unpaidOf(licenceId, address(hostile)), 1_350 * USD);
        // 10,000 deposited - 3,150 paid = 5,000 escrow + 500 tax + 1,350 unpaid
        assertEq(cbt.balanceOf(address(ledger)), 6_850 * USD);
    }

    /// @dev A Distributed event's paidEach for the default two payees (licensor, co-owner).
    function _each(uint256 licensorPaid, uint256 coOwnerPaid) private pure returns (uint256[] memory each) {
        each = new uint256[](2);
        (each[0], each[1]) = (licensorPaid, coOwnerPaid);
    }

    // ------------------------------------------------------------------ distribute

    function test_distribute_PaysEveryPayeeItsPart() public {
        uint256 licenceId = _settledDefault();
        // One event for the whole distribution, each payee's amount in list order (the licensor's
        // address sorts before the co-owner's): no Withdrawn per payee.
        vm.recordLogs();
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Distributed(licenceId, stranger, 0, 4_500 * USD, 4_500 * USD, 0, _each(3_150 * USD, 1_350 * USD));
        assertEq(_distribute(licenceId), 4_500 * USD);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IRoyaltyLedger.Withdrawn.selector, "no Withdrawn per payee");
        }

        assertEq(token.balanceOf(licensor), 3_150 * USD);
        assertEq(token.balanceOf(coOwner), 1_350 * USD);
        assertEq(ledger.claimable(licenceId, licensor), 0);
        assertEq(ledger.claimable(licenceId, coOwner), 0);
        (uint256 entitled, uint256 withdrawn) = ledger.payeeTotals(licenceId, coOwner);
        assertEq(entitled, 1_350 * USD);
        assertEq(withdrawn, 1_350 * USD);
        (uint256 paidUpTo, uint256 payeeCount, bool published,) = ledger.payoutOf(licenceId);
        assertEq(paidUpTo, 4_500 * USD);
        assertEq(payeeCount, 2);
        assertTrue(published);
        // 100,000 deposited - 5,000 settled = 95,000 escrow, + 500 tax: nothing else is left.
        assertEq(token.balanceOf(address(ledger)), 95_500 * USD);
    }

    function test_distribute_SkipsWhatAPayeeWithdrewItself() public {
        uint256 licenceId = _settledDefault();
        _distribute(licenceId);
        settlePeriod(licenceId, 1, 100_000 * USD); // 4,500 more: 3,150 and 1,350
        assertEq(ledger.withdraw(licenceId, licensor), 3_150 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Distributed(licenceId, stranger, 4_500 * USD, 9_000 * USD, 1_350 * USD, 0, _each(0, 1_350 * USD));
        assertEq(_distribute(licenceId), 1_350 * USD, "only the co-owner is owed");
        assertEq(token.balanceOf(licensor), 6_300 * USD);
        assertEq(token.balanceOf(coOwner), 2_700 * USD);

        // A withdrawal after a distribution pays only what came after it.
        settlePeriod(licenceId, 2, 10_000 * USD); // 450: 315 and 135
        assertEq(ledger.withdraw(licenceId, coOwner), 135 * USD);
        assertEq(_distribute(licenceId), 315 * USD);
        assertEq(token.balanceOf(licensor), 6_615 * USD);
    }

    function test_distribute_RevertWhen_NothingNew() public {
        uint256 licenceId = _settledDefault();
        _distribute(licenceId);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToDistribute.selector, licenceId, 4_500 * USD));
        _distribute(licenceId);
    }

    function test_distribute_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 7));
        _distribute(7);
    }

    function test_distribute_RevertWhen_TooLittleGasForAFullAllowance() public {
        uint256 licenceId = _settledDefault();
        vm.expectPartialRevert(IRoyaltyLedger.DistributionGasTooLow.selector);
        vm.prank(stranger);
        ledger.distribute{gas: 120_000}(licenceId);
        // Nothing moved: the whole distribution is still to do.
        assertEq(ledger.claimable(licenceId, licensor), 3_150 * USD);
        assertEq(_distribute(licenceId), 4_500 * USD);
    }

    // ------------------------------------------------------------------ hostile payees

    function test_distribute_BlocklistedPayeeStaysClaimable() public {
        BlocklistToken blt = new BlocklistToken(tokenOwner);
        blt.mint(licensee, 10_000 * USD);
        vm.prank(tokenOwner);
        blt.setBlocklisted(coOwner, true);
        uint256 licenceId = _settledIn(defaultTerms(), address(blt));

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.PayoutFailed(licenceId, coOwner, 1_350 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Distributed(licenceId, stranger, 0, 4_500 * USD, 3_150 * USD, 1_350 * USD, _each(3_150 * USD, 0));
        assertEq(_distribute(licenceId), 3_150 * USD);
        assertEq(blt.balanceOf(licensor), 3_150 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 1_350 * USD);

        // The next distribution tries again with what is owed since: 1,350 + 1,350.
        settlePeriod(licenceId, 1, 100_000 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 2_700 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.PayoutFailed(licenceId, coOwner, 2_700 * USD);
        assertEq(_distribute(licenceId), 3_150 * USD);
        assertEq(ledger.unpaidOf(licenceId, coOwner), 2_700 * USD);

        vm.prank(tokenOwner);
        blt.setBlocklisted(coOwner, false);
        assertEq(ledger.withdraw(licenceId, coOwner), 2_700 * USD);
        assertEq(blt.balanceOf(coOwner), 2_700 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 0);
        // 10,000 - 6,300 - 2,700 = 1,000 withheld: all the ledger still holds.
        assertEq(blt.balanceOf(address(ledger)), 1_000 * USD);
    }

    function test_distribute_TokenReturningFalseCountsAsUnpaid() public {
        FalseReturnToken frt = new FalseReturnToken();
        frt.mint(licensee, 10_000 * USD);
        frt.setRefused(coOwner, true);
        uint256 licenceId = _settledIn(defaultTerms(), address(frt));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.PayoutFailed(licenceId, coOwner, 1_350 * USD);
        assertEq(_distribute(licenceId), 3_150 * USD);
        assertEq(frt.balanceOf(coOwner), 0);
        assertEq(ledger.claimable(licenceId, coOwner), 1_350 * USD);
        // 10,000 - 3,150 = 5,000 escrow + 500 tax + 1,350 unpaid
        assertEq(frt.balanceOf(address(ledger)), 6_850 * USD);
        frt.setRefused(coOwner, false);
        assertEq(ledger.withdraw(licenceId, coOwner), 1_350 * USD);
    }

    function test_distribute_RevertingPayeeOnlyBlocksItself() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostile(HostilePayee.Mode.Refuse);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.PayoutFailed(licenceId, address(hostile), 1_350 * USD);
        assertEq(_distribute(licenceId), 3_150 * USD);
        _assertOnlyHostileUnpaid(cbt, hostile, licenceId);
    }

    function test_distribute_GasBurningPayeeOnlyBlocksItself() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostile(HostilePayee.Mode.BurnGas);
        vm.prank(stranger);
        uint256 gas = gasleft();
        uint256 paid = ledger.distribute(licenceId);
        gas -= gasleft();
        assertEq(paid, 3_150 * USD);
        _assertOnlyHostileUnpaid(cbt, hostile, licenceId);
        // It burnt its allowance, no more: PAYOUT_GAS plus the rest of the distribution.
        assertLt(gas, ledger.PAYOUT_GAS() + 100_000);
    }

    function test_distribute_PayeeReenteringWithdrawIsLeftUnpaid() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostile(HostilePayee.Mode.ReenterWithdraw);
        assertEq(_distribute(licenceId), 3_150 * USD);
        _assertOnlyHostileUnpaid(cbt, hostile, licenceId);
    }

    function test_distribute_PayeeReenteringDistributeIsLeftUnpaid() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostile(HostilePayee.Mode.ReenterDistribute);
        assertEq(_distribute(licenceId), 3_150 * USD);
        _assertOnlyHostileUnpaid(cbt, hostile, licenceId);
    }

    function test_distribute_SwallowedReentryPaysOnce() public {
        (CallbackToken cbt, HostilePayee hostile, uint256 licenceId) = _hostile(HostilePayee.Mode.TryReenterWithdraw);
        assertEq(_distribute(licenceId), 4_500 * USD);
        assertTrue(hostile.reentryFailed());
        assertEq(hostile.reentryError(), abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        assertEq(hostile.received(), 1_350 * USD);
        assertEq(cbt.balanceOf(address(hostile)), 1_350 * USD);
        assertEq(ledger.claimable(licenceId, address(hostile)), 0);
        // 10,000 - 4,500 = 5,000 escrow + 500 tax
        assertEq(cbt.balanceOf(address(ledger)), 5_500 * USD);
    }

    // ------------------------------------------------------------------ withdrawMany

    function test_withdrawMany_OneTransferPerToken() public {
        TestToken other = new TestToken("Other", "OTH", 6);
        uint256 a = _settledDefault();
        uint256 b = _settledDefault();
        other.mint(licensee, 10_000 * USD);
        uint256 c = _settledIn(defaultTerms(), address(other));
        uint256[] memory ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (a, b, c);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Withdrawn(a, licensor, 3_150 * USD, false);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(ledger), licensor, 6_300 * USD); // a and b together
        vm.prank(stranger);
        assertEq(ledger.withdrawMany(ids, licensor), 9_450 * USD);
        assertEq(token.balanceOf(licensor), 6_300 * USD);
        assertEq(other.balanceOf(licensor), 3_150 * USD);
        assertEq(ledger.claimable(a, licensor) + ledger.claimable(b, licensor) + ledger.claimable(c, licensor), 0);

        // Licences that owe nothing are skipped; none owing anything reverts.
        settlePeriod(b, 1, 100_000 * USD);
        assertEq(ledger.withdrawMany(ids, licensor), 3_150 * USD);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToClaim.selector, licensor));
        ledger.withdrawMany(ids, licensor);
    }

    function test_withdrawMany_RevertWhen_NotPayeeOfOne() public {
        uint256 a = _settledDefault();
        uint256[] memory ids = new uint256[](1);
        ids[0] = a;
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotPayee.selector, a, stranger));
        ledger.withdrawMany(ids, stranger);
    }

    // ------------------------------------------------------------------ long payee lists

    function _longTerms(uint256 count) private returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        uint16[] memory shares = new uint16[](count);
        for (uint256 i; i < count; ++i) {
            shares[i] = uint16(10_000 / count);
        }
        shares[0] += uint16(10_000 - (10_000 / count) * count);
        t.payees = namedPayees(shares);
    }

    /// @dev The packed list, rebuilt independently of PayeeList: 0x00, token, (account, running sum)*.
    function _packed(ILicenceRegistry.Payee[] memory payees) private view returns (bytes memory list) {
        list = abi.encodePacked(uint8(0), address(token));
        uint16 sum = 0;
        for (uint256 i; i < payees.length; ++i) {
            sum += payees[i].shareBps;
            list = abi.encodePacked(list, payees[i].account, sum);
        }
    }

    function test_publishPayees_LongListIsPublishedOnceByAnyone() public {
        ILicenceRegistry.Terms memory t = _longTerms(40);
        uint256 licenceId = registerFunded(t, 100_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
        (, uint256 count, bool published, address holder) = ledger.payoutOf(licenceId);
        assertEq(count, 40);
        assertFalse(published);
        assertEq(holder.code.length, 0);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PayeesNotPublished.selector, licenceId));
        ledger.withdraw(licenceId, t.payees[0].account);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PayeesNotPublished.selector, licenceId));
        _distribute(licenceId);

        // A wrong list is refused with both hashes.
        address[] memory accounts = new address[](40);
        for (uint256 i; i < 40; ++i) {
            accounts[i] = t.payees[i].account;
        }
        uint16[] memory wrong = sharesOf(t.payees);
        wrong[0] -= 1;
        wrong[1] += 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IRoyaltyLedger.PayeeListMismatch.selector,
                licenceId,
                keccak256(_packed(t.payees)),
                keccak256(_packedWith(t.payees, wrong))
            )
        );
        ledger.publishPayees(licenceId, accounts, wrong);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.PayeesPublished(licenceId, holder);
        publishPayees(licenceId, t.payees);
        assertEq(holder.code, _packed(t.payees));
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PayeesAlreadyPublished.selector, licenceId));
        publishPayees(licenceId, t.payees);

        // 4,500 in 40 parts of 112.5 by halving: every part 112 or 113, all of it paid.
        assertEq(_distribute(licenceId), 4_500 * USD);
        uint256[] memory parts = splitParts(4_500 * USD, sharesOf(t.payees));
        for (uint256 i; i < 40; ++i) {
            assertEq(token.balanceOf(t.payees[i].account), parts[i]);
        }
    }

    function _packedWith(ILicenceRegistry.Payee[] memory payees, uint16[] memory shares)
        private
        view
        returns (bytes memory list)
    {
        list = abi.encodePacked(uint8(0), address(token));
        uint16 sum = 0;
        for (uint256 i; i < payees.length; ++i) {
            sum += shares[i];
            list = abi.encodePacked(list, payees[i].account, sum);
        }
    }

    function test_register_ShortListIsPublishedAtOnce() public {
        ILicenceRegistry.Terms memory t = _longTerms(32);
        uint256 licenceId = register(t);
        (,, bool published, address holder) = ledger.payoutOf(licenceId);
        assertTrue(published);
        assertEq(holder.code, _packed(t.payees));
    }

    // ------------------------------------------------------------------ fuzz: distributions, withdrawals, reference split

    /// @dev Random shares, settlements, withdrawals and distributions: in the end every payee has
    /// received exactly its reference part of all that was distributed, whatever the order.
    function testFuzz_distribute_PaysExactlyTheReferenceSplit(uint256 seed) public {
        uint256 count = 1 + seed % 12;
        uint16[] memory shares = new uint16[](count);
        uint256 left = 10_000;
        for (uint256 i; i < count; ++i) {
            uint256 share = i + 1 == count ? left : 1 + uint256(keccak256(abi.encode(seed, i))) % (left - (count - i - 1));
            if (share > left - (count - i - 1)) share = left - (count - i - 1);
            shares[i] = uint16(share);
            left -= share;
        }
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees = namedPayees(shares);
        uint256 licenceId = registerFunded(t, 10_000_000 * USD);
        for (uint32 p; p < 6; ++p) {
            uint256 r = uint256(keccak256(abi.encode(seed, "round", p)));
            settlePeriod(licenceId, p, uint128(1 + r % (1_000_000 * USD)));
            if (r % 3 == 0) {
                address payee = t.payees[(r >> 8) % count].account;
                if (ledger.claimable(licenceId, payee) != 0) ledger.withdraw(licenceId, payee);
            }
            if (r % 2 == 0) _distribute(licenceId);
        }
        (uint256 paidUpTo,,,) = ledger.payoutOf(licenceId);
        if (paidUpTo != ledger.distributedOf(licenceId)) _distribute(licenceId);
        uint256[] memory parts = splitParts(ledger.distributedOf(licenceId), sharesOf(t.payees));
        uint256 sum = 0;
        for (uint256 i; i < count; ++i) {
            assertEq(token.balanceOf(t.payees[i].account), parts[i], "the reference part");
            assertEq(ledger.claimable(licenceId, t.payees[i].account), 0);
            sum += parts[i];
        }
        assertEq(sum, ledger.distributedOf(licenceId), "exact in sum");
    }
}
