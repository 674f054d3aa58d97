// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {LicenceRegistry} from "../../../contracts/LicenceRegistry.sol";
import {RoyaltyLedger} from "../../../contracts/RoyaltyLedger.sol";
import {ILicenceRegistry} from "../../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../../contracts/interfaces/IRoyaltyLedger.sol";
import {TestToken} from "../../../contracts/test/TestToken.sol";

/// @notice Drives the ledger through bounded, signed, well-formed actions on a few licences and
/// keeps ghost totals of every token that entered or left it, measured on the recipients.
/// @dev Every action first restores the handler's clock, so time only moves through `warp`.
contract LedgerHandler is CommonBase, StdCheats, StdUtils {
    struct Actors {
        address licensor;
        uint256 licensorKey;
        address licensee;
        uint256 licenseeKey;
        address arbiter;
        address taxAccount;
        address relayer;
        uint256[] oracleKeys; // ascending by oracle address
    }

    LicenceRegistry public immutable registry;
    RoyaltyLedger public immutable ledger;
    TestToken public immutable token;
    Actors internal _actors;
    uint256[] public licences;
    uint256 public currentTime;

    // ------------------------------------------------------------------ ghosts

    uint256 public ghost_deposited;
    uint256 public ghost_advances;
    uint256 public ghost_payeeWithdrawn;
    uint256 public ghost_taxWithdrawn;
    uint256 public ghost_escrowWithdrawn;
    mapping(uint256 licenceId => uint256) public ghost_payeeWithdrawnOf;
    mapping(uint256 licenceId => uint256) public ghost_taxWithdrawnOf;
    /// @notice How many times a report for (licence, period) was accepted.
    mapping(uint256 licenceId => mapping(uint32 period => uint256)) public ghost_timesSettled;
    mapping(uint256 licenceId => uint32[]) internal _periodsSettled;
    uint256[] internal _disputed;
    mapping(bytes32 action => uint256) public calls;
    mapping(bytes32 action => uint256) public successes;
    /// @notice Resolutions of disputed settlements that reverted (there should be none).
    uint256 public ghost_resolveFailures;
    /// @notice Each payee's entitlement as last seen after an action.
    mapping(uint256 licenceId => mapping(address payee => uint256)) public ghost_lastEntitled;
    /// @notice Times a payee's entitlement was seen lower than after an earlier action (there should be none).
    uint256 public ghost_partDecreases;
    /// @notice Times `claimable` reverted for a payee (there should be none).
    uint256 public ghost_claimableReverts;
    /// @notice Tokens each payee received from its own withdrawals, measured on its balance.
    mapping(uint256 licenceId => mapping(address payee => uint256)) public ghost_receivedBy;
    /// @notice Each payee's claimable plus what it had received, as last seen after an action.
    mapping(uint256 licenceId => mapping(address payee => uint256)) public ghost_lastClaimablePlusReceived;
    /// @notice Distributions or claims whose returned total differed from what the payees received.
    uint256 public ghost_distributionMismatches;
    /// @notice Times a payee's claimable fell by more than it withdrew itself (there should be none).
    uint256 public ghost_claimableDecreases;
    /// @notice Reports settled after their due date.
    uint256 public ghost_lateReports;
    uint256 public ghost_audits;

    constructor(LicenceRegistry registry_, RoyaltyLedger ledger_, TestToken token_, Actors memory actors_) {
        registry = registry_;
        ledger = ledger_;
        token = token_;
        _actors = actors_;
        currentTime = block.timestamp;
    }

    /// @notice Called by the test's setUp for each licence it registered (with its advance).
    function addLicence(uint256 licenceId, uint256 advance) external {
        licences.push(licenceId);
        ghost_advances += advance;
    }

    function licenceCount() external view returns (uint256) {
        return licences.length;
    }

    function periodsSettled(uint256 licenceId) external view returns (uint32[] memory) {
        return _periodsSettled[licenceId];
    }

    modifier useTime(bytes32 action) {
        vm.warp(currentTime);
        ++calls[action];
        _;
        _watchParts();
    }

    /// @dev After every action: no payee's part may have shrunk, `claimable` must answer, and a
    /// payee's claimable may only fall by what the payee itself withdrew (so claimable plus
    /// received never decreases).
    function _watchParts() private {
        for (uint256 i; i < licences.length; ++i) {
            uint256 licenceId = licences[i];
            (address[] memory payees,) = ledger.payeesOf(licenceId);
            for (uint256 j; j < payees.length; ++j) {
                address payee = payees[j];
                (uint256 entitled,) = ledger.payeeTotals(licenceId, payee);
                if (entitled < ghost_lastEntitled[licenceId][payee]) ++ghost_partDecreases;
                ghost_lastEntitled[licenceId][payee] = entitled;
                try ledger.claimable(licenceId, payee) returns (uint256 claimable) {
                    uint256 seen = claimable + ghost_receivedBy[licenceId][payee];
                    if (seen < ghost_lastClaimablePlusReceived[licenceId][payee]) ++ghost_claimableDecreases;
                    ghost_lastClaimablePlusReceived[licenceId][payee] = seen;
                } catch {
                    ++ghost_claimableReverts;
                }
            }
        }
    }

    // ------------------------------------------------------------------ actions: money in and out

    function deposit(uint256 licenceSeed, uint256 amount) external useTime("deposit") {
        uint256 licenceId = _licence(licenceSeed);
        amount = _bound(amount, 1, 200_000e6);
        token.mint(_actors.licensee, amount);
        vm.startPrank(_actors.licensee);
        token.approve(address(ledger), amount);
        ledger.deposit(licenceId, amount);
        vm.stopPrank();
        ghost_deposited += amount;
    }

    function withdraw(uint256 licenceSeed, uint256 payeeSeed) external useTime("withdraw") {
        uint256 licenceId = _licence(licenceSeed);
        (address[] memory payees,) = ledger.payeesOf(licenceId);
        address payee = payees[payeeSeed % payees.length];
        uint256 before = token.balanceOf(payee);
        try ledger.withdraw(licenceId, payee) {
            ++successes["withdraw"];
            uint256 received = token.balanceOf(payee) - before;
            ghost_payeeWithdrawn += received;
            ghost_payeeWithdrawnOf[licenceId] += received;
            ghost_receivedBy[licenceId][payee] += received;
        } catch {}
    }

    /// @notice Anyone distributes a licence: every payee's receipt counts as its withdrawal.
    function distribute(uint256 licenceSeed) external useTime("distribute") {
        uint256 licenceId = _licence(licenceSeed);
        (address[] memory payees,) = ledger.payeesOf(licenceId);
        uint256[] memory before = new uint256[](payees.length);
        for (uint256 i; i < payees.length; ++i) {
            before[i] = token.balanceOf(payees[i]);
        }
        try ledger.distribute(licenceId) returns (uint256 paid) {
            ++successes["distribute"];
            uint256 sum = 0;
            for (uint256 i; i < payees.length; ++i) {
                uint256 received = token.balanceOf(payees[i]) - before[i];
                ghost_receivedBy[licenceId][payees[i]] += received;
                sum += received;
            }
            if (sum != paid) ++ghost_distributionMismatches;
            ghost_payeeWithdrawn += sum;
            ghost_payeeWithdrawnOf[licenceId] += sum;
        } catch {}
    }

    /// @notice A payee claims two licences at once (its own, if it is a payee of both).
    function withdrawMany(uint256 firstSeed, uint256 secondSeed, uint256 payeeSeed) external useTime("withdrawMany") {
        uint256[] memory ids = new uint256[](2);
        ids[0] = _licence(firstSeed);
        ids[1] = _licence(secondSeed);
        (address[] memory payees,) = ledger.payeesOf(ids[0]);
        address payee = payees[payeeSeed % payees.length];
        // What each licence has paid the payee so far (claimable would miss what the claim itself releases).
        uint256[] memory paidBefore = new uint256[](2);
        for (uint256 i; i < 2; ++i) {
            (, paidBefore[i]) = ledger.payeeTotals(ids[i], payee);
        }
        uint256 before = token.balanceOf(payee);
        try ledger.withdrawMany(ids, payee) returns (uint256 total) {
            ++successes["withdrawMany"];
            uint256 received = token.balanceOf(payee) - before;
            if (received != total) ++ghost_distributionMismatches;
            ghost_payeeWithdrawn += received;
            // Each licence paid what the payee could claim on it (a licence listed twice pays once).
            for (uint256 i; i < 2; ++i) {
                if (i == 1 && ids[1] == ids[0]) break;
                (, uint256 paidAfter) = ledger.payeeTotals(ids[i], payee);
                uint256 paidHere = paidAfter - paidBefore[i];
                ghost_payeeWithdrawnOf[ids[i]] += paidHere;
                ghost_receivedBy[ids[i]][payee] += paidHere;
            }
        } catch {}
    }

    function withdrawTax(uint256 licenceSeed) external useTime("withdrawTax") {
        uint256 licenceId = _licence(licenceSeed);
        uint256 before = token.balanceOf(_actors.taxAccount);
        try ledger.withdrawTax(licenceId) {
            ++successes["withdrawTax"];
            uint256 received = token.balanceOf(_actors.taxAccount) - before;
            ghost_taxWithdrawn += received;
            ghost_taxWithdrawnOf[licenceId] += received;
        } catch {}
    }

    function withdrawEscrow(uint256 licenceSeed, uint256 amount) external useTime("withdrawEscrow") {
        uint256 licenceId = _licence(licenceSeed);
        uint256 escrow = ledger.escrowOf(licenceId);
        if (escrow == 0) return;
        amount = _bound(amount, 1, escrow);
        uint256 before = token.balanceOf(_actors.licensee);
        vm.prank(_actors.licensee);
        try ledger.withdrawEscrow(licenceId, amount) {
            ++successes["withdrawEscrow"];
            ghost_escrowWithdrawn += token.balanceOf(_actors.licensee) - before;
        } catch {}
    }

    function releaseMatured(uint256 licenceSeed) external useTime("releaseMatured") {
        ledger.releaseMatured(_licence(licenceSeed));
    }

    // ------------------------------------------------------------------ actions: settlement

    /// @dev Reports a period that has ended (possibly one already settled: that must fail).
    /// One call in three waits 31..60 days past the period's end first, past its due date.
    function settleReport(
        uint256 licenceSeed,
        uint256 periodSeed,
        uint128 gross,
        uint128 units,
        uint8 shape,
        uint8 lateSeed
    ) external useTime("settleReport") {
        uint256 licenceId = _licence(licenceSeed);
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        // One of the last few ended periods (maybe settled already: that must fail) or the next
        // one, in which case time moves on to its end. Calendar periods differ in length: the
        // registry says which period holds the present.
        uint256 ended = currentTime > c.start ? registry.periodOf(licenceId, uint64(currentTime)) : 0;
        uint32 period = uint32(_bound(periodSeed, ended > 4 ? ended - 4 : 0, ended));
        (, uint64 end, uint64 dueAt) = registry.periodBounds(licenceId, period);
        if (lateSeed % 3 == 0) end += uint64(_bound(lateSeed, 31, 60)) * 1 days;
        if (end > currentTime) {
            currentTime = end;
            vm.warp(end);
        }
        if (_trySettle(_report(licenceId, period, gross, units, shape), c.threshold)) {
            ++successes["settleReport"];
            if (currentTime > dueAt) ++ghost_lateReports;
            if (ghost_timesSettled[licenceId][period]++ == 0) _periodsSettled[licenceId].push(period);
        }
    }

    /// @dev Half of the time, moves on to the end of the chosen contract year first.
    function chargeMinimumGuarantee(uint256 licenceSeed, uint256 yearSeed) external useTime("chargeGuarantee") {
        uint256 licenceId = _licence(licenceSeed);
        uint32 year = uint32(yearSeed % 4);
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        (, uint256 yearEnd,,) = registry.contractYearBounds(licenceId, year);
        if (yearEnd > c.effectiveEnd) yearEnd = c.effectiveEnd;
        if ((yearSeed >> 8) % 2 == 0 && yearEnd > currentTime) {
            currentTime = yearEnd;
            vm.warp(yearEnd);
        }
        try ledger.chargeMinimumGuarantee(licenceId, year) {
            ++successes["chargeGuarantee"];
        } catch {}
    }

    // ------------------------------------------------------------------ actions: disputes

    /// @dev Picks one of the three latest settlements: older ones are mostly past their window.
    function dispute(uint256 settlementSeed, bool byLicensor, bool relayed) external useTime("dispute") {
        uint256 count = ledger.settlementCount();
        if (count == 0) return;
        uint256 id = count - settlementSeed % (count < 3 ? count : 3);
        (address party, uint256 key) =
            byLicensor ? (_actors.licensor, _actors.licensorKey) : (_actors.licensee, _actors.licenseeKey);
        if (relayed) {
            uint64 deadline = uint64(currentTime + 1 hours);
            bytes32 digest = _typed(keccak256(abi.encode(ledger.DISPUTE_TYPEHASH(), id, party, deadline)));
            bytes memory sig = _sign(key, digest);
            vm.prank(_actors.relayer);
            try ledger.disputeFor(id, party, deadline, sig) {
                ++successes["dispute"];
                _disputed.push(id);
            } catch {}
        } else {
            vm.prank(party);
            try ledger.dispute(id) {
                ++successes["dispute"];
                _disputed.push(id);
            } catch {}
        }
    }

    function resolve(uint256 disputeSeed, uint256 amountSeed, bool byArbiter) external useTime("resolve") {
        if (_disputed.length == 0) return;
        uint256 index = disputeSeed % _disputed.length;
        uint256 id = _disputed[index];
        _disputed[index] = _disputed[_disputed.length - 1];
        _disputed.pop();
        IRoyaltyLedger.Settlement memory s = ledger.settlement(id);
        uint128 finalAmount = uint128(_bound(amountSeed, 0, s.due));
        // A disputed settlement must always be resolvable with any amount up to what was due.
        if (byArbiter) {
            vm.prank(_actors.arbiter);
            try ledger.resolveDispute(id, finalAmount) {
                ++successes["resolve"];
            } catch {
                ++ghost_resolveFailures;
            }
        } else {
            uint64 deadline = uint64(currentTime + 1 hours);
            bytes32 digest = _typed(keccak256(abi.encode(ledger.RESOLVE_TYPEHASH(), id, finalAmount, deadline)));
            bytes memory licensorSig = _sign(_actors.licensorKey, digest);
            bytes memory licenseeSig = _sign(_actors.licenseeKey, digest);
            vm.prank(_actors.relayer);
            try ledger.resolveDisputeByParties(id, finalAmount, deadline, licensorSig, licenseeSig) {
                ++successes["resolve"];
            } catch {
                ++ghost_resolveFailures;
            }
        }
    }

    // ------------------------------------------------------------------ actions: lifecycle and time

    function warp(uint256 secondsForward) external useTime("warp") {
        currentTime += _bound(secondsForward, 1 hours, 45 days);
    }

    /// @dev Acts on one call in eight, so that licences usually live for a while.
    function terminateByConsent(uint256 licenceSeed) external useTime("terminateByConsent") {
        if (licenceSeed % 8 != 0) return;
        uint256 licenceId = _licence(licenceSeed / 8);
        if (registry.status(licenceId) != ILicenceRegistry.Status.Active) return;
        uint64 deadline = uint64(currentTime + 1 hours);
        bytes32 digest = registry.terminateDigest(licenceId, deadline);
        bytes memory licensorSig = _sign(_actors.licensorKey, digest);
        bytes memory licenseeSig = _sign(_actors.licenseeKey, digest);
        vm.prank(_actors.relayer);
        registry.terminateByConsent(licenceId, deadline, licensorSig, licenseeSig);
        ++successes["terminateByConsent"];
    }

    function noticeBreach(uint256 licenceSeed) external useTime("noticeBreach") {
        vm.prank(_actors.licensor);
        try registry.noticeBreach(_licence(licenceSeed)) {
            ++successes["noticeBreach"];
        } catch {}
    }

    function terminateForCause(uint256 licenceSeed) external useTime("terminateForCause") {
        vm.prank(_actors.licensor);
        try registry.terminateForCause(_licence(licenceSeed)) {
            ++successes["terminateForCause"];
        } catch {}
    }

    // ------------------------------------------------------------------ internal

    function _licence(uint256 seed) private view returns (uint256) {
        return licences[seed % licences.length];
    }

    /// @dev One or two buckets; `shape` picks deductions, a second bucket, whether it is out of
    /// scope, and whether it holds sales of the contract year the period ends in (a period that
    /// crosses a contract year's end reports each year's sales apart).
    /// @dev Corrects a settled period (its latest settlement) by an adjustment or, one call in
    /// two, an audit finding with a cost: lines added, and lines cancelled (which may make the
    /// correction negative); a correction may come long after the period.
    function correct(uint256 licenceSeed, uint256 periodSeed, uint128 added, uint128 cancelled, uint128 cost, bool audit)
        external
        useTime("correct")
    {
        uint256 licenceId = _licence(licenceSeed);
        uint32[] storage periods = _periodsSettled[licenceId];
        if (periods.length == 0) return;
        uint32 period = periods[_bound(periodSeed, 0, periods.length - 1)];
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        (uint64 from,,) = registry.periodBounds(licenceId, period);
        uint16 year = uint16(registry.contractYearOf(licenceId, from));
        IRoyaltyLedger.Report memory r = _report(licenceId, period, 0, 0, 0);
        r.buckets = new IRoyaltyLedger.Bucket[](1);
        r.buckets[0] = _bucketOf(year, uint128(_bound(added, 0, 200_000e6)));
        r.returned = new IRoyaltyLedger.Bucket[](1);
        r.returned[0] = _bucketOf(year, uint128(_bound(cancelled, 0, 200_000e6)));
        r.corrects = ledger.latestOfPeriod(licenceId, period);
        r.audit = audit;
        r.auditCost = audit ? uint128(_bound(cost, 0, 5_000e6)) : 0;
        if (_trySettle(r, c.threshold)) {
            ++successes["correct"];
            if (audit) ++ghost_audits;
        }
    }

    /// @dev The relayer settles `r` signed by `threshold` oracles; false when the ledger refuses it.
    function _trySettle(IRoyaltyLedger.Report memory r, uint8 threshold) private returns (bool) {
        IRoyaltyLedger.Report[] memory reports = new IRoyaltyLedger.Report[](1);
        reports[0] = r;
        bytes[][] memory sets = new bytes[][](1);
        sets[0] = _signReport(r, threshold);
        vm.prank(_actors.relayer);
        try ledger.settleReports(reports, sets) {
            return true;
        } catch {
            return false;
        }
    }

    function _bucketOf(uint16 year, uint128 gross) private pure returns (IRoyaltyLedger.Bucket memory) {
        return IRoyaltyLedger.Bucket({year: year, territory: 1, field: 1, channel: 0, units: 0, gross: gross, deductions: 0});
    }

    function _report(uint256 licenceId, uint32 period, uint128 gross, uint128 units, uint8 shape)
        private
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        gross = uint128(_bound(gross, 0, 500_000e6));
        units = uint128(_bound(units, 0, 10_000));
        uint256 count = shape & 1 == 0 ? 1 : 2;
        r.buckets = new IRoyaltyLedger.Bucket[](count);
        (uint64 from, uint64 to,) = registry.periodBounds(licenceId, period);
        uint16 year = uint16(registry.contractYearOf(licenceId, from));
        uint16 lastYear = uint16(registry.contractYearOf(licenceId, to - 1));
        r.buckets[0] = IRoyaltyLedger.Bucket({
            year: year,
            territory: shape % 11, field: (shape >> 2) % 4, channel: (shape >> 4) % 3, units: units, gross: gross,
            deductions: shape & 2 == 0 ? 0 : gross / 10
        });
        if (count == 2) {
            // territory 12 lies outside every licence's scope in this suite
            r.buckets[1] = IRoyaltyLedger.Bucket({
                year: shape & 128 == 0 ? year : lastYear,
                territory: shape & 64 == 0 ? 1 : 12, field: 1, channel: 0, units: units / 2, gross: gross / 3, deductions: 0
            });
        }
        r.licenceId = licenceId;
        r.period = period;
        r.sequence = ledger.lastSequence(licenceId) + 1;
        r.deadline = uint64(currentTime + 1 days);
        r.linesRoot = keccak256(abi.encode(licenceId, period, r.sequence));
        r.lineCount = uint32(count * 25);
        // One report in four has returns of half, all or one and a half times its first
        // bucket's sales: the last makes the period negative.
        uint256 returnsShape = (shape >> 3) & 3;
        if (returnsShape != 0 && gross != 0) {
            r.returned = new IRoyaltyLedger.Bucket[](1);
            r.returned[0] = _bucketOf(year, uint128(uint256(gross) * returnsShape / 2));
            r.returned[0].territory = r.buckets[0].territory;
        }
    }

    function _signReport(IRoyaltyLedger.Report memory r, uint8 threshold) private view returns (bytes[] memory sigs) {
        bytes32 digest = registry.typedData().reportDigest(r);
        sigs = new bytes[](threshold);
        for (uint256 i; i < threshold; ++i) {
            sigs[i] = _sign(_actors.oracleKeys[i], digest);
        }
    }

    function _typed(bytes32 structHash) private view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(ledger.domainSeparator(), structHash);
    }

    function _sign(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
