// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {Base} from "./Base.t.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";

/// @notice What sales in other currencies cost a settlement: one licence's first report, one
/// bucket, with its sales in 0 (the single-currency baseline), 1, 3 and 10 other currencies.
/// The figures are logged (`forge test --match-contract CurrencyGasTest -vv`, and `make bench`
/// reads them); what is asserted is that each report settles at the royalty its sales give.
/// Each case starts from the same chain state (a state snapshot is reverted between them), so the
/// differences are the conversions' own cost.
contract CurrencyGasTest is Base {
    bytes3[10] internal codes = [bytes3("AUD"), "CAD", "CHF", "EUR", "GBP", "JPY", "NOK", "SEK", "SGD", "ZAR"];
    bytes16 internal constant ECB = "ECB";

    /// @dev 200.00 USD of the bucket's own, then 100.00 of each currency (10,000 minor units at a
    /// rate of 1): 10,000 x 1e18 x 10^6 / 10^20 = 100,000,000 units each.
    function _settleWith(uint256 currencies) internal returns (uint256 gasUsed) {
        uint256 snapshot = vm.snapshotState();
        ILicenceRegistry.Terms memory t = defaultTerms();
        (t.term.calendar.fxRule, t.term.calendar.fxSource) = (1, ECB);
        uint256 id = registerFunded(t, 10_000 * USD);
        warpPastPeriod(0);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(2, 0, 0, 10, uint128(200 * USD + currencies * 100 * USD), 0);
        IRoyaltyLedger.Report memory r = makeReport(id, 0, buckets);
        r.fx = new IRoyaltyLedger.Conversion[](currencies);
        for (uint256 i; i < currencies; ++i) {
            r.fx[i] = IRoyaltyLedger.Conversion({
                bucket: 0,
                currency: codes[i],
                minorUnits: 2,
                rateDay: periodEnd(0) - 1 days,
                rate: 1e18,
                gross: 10_000,
                deductions: 0
            });
        }
        bytes[] memory sigs = signReport(r, registry.settlementContext(id).threshold);
        IRoyaltyLedger.Report[] memory reports = asBatch(r);
        bytes[][] memory sets = asBatch(sigs);
        vm.prank(relayer);
        uint256 before = gasleft();
        uint256 sid = ledger.settleReports(reports, sets)[0];
        gasUsed = before - gasleft();
        // 5% of (200 + 100 x currencies) USD.
        assertEq(ledger.settlement(sid).royalty, (200 * USD + currencies * 100 * USD) * 500 / 10_000);
        vm.revertToState(snapshot);
    }

    function test_gas_reportWithCurrencies() public {
        uint256 base = _settleWith(0);
        console.log("settle, single-currency report:", base);
        uint256[3] memory counts = [uint256(1), 3, 10];
        for (uint256 i; i < counts.length; ++i) {
            uint256 used = _settleWith(counts[i]);
            console.log("settle with currencies / gas / more than single-currency:", counts[i], used, used - base);
        }
    }
}
