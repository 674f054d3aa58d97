// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice Late-payment interest against its written rule, for any rate, amount and delay:
/// floor(principal * bps * seconds late / (10,000 * 365 days)), charged as its own final
/// settlement, and nothing at all when paid on or before the due date.
contract InterestFuzzTest is Base {
    function testFuzz_interest_OnALateSettlementIsTheSimpleActual365Formula(
        uint16 rateBps,
        uint64 gross,
        uint32 secondsLate
    ) public {
        rateBps = uint16(bound(rateBps, 0, 10_000));
        gross = uint64(bound(gross, 1, 10_000_000 * USD));
        secondsLate = uint32(bound(secondsLate, 0, 3 * 365 days));
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.interestBps = rateBps;
        uint256 licenceId = register(t);
        deposit(licenceId, uint256(gross)); // 5% of gross is due: escrow pays it all at once
        (,, uint64 dueAt) = registry.periodBounds(licenceId, 0);
        vm.warp(uint256(dueAt) + secondsLate);
        uint256 count = ledger.settlementCount();
        uint256 id = settle(makeReport(licenceId, 0, salesOf(gross)));
        uint256 principal = ledger.settlement(id).paid;
        assertEq(principal, uint256(gross) * RATE_BPS / 10_000, "5% of net sales, drawn from escrow");
        uint256 expected = principal * rateBps * secondsLate / (10_000 * 365 days);
        if (expected == 0) {
            assertEq(ledger.settlementCount(), count + 1, "no interest settlement");
            return;
        }
        assertEq(ledger.settlementCount(), count + 2, "one interest settlement");
        IRoyaltyLedger.Settlement memory interest = ledger.settlement(id + 1);
        assertEq(uint8(interest.kind), uint8(IRoyaltyLedger.Kind.Interest));
        assertEq(interest.royalty, expected, "interest");
        assertEq(uint8(interest.state), uint8(IRoyaltyLedger.State.Final));
        assertEq(interest.period, 0);
    }
}
