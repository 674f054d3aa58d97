// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {console} from "forge-std/console.sol";

import {ILicenceRegistry} from "../../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "../Base.t.sol";
import {LedgerHandler} from "./LedgerHandler.sol";

/// @notice Money invariants of the ledger under random sequences of deposits, signed reports,
/// guarantee charges, disputes and resolutions, withdrawals of every kind, terminations and time.
/// Four licences differ in payees, withholding, dispute window, threshold, schedule, period and
/// date rule: two charge late-payment interest (10%), one of them with calendar quarters and
/// calendar contract years, and the handler often reports late, so interest settlements are part
/// of every sum below.
contract LedgerInvariantTest is Base {
    LedgerHandler internal handler;
    uint256[] internal licenceIds;
    mapping(uint256 licenceId => uint16) internal taxBpsOf;

    function setUp() public override {
        super.setUp();
        handler = new LedgerHandler(registry, ledger, token, _actors());
        _registerLicences();

        bytes4[] memory selectors = new bytes4[](17);
        selectors[0] = LedgerHandler.deposit.selector;
        selectors[1] = LedgerHandler.withdraw.selector;
        selectors[2] = LedgerHandler.withdrawTax.selector;
        selectors[3] = LedgerHandler.withdrawEscrow.selector;
        selectors[4] = LedgerHandler.releaseMatured.selector;
        selectors[5] = LedgerHandler.settleReport.selector;
        selectors[6] = LedgerHandler.settleReport.selector; // reports twice as often
        selectors[7] = LedgerHandler.chargeMinimumGuarantee.selector;
        selectors[8] = LedgerHandler.dispute.selector;
        selectors[9] = LedgerHandler.resolve.selector;
        selectors[10] = LedgerHandler.warp.selector;
        selectors[11] = LedgerHandler.terminateByConsent.selector;
        selectors[12] = LedgerHandler.noticeBreach.selector;
        selectors[13] = LedgerHandler.terminateForCause.selector;
        selectors[14] = LedgerHandler.correct.selector;
        selectors[15] = LedgerHandler.distribute.selector;
        selectors[16] = LedgerHandler.withdrawMany.selector;
        targetSelector(StdInvariant.FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function _actors() private view returns (LedgerHandler.Actors memory a) {
        a.licensor = licensor;
        a.licensorKey = licensorKey;
        a.licensee = licensee;
        a.licenseeKey = licenseeKey;
        a.arbiter = arbiter;
        a.taxAccount = taxAccount;
        a.relayer = relayer;
        a.oracleKeys = sortedOracleKeys;
    }

    function _registerLicences() private {
        // 1: the defaults, an advance and a minimum guarantee, final at once, 10% interest.
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.advance = 5_000 * USD;
        t.schedule.minimumGuarantee = 30_000 * USD;
        t.term.calendar.interestBps = 1_000;
        _add(t);

        // 2: three payees, 5% withheld, marginal tiers, a field rate, 5-day window, 3 of 3 oracles.
        t = defaultTerms();
        t.salt = "two";
        t.disputeWindow = 5 days;
        uint16[] memory shares = new uint16[](3);
        (shares[0], shares[1], shares[2]) = (4_000, 3_500, 2_500);
        t.payees = namedPayees(shares);
        t.taxBps = 500;
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](2);
        t.schedule.tiers[0] = tier(0, 300);
        t.schedule.tiers[1] = tier(50_000 * USD, 600);
        t.schedule.fieldRates = new ILicenceRegistry.FieldRate[](1);
        t.schedule.fieldRates[0] = fieldRate(1, 800);
        t.threshold = 3;
        _add(t);

        // 3: one payee, no withholding, fixed fee and per unit, a guarantee, 30-day periods, 2-day
        // window, 1 oracle.
        t = defaultTerms();
        t.salt = "three";
        t.disputeWindow = 2 days;
        t.payees = new ILicenceRegistry.Payee[](1);
        t.payees[0] = ILicenceRegistry.Payee({account: licensor, shareBps: 10_000});
        t.taxBps = 0;
        t.taxAccount = address(0);
        t.schedule.rateBps = 200;
        t.schedule.fixedFeePerPeriod = 500 * USD;
        t.schedule.perUnit = 1 * USD;
        t.schedule.minimumGuarantee = 20_000 * USD;
        t.threshold = 1;
        t.term.periodSeconds = 30 days;
        t.advance = 1_000 * USD;
        _add(t);

        // 4: calendar quarters (the first one 2023-11-15..2024-01-01), calendar contract years,
        // 10% interest, due in 20 days, a 3-day window, tiers, a guarantee and an advance, a 15%
        // reserve against returns held for two periods, audit costs above a 5% underpayment.
        t = defaultTerms();
        t.salt = "four";
        t.term.periodSeconds = 0;
        t.term.calendar = ILicenceRegistry.Calendar({
            periodMonths: 3, anniversary: false, yearMonth: 1, yearDay: 1, dueDays: 20, interestBps: 1_000,
            reserveBps: 1_500, reservePeriods: 2, auditThresholdBps: 500, fxRule: 0, fxSource: bytes16(0)
        });
        t.disputeWindow = 3 days;
        t.schedule.rateBps = 0;
        t.schedule.tiers = new ILicenceRegistry.Tier[](2);
        t.schedule.tiers[0] = tier(0, 200);
        t.schedule.tiers[1] = tier(100_000 * USD, 500);
        t.schedule.minimumGuarantee = 15_000 * USD;
        t.advance = 2_000 * USD;
        _add(t);
    }

    function _add(ILicenceRegistry.Terms memory t) private {
        uint256 licenceId = register(t);
        licenceIds.push(licenceId);
        taxBpsOf[licenceId] = t.taxBps;
        handler.addLicence(licenceId, t.advance);
    }

    // ------------------------------------------------------------------ invariants

    /// @notice Every token that entered the ledger is there or left through a withdrawal, to the wei.
    function invariant_conservation() public view {
        uint256 expected = handler.ghost_deposited() + handler.ghost_advances() - handler.ghost_payeeWithdrawn()
            - handler.ghost_taxWithdrawn() - handler.ghost_escrowWithdrawn();
        assertEq(token.balanceOf(address(ledger)), expected);
    }

    /// @notice The ledger holds at least what it owes: escrow, amounts held pending or disputed,
    /// payee balances and withholding; in fact exactly that.
    function invariant_solvency() public view {
        int256 owed;
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            owed += int256(ledger.escrowOf(id)) + int256(ledger.taxClaimable(id));
            owed += int256(ledger.distributedOf(id)) - int256(handler.ghost_payeeWithdrawnOf(id));
        }
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            owed += int256(uint256(st.paid) - st.released);
        }
        int256 balance = int256(token.balanceOf(address(ledger)));
        assertGe(balance, owed, "insolvent");
        assertEq(balance, owed, "unaccounted tokens");
    }

    /// @notice No payee has withdrawn more than it is entitled to, so every claim is covered;
    /// checked for every licence, the three-payee one included.
    function invariant_payeeClaimsCovered() public view {
        for (uint256 i; i < licenceIds.length; ++i) {
            (address[] memory payees,) = ledger.payeesOf(licenceIds[i]);
            for (uint256 j; j < payees.length; ++j) {
                (uint256 entitled, uint256 withdrawn) = ledger.payeeTotals(licenceIds[i], payees[j]);
                assertGe(entitled, withdrawn, "payee over-withdrew");
            }
        }
    }

    /// @notice Each period of each licence settled at most once, and the ledger agrees.
    function invariant_periodSettledAtMostOnce() public view {
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            uint32[] memory periods = handler.periodsSettled(id);
            for (uint256 j; j < periods.length; ++j) {
                assertEq(handler.ghost_timesSettled(id, periods[j]), 1, "period settled twice");
                uint256 settlementId = ledger.settledPeriod(id, periods[j]);
                IRoyaltyLedger.Settlement memory s = ledger.settlement(settlementId);
                assertEq(s.licenceId, id);
                assertEq(s.period, periods[j]);
                assertEq(uint8(s.kind), uint8(IRoyaltyLedger.Kind.Report));
            }
        }
    }

    /// @notice Each settled period has one original (kind Report) and a chain of corrections: its
    /// latest settlement is the original or an Adjustment or Audit of the same period.
    /// Reserves are held or final, never pending or disputed, and belong to a reserve licence.
    function invariant_periodChainsAndReserves() public view {
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            uint32[] memory periods = handler.periodsSettled(id);
            for (uint256 j; j < periods.length; ++j) {
                IRoyaltyLedger.Settlement memory latest = ledger.settlement(ledger.latestOfPeriod(id, periods[j]));
                assertEq(latest.period, periods[j], "chain of another period");
                assertTrue(
                    latest.kind == IRoyaltyLedger.Kind.Report || latest.kind == IRoyaltyLedger.Kind.Adjustment
                        || latest.kind == IRoyaltyLedger.Kind.Audit,
                    "latest of a period is not a report or correction"
                );
            }
        }
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            if (st.kind != IRoyaltyLedger.Kind.Reserve) {
                assertTrue(st.state != IRoyaltyLedger.State.Held, "held but not a reserve");
                continue;
            }
            assertEq(st.licenceId, licenceIds[3], "reserve without the clause");
            assertTrue(st.state == IRoyaltyLedger.State.Held || st.state == IRoyaltyLedger.State.Final, "reserve state");
        }
    }

    /// @notice Payees are stored ascending by address, with running sums of their shares.
    function invariant_payeesAscendingWithPrefixSums() public view {
        for (uint256 i; i < licenceIds.length; ++i) {
            (address[] memory payees, uint16[] memory prefixBps) = ledger.payeesOf(licenceIds[i]);
            assertEq(prefixBps.length, payees.length + 1);
            assertEq(prefixBps[0], 0);
            assertEq(prefixBps[payees.length], 10_000);
            for (uint256 j = 1; j < payees.length; ++j) {
                assertLt(uint160(payees[j - 1]), uint160(payees[j]), "payees not ascending");
            }
        }
    }

    /// @notice Distributions and multi-licence claims pay exactly what they report, every payee's
    /// paid total (its withdrawals, claims and distributions) adds up to what left for the
    /// licence's payees, and no distribution watermark runs ahead of what was distributed.
    function invariant_payoutsAddUp() public view {
        assertEq(handler.ghost_distributionMismatches(), 0, "a payout paid other than it reported");
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            (address[] memory payees,) = ledger.payeesOf(id);
            uint256 paid = 0;
            for (uint256 j; j < payees.length; ++j) {
                (, uint256 withdrawn) = ledger.payeeTotals(id, payees[j]);
                paid += withdrawn;
            }
            assertEq(paid, handler.ghost_payeeWithdrawnOf(id), "paid totals");
            (uint256 paidUpTo,,,) = ledger.payoutOf(id);
            assertLe(paidUpTo, ledger.distributedOf(id), "watermark ahead");
        }
    }

    /// @notice A payee's part never decreases as more is distributed, and `claimable` never
    /// reverts (watched by the handler after every action).
    function invariant_payeePartsNeverDecrease() public view {
        assertEq(handler.ghost_partDecreases(), 0, "a payee's part decreased");
        assertEq(handler.ghost_claimableReverts(), 0, "claimable reverted");
    }

    /// @notice No payee's claimable amount ever decreases, except by the payee's own withdrawals
    /// (watched by the handler after every action, against the tokens the payee received).
    function invariant_claimableNeverDecreasesButByWithdrawal() public view {
        assertEq(handler.ghost_claimableDecreases(), 0, "a payee's claimable decreased");
    }

    /// @notice Interest settlements are final at once and never recouped from the advance (due is
    /// the whole interest); they belong to a licence that charges interest, and follow the
    /// settlement they charge interest on.
    function invariant_interestSettlementsFinalAndUnrecouped() public view {
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            if (st.kind != IRoyaltyLedger.Kind.Interest) continue;
            assertEq(uint8(st.state), uint8(IRoyaltyLedger.State.Final), "interest not final");
            assertEq(st.due, st.royalty, "interest recouped");
            assertGt(st.royalty, 0);
            assertTrue(st.licenceId == licenceIds[0] || st.licenceId == licenceIds[3], "interest without a rate");
            // Due when charged: its record keeps the time it settled only while it is unpaid.
            if (st.settledAt != 0) assertEq(st.dueAt, st.settledAt, "interest is due when charged");
            else assertEq(st.paid, st.due, "a record without its settlement time is paid in full");
        }
    }

    /// @notice For each licence, the sum over its payees of payeeTotals.entitled equals
    /// distributedOf, exactly (all licences, whatever their number of payees).
    function invariant_splitPartsSumExactly() public view {
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            (address[] memory payees,) = ledger.payeesOf(id);
            uint256 sum;
            for (uint256 j; j < payees.length; ++j) {
                (uint256 entitled,) = ledger.payeeTotals(id, payees[j]);
                sum += entitled;
            }
            assertEq(sum, ledger.distributedOf(id));
        }
    }

    /// @notice Arrears are the unpaid part of every settlement; escrow exists only without arrears.
    function invariant_arrearsMatchSettlements() public view {
        uint256[] memory unpaid = _perLicence();
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            unpaid[_index(st.licenceId)] += st.due - st.paid;
        }
        for (uint256 i; i < licenceIds.length; ++i) {
            assertEq(ledger.arrearsOf(licenceIds[i]), unpaid[i], "arrears");
            if (ledger.escrowOf(licenceIds[i]) > 0) assertEq(unpaid[i], 0, "escrow idle while arrears");
        }
    }

    /// @notice The disputed part of arrears is exactly what is unpaid on settlements under dispute.
    function invariant_disputedArrearsMatchDisputes() public view {
        uint256[] memory contested = _perLicence();
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            if (st.state == IRoyaltyLedger.State.Disputed) contested[_index(st.licenceId)] += st.due - st.paid;
        }
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            assertEq(ledger.arrearsOf(id) - ledger.undisputedArrearsOf(id), contested[i], "disputed arrears");
        }
    }

    /// @notice Per settlement: released <= paid <= due <= royalty; final ones are fully released,
    /// others not at all.
    function invariant_settlementAmountsOrdered() public view {
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            assertLe(st.released, st.paid);
            assertLe(st.paid, st.due);
            assertLe(st.due, st.royalty);
            if (st.state == IRoyaltyLedger.State.Final) assertEq(st.released, st.paid, "final not released");
            else assertEq(st.released, 0, "released before final");
        }
    }

    /// @notice Withholding is exactly floor(released * taxBps / 10,000) per settlement, and the
    /// rest of every release went to the payees.
    function invariant_withholdingExact() public view {
        uint256[] memory released = _perLicence();
        uint256[] memory tax = _perLicence();
        uint256 count = ledger.settlementCount();
        for (uint256 s = 1; s <= count; ++s) {
            IRoyaltyLedger.Settlement memory st = ledger.settlement(s);
            uint256 i = _index(st.licenceId);
            released[i] += st.released;
            // an audit cost reimburses the payees: nothing is withheld from it
            if (st.kind != IRoyaltyLedger.Kind.AuditCost) tax[i] += uint256(st.released) * taxBpsOf[st.licenceId] / 10_000;
        }
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            assertEq(ledger.taxClaimable(id) + handler.ghost_taxWithdrawnOf(id), tax[i], "withholding");
            assertEq(ledger.distributedOf(id), released[i] - tax[i], "distributed");
        }
    }

    /// @notice A disputed settlement can always be resolved with any amount up to what was due.
    function invariant_disputesResolvable() public view {
        assertEq(handler.ghost_resolveFailures(), 0);
    }

    /// @notice What the handler managed to do in a run (printed with -vv; `calls` counts attempts).
    function afterInvariant() public view {
        uint256 interest;
        for (uint256 s = 1; s <= ledger.settlementCount(); ++s) {
            if (ledger.settlement(s).kind == IRoyaltyLedger.Kind.Interest) ++interest;
        }
        console.log("interest settlements", interest, "late reports", handler.ghost_lateReports());
        uint256 reserves;
        uint256 auditCosts;
        for (uint256 s = 1; s <= ledger.settlementCount(); ++s) {
            IRoyaltyLedger.Kind kind = ledger.settlement(s).kind;
            if (kind == IRoyaltyLedger.Kind.Reserve) ++reserves;
            if (kind == IRoyaltyLedger.Kind.AuditCost) ++auditCosts;
        }
        console.log("reserves", reserves, "audit costs", auditCosts);
        bytes32[11] memory actions = [
            bytes32("settleReport"), "correct", "chargeGuarantee", "dispute", "resolve", "withdraw", "withdrawTax",
            "withdrawEscrow", "noticeBreach", "terminateForCause", "terminateByConsent"
        ];
        for (uint256 i; i < actions.length; ++i) {
            console.log(
                string(abi.encodePacked(actions[i])), handler.successes(actions[i]), "of", handler.calls(actions[i])
            );
        }
    }

    // ------------------------------------------------------------------ helpers

    function _perLicence() private view returns (uint256[] memory) {
        return new uint256[](licenceIds.length);
    }

    function _index(uint256 licenceId) private view returns (uint256) {
        for (uint256 i; i < licenceIds.length; ++i) {
            if (licenceIds[i] == licenceId) return i;
        }
        revert("unknown licence");
    }
}
