// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Gas of a settlement as one transaction (21,000 base and calldata included) in the
/// life issue 13 targets: a licence reporting calendar quarters, one payee, a 1-of-3 oracle
/// signature, one bucket, final at once (no dispute window), funded escrow, no withholding.
/// @dev Run with `--isolate` (`make gas` does): each call of the test is then its own
/// transaction and `vm.lastCallGas()` / the named snapshots are per-transaction figures.
contract SettlementGasTest is Base {
    /// @dev 2024-01-01 00:00 UTC: the licence starts on a quarter, contract years are calendar years.
    uint64 internal constant Q_START = 1_704_067_200;

    uint256 internal licenceId;

    function setUp() public override {
        super.setUp();
        vm.warp(Q_START + 12 hours);
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.start = Q_START;
        t.term.end = Q_START + 4 * 365 days;
        t.term.periodSeconds = 0;
        t.term.calendar.periodMonths = 3;
        t.term.calendar.yearMonth = 1;
        t.term.calendar.yearDay = 1;
        t.taxBps = 0;
        t.taxAccount = address(0);
        t.threshold = 1;
        t.payees = new ILicenceRegistry.Payee[](1);
        t.payees[0] = ILicenceRegistry.Payee({account: licensor, shareBps: 10_000});
        licenceId = registerFunded(t, 1_000_000 * USD);
    }

    function _report(uint32 period) private returns (IRoyaltyLedger.Report memory r, bytes[] memory sigs) {
        (, uint64 end,) = registry.periodBounds(licenceId, period);
        if (block.timestamp < end) vm.warp(end);
        r = makeReport(licenceId, period, salesOf(100_000 * USD));
        sigs = signReport(r, 1);
    }

    function _settle(uint32 period, string memory name) private returns (uint256 gas) {
        (IRoyaltyLedger.Report memory r, bytes[] memory sigs) = _report(period);
        vm.prank(relayer);
        ledger.settleReports(asBatch(r), asBatch(sigs));
        gas = vm.lastCallGas().gasTotalUsed;
        if (bytes(name).length != 0) {
            vm.snapshotGasLastCall(name);
            console.log(name, gas);
        }
    }

    function test_settleGas_firstReportOfLicence() public {
        _settle(0, "tx: first report of a licence (2024-Q1)");
        assertEq(ledger.settlement(ledger.settledPeriod(licenceId, 0)).paid, 5_000 * USD);
    }

    function test_settleGas_steadyState() public {
        _settle(0, "");
        _settle(1, "tx: steady report (2024-Q2)");
        assertEq(ledger.distributedOf(licenceId), 10_000 * USD);
    }

    function test_settleGas_firstOfYear() public {
        for (uint32 q; q < 4; ++q) {
            _settle(q, "");
        }
        _settle(4, "tx: first report of contract year 2 (2025-Q1)");
        assertEq(ledger.distributedOf(licenceId), 25_000 * USD);
    }

    function test_settleGas_batchOfTen() public {
        _settle(0, "");
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](10);
        bytes[][] memory sigs = new bytes[][](10);
        (, uint64 end,) = registry.periodBounds(licenceId, 10);
        vm.warp(end);
        for (uint32 i; i < 10; ++i) {
            reports[i] = makeReport(licenceId, i + 1, uint64(i + 2), salesOf(100_000 * USD));
            sigs[i] = signReport(reports[i], 1);
        }
        vm.prank(relayer);
        ledger.settleReports(reports, sigs);
        uint256 gas = vm.lastCallGas().gasTotalUsed;
        vm.snapshotGasLastCall("tx: batch of 10 steady reports");
        console.log("tx: batch of 10 steady reports, per report", gas / 10);
        assertEq(ledger.distributedOf(licenceId), 55_000 * USD);
    }
}
