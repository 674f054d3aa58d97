// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";
import {console} from "forge-std/console.sol";

/// @notice Splitting royalties among payees and the tax account; pull withdrawals.
contract SplitTest is Base {
    function _feeTerms(uint128 fee) private view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.schedule.rateBps = 0;
        t.schedule.fixedFeePerPeriod = fee;
    }

    function _threePayees(uint16 a, uint16 b, uint16 c) private returns (ILicenceRegistry.Payee[] memory) {
        uint16[] memory shares = new uint16[](3);
        (shares[0], shares[1], shares[2]) = (a, b, c);
        return namedPayees(shares);
    }

    function _withdraw(uint256 licenceId, address payee) private returns (uint256 amount) {
        vm.prank(stranger);
        amount = ledger.withdraw(licenceId, payee);
    }

    function test_withdraw_ExactPartsByHalving() public {
        ILicenceRegistry.Terms memory t = _feeTerms(100);
        t.payees = _threePayees(3333, 3333, 3334); // payee0 3333, payee1 3333, payee2 3334
        t.taxBps = 0;
        address p0 = payeeNamed(0);
        address p1 = payeeNamed(1);
        address p2 = payeeNamed(2);
        // Ascending by address: [payee2 (0x9b01) 3334, payee1 (0xFc71) 3333, payee0 (0xFd40) 3333].
        assertEq(t.payees[0].account, p2);
        assertEq(t.payees[1].account, p1);
        assertEq(t.payees[2].account, p0);
        uint256 licenceId = register(t);
        deposit(licenceId, 100);
        settlePeriod(licenceId, 0, 0);

        // [0, 3): mid 1. payee2 gets floor(100 * 3334 / 10,000) = floor(33.34) = 33; the rest, 67,
        // goes to [1, 3): mid 2. payee1 gets floor(67 * 3333 / 6,666) = floor(33.5) = 33, payee0 34.
        // No "first payee remainder" rule any more: the largest share gets 33 here.
        assertEq(ledger.claimable(licenceId, p2), 33);
        assertEq(ledger.claimable(licenceId, p1), 33);
        assertEq(ledger.claimable(licenceId, p0), 34);
        assertEq(_withdraw(licenceId, p0), 34);
        assertEq(_withdraw(licenceId, p1), 33);
        assertEq(_withdraw(licenceId, p2), 33);
        assertEq(token.balanceOf(p0), 34);
        assertEq(token.balanceOf(p1), 33);
        assertEq(token.balanceOf(p2), 33);
        assertEq(token.balanceOf(address(ledger)), 0, "nothing left behind");
    }

    function test_withdraw_ExactPartsUnevenShares() public {
        ILicenceRegistry.Terms memory t = _feeTerms(1_000);
        t.payees = _threePayees(5000, 2999, 2001); // sorted: [payee2 2001, payee1 2999, payee0 5000]
        t.taxBps = 0;
        uint256 licenceId = register(t);
        deposit(licenceId, 999);
        settlePeriod(licenceId, 0, 0); // 1,000 due, 999 paid, 1 arrears: 999 distributed

        assertEq(ledger.distributedOf(licenceId), 999);
        // [0, 3) mid 1: payee2 floor(999 * 2001 / 10,000) = floor(199.8999) = 199; rest 800.
        // [1, 3) mid 2: payee1 floor(800 * 2999 / 7,999) = floor(299.9374...) = 299; payee0 501.
        // Exact shares would be 199.9 / 299.6 / 499.5: every part is within 2 = ceil(log2 3) units.
        assertEq(ledger.claimable(licenceId, payeeNamed(2)), 199);
        assertEq(ledger.claimable(licenceId, payeeNamed(1)), 299);
        assertEq(ledger.claimable(licenceId, payeeNamed(0)), 501);

        deposit(licenceId, 1); // the last wei: 1,000 distributed
        // [0, 3): payee2 floor(1,000 * 2001 / 10,000) = 200; rest 800 splits as before: 299 / 501.
        assertEq(ledger.claimable(licenceId, payeeNamed(2)), 200);
        assertEq(ledger.claimable(licenceId, payeeNamed(1)), 299);
        assertEq(ledger.claimable(licenceId, payeeNamed(0)), 501);
    }

    function test_withdraw_TaxAndSharesExact() public {
        uint256 licenceId = register(_feeTerms(1_000_001));
        deposit(licenceId, 1_000_001);
        uint256 id = settlePeriod(licenceId, 0, 0);
        assertSettlement(id, IRoyaltyLedger.State.Final, 1_000_001, 1_000_001, 1_000_001, 1_000_001);
        // tax floor(100,000.1) = 100,000; payees share 900,001
        assertEq(ledger.taxClaimable(licenceId), 100_000);
        assertEq(ledger.distributedOf(licenceId), 900_001);
        // [licensor 7000, coOwner 3000] (ascending): licensor, the first half, gets
        // floor(900,001 * 7,000 / 10,000) = floor(630,000.7) = 630,000; coOwner the rest, 270,001.
        assertEq(ledger.claimable(licenceId, licensor), 630_000);
        assertEq(ledger.claimable(licenceId, coOwner), 270_001);
        assertEq(_withdraw(licenceId, licensor) + _withdraw(licenceId, coOwner) + ledger.withdrawTax(licenceId), 1_000_001);
        assertEq(token.balanceOf(address(ledger)), 0);
    }

    function test_withdrawTax_InstalmentsWithholdExactly() public {
        uint256 licenceId = register(_feeTerms(15));
        uint256 id = settlePeriod(licenceId, 0, 0); // 15 wei owed, all arrears
        // Withholding follows the cumulative amount paid: floor(5%)=0, floor(10%)=1, floor(15%)=1.
        deposit(licenceId, 5);
        assertEq(ledger.taxClaimable(licenceId), 0);
        deposit(licenceId, 5);
        assertEq(ledger.taxClaimable(licenceId), 1);
        deposit(licenceId, 5);
        assertEq(ledger.taxClaimable(licenceId), 1, "floor(15 * 10%)");
        assertEq(ledger.distributedOf(licenceId), 14);
        assertSettlement(id, IRoyaltyLedger.State.Final, 15, 15, 15, 15);
    }

    function test_withdrawTax_PaysTaxAccount() public {
        uint256 licenceId = registerDefault();
        deposit(licenceId, 10_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Withdrawn(licenceId, taxAccount, 500 * USD, true);
        vm.prank(stranger);
        assertEq(ledger.withdrawTax(licenceId), 500 * USD);
        assertEq(token.balanceOf(taxAccount), 500 * USD);
        assertEq(ledger.taxClaimable(licenceId), 0);

        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToWithdraw.selector, licenceId, taxAccount));
        ledger.withdrawTax(licenceId);
    }

    function test_withdrawTax_RevertWhen_NoWithholding() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.taxBps = 0;
        t.taxAccount = address(0);
        uint256 licenceId = register(t);
        deposit(licenceId, 10_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToWithdraw.selector, licenceId, address(0)));
        ledger.withdrawTax(licenceId);
        assertEq(ledger.claimable(licenceId, licensor), 3_500 * USD);
    }

    function test_withdrawTax_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 4));
        ledger.withdrawTax(4);
    }

    function test_withdraw_AnyoneCanTriggerForPayee() public {
        uint256 licenceId = registerDefault();
        deposit(licenceId, 10_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IRoyaltyLedger.Withdrawn(licenceId, coOwner, 1_350 * USD, false);
        vm.prank(relayer);
        uint256 amount = ledger.withdraw(licenceId, coOwner);
        assertEq(amount, 1_350 * USD);
        assertEq(token.balanceOf(coOwner), 1_350 * USD, "the money goes to the payee");
        assertEq(token.balanceOf(relayer), 0);
        (uint256 entitled, uint256 withdrawn) = ledger.payeeTotals(licenceId, coOwner);
        assertEq(entitled, 1_350 * USD);
        assertEq(withdrawn, 1_350 * USD);
        assertEq(ledger.claimable(licenceId, coOwner), 0);
    }

    function test_withdraw_RevertWhen_NothingToWithdraw() public {
        uint256 licenceId = registerDefault();
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToWithdraw.selector, licenceId, licensor));
        ledger.withdraw(licenceId, licensor);

        deposit(licenceId, 10_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD);
        _withdraw(licenceId, licensor);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToWithdraw.selector, licenceId, licensor));
        ledger.withdraw(licenceId, licensor);
    }

    function test_withdraw_RevertWhen_NotPayee() public {
        uint256 licenceId = registerDefault();
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NotPayee.selector, licenceId, taxAccount));
        ledger.withdraw(licenceId, taxAccount);
        assertEq(ledger.claimable(licenceId, stranger), 0);
        (uint256 entitled, uint256 withdrawn) = ledger.payeeTotals(licenceId, stranger);
        assertEq(entitled + withdrawn, 0);
    }

    function test_withdraw_RevertWhen_UnknownLicence() public {
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownLicence.selector, 4));
        ledger.withdraw(4, licensor);
    }

    function test_withdraw_AccumulatesAcrossSettlements() public {
        uint256 licenceId = registerDefault();
        deposit(licenceId, 100_000 * USD);
        settlePeriod(licenceId, 0, 100_000 * USD); // 4,500 to payees
        assertEq(_withdraw(licenceId, licensor), 3_150 * USD);
        settlePeriod(licenceId, 1, 200_000 * USD); // 9,000 to payees
        assertEq(_withdraw(licenceId, licensor), 6_300 * USD);
        assertEq(_withdraw(licenceId, coOwner), 4_050 * USD);
        assertEq(ledger.distributedOf(licenceId), 13_500 * USD);
    }

    function test_withdraw_HundredPayeesAddUpExactly() public {
        uint16[] memory shares = new uint16[](100);
        for (uint256 i; i < 100; ++i) {
            shares[i] = 100;
        }
        ILicenceRegistry.Terms memory t = _feeTerms(1_234_567);
        t.payees = namedPayees(shares);
        uint256 licenceId = register(t);
        publishPayees(licenceId, t.payees); // longer than registration publishes
        deposit(licenceId, 1_234_567);
        settlePeriod(licenceId, 0, 0);
        uint256 distributed = ledger.distributedOf(licenceId);
        assertEq(distributed, 1_234_567 - 123_456);
        // 1,111,111 = 100 * 11,111 + 11: with equal shares every halving gives floor(amount * k / n)
        // to the first k of n, so each part is 11,111 or 11,112 and exactly 11 parts get 11,112.
        // The first halving: floor(1,111,111 * 5,000 / 10,000) = 555,555 / 555,556.
        uint256[] memory expected = splitParts(distributed, sharesOf(t.payees));
        uint256 sum;
        uint256 firstHalf;
        uint256 bigger;
        for (uint256 i; i < 100; ++i) {
            (uint256 entitled,) = ledger.payeeTotals(licenceId, t.payees[i].account);
            assertEq(entitled, expected[i], "reference model");
            assertTrue(entitled == 11_111 || entitled == 11_112, "within a unit of 1%");
            if (entitled == 11_112) ++bigger;
            if (i < 50) firstHalf += entitled;
            sum += entitled;
        }
        assertEq(bigger, 11);
        assertEq(firstHalf, 555_555);
        assertEq(sum, distributed);
    }

    /// @notice Regression: payee 0 used to get `distributed - sum(floor(distributed * share_i / 10,000))`,
    /// which shrank from 3 to 2 when distributed grew from 3 to 4 (shares 3334/3333/3333), so the
    /// ledger paid 5 for 4 distributed and `claimable` underflowed. Under the halving rule, with
    /// [payee2 3333, payee1 3333, payee0 3334] (ascending by address):
    ///   distributed 3: payee2 floor(3 * 3333 / 10,000) = 0; rest 3: payee1 floor(3 * 3333 / 6,667) = 1, payee0 2
    ///   distributed 4: payee2 floor(4 * 3333 / 10,000) = 1; rest 3: payee1 1, payee0 2
    /// so no part decreases and the payees are paid exactly the 4 distributed.
    function test_withdraw_PartsNeverDecreaseNoOverpay() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.schedule.rateBps = 10_000; // the royalty is the net sales, to the wei
        t.taxBps = 0;
        t.payees = _threePayees(3334, 3333, 3333);
        uint256 licenceId = register(t);
        deposit(licenceId, 100);
        address p0 = payeeNamed(0);
        address p1 = payeeNamed(1);
        address p2 = payeeNamed(2);

        settlePeriod(licenceId, 0, 3);
        assertEq(ledger.claimable(licenceId, p2), 0);
        assertEq(ledger.claimable(licenceId, p1), 1);
        assertEq(ledger.claimable(licenceId, p0), 2);
        assertEq(_withdraw(licenceId, p0), 2, "payee0 takes its part at 3");
        settlePeriod(licenceId, 1, 1);
        assertEq(ledger.claimable(licenceId, p0), 0, "claimable does not revert, nothing new");
        (uint256 entitled0,) = ledger.payeeTotals(licenceId, p0);
        assertEq(entitled0, 2, "payee0's part did not shrink");
        assertEq(_withdraw(licenceId, p1), 1);
        assertEq(_withdraw(licenceId, p2), 1);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.NothingToWithdraw.selector, licenceId, p0));
        ledger.withdraw(licenceId, p0);

        assertEq(ledger.distributedOf(licenceId), 4);
        assertEq(token.balanceOf(p0) + token.balanceOf(p1) + token.balanceOf(p2), 4, "paid exactly the distributed");
        assertEq(ledger.escrowOf(licenceId), 96);
        assertEq(token.balanceOf(address(ledger)), ledger.escrowOf(licenceId), "escrow intact");

        // Keep going one wei at a time, withdrawing greedily: every part only grows, claimable
        // never reverts, and the payees never receive more than was distributed.
        uint256[3] memory last = [uint256(2), 1, 1];
        address[3] memory who = [p0, p1, p2];
        for (uint32 period = 2; period < 12; ++period) {
            settlePeriod(licenceId, period, period % 3 == 0 ? 2 : 1);
            uint256 paidOut;
            for (uint256 k; k < 3; ++k) {
                (uint256 entitled,) = ledger.payeeTotals(licenceId, who[k]);
                assertGe(entitled, last[k], "part decreased");
                last[k] = entitled;
                if (ledger.claimable(licenceId, who[k]) > 0) _withdraw(licenceId, who[k]);
                paidOut += token.balanceOf(who[k]);
            }
            assertEq(paidOut, ledger.distributedOf(licenceId), "paid out == distributed");
            assertEq(token.balanceOf(address(ledger)), ledger.escrowOf(licenceId), "escrow intact");
        }
    }

    // ------------------------------------------------------------------ many payees

    function _equalShares(uint256 n) internal pure returns (uint16[] memory shares) {
        shares = new uint16[](n);
        uint256 each = 10_000 / n;
        for (uint256 i; i < n; ++i) {
            shares[i] = uint16(each);
        }
        shares[0] += uint16(10_000 - each * n);
    }

    function test_withdraw_250PayeesRegisterSettleWithdraw() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.payees = namedPayees(_equalShares(250)); // 40 bps each
        uint256 licenceId = _register250(t);
        _settle250(licenceId);

        // royalty floor(123,456,789 * 5%) = 6,172,839; tax floor(617,283.9) = 617,283
        uint256 distributed = ledger.distributedOf(licenceId);
        assertEq(distributed, 5_555_556);
        // 250 payees are more than registration publishes: the list is published once, by anyone.
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.PayeesNotPublished.selector, licenceId));
        ledger.payeesOf(licenceId);
        publishPayees(licenceId, t.payees);
        _checkStored250(licenceId, t.payees);
        _withdrawAll250(licenceId, t.payees, distributed);
        ledger.withdrawTax(licenceId);
        assertEq(token.balanceOf(address(ledger)), ledger.escrowOf(licenceId), "only the escrow is left");
    }

    function _register250(ILicenceRegistry.Terms memory t) private returns (uint256 licenceId) {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.prank(relayer);
        uint256 gas = gasleft();
        licenceId = registry.register(t, deadline, licensorSig, licenseeSig);
        gas -= gasleft();
        console.log("register: 250 payees", gas);
    }

    function _settle250(uint256 licenceId) private {
        deposit(licenceId, 1_000_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, salesOf(123_456_789));
        bytes[] memory sigs = signReport(r, THRESHOLD);
        vm.prank(relayer);
        uint256 gas = gasleft();
        ledger.settleReports(asBatch(r), asBatch(sigs));
        gas -= gasleft();
        console.log("settle 1 report (k=2): 250 payees", gas);
        assertLt(gas, 400_000, "settlement cost does not grow with payees");
    }

    function _checkStored250(uint256 licenceId, ILicenceRegistry.Payee[] memory payees) private view {
        (address[] memory stored, uint16[] memory prefix) = ledger.payeesOf(licenceId);
        assertEq(stored.length, 250);
        assertEq(prefix.length, 251);
        assertEq(prefix[0], 0);
        assertEq(prefix[250], 10_000);
        for (uint256 i; i < 250; ++i) {
            assertEq(stored[i], payees[i].account);
            assertEq(prefix[i + 1], prefix[i] + payees[i].shareBps);
        }
    }

    function _withdrawAll250(uint256 licenceId, ILicenceRegistry.Payee[] memory payees, uint256 distributed) private {
        uint256[] memory expected = splitParts(distributed, sharesOf(payees));
        uint256 maxGas;
        uint256 sum;
        for (uint256 i; i < 250; ++i) {
            // exact 22,222.224 each: within ceil(log2 250) = 8 units of floor, 22,222
            assertApproxEqAbs(expected[i], distributed * 40 / 10_000, 8);
            uint256 gas = gasleft();
            uint256 amount = _withdraw(licenceId, payees[i].account);
            gas -= gasleft();
            if (gas > maxGas) maxGas = gas;
            assertEq(amount, expected[i]);
            assertEq(token.balanceOf(payees[i].account), expected[i]);
            sum += amount;
        }
        console.log("withdraw: max over 250 payees", maxGas);
        assertEq(sum, distributed);
    }
}
