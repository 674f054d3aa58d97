// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {LicenceClock} from "../LicenceClock.sol";
import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";
import {RoyaltyMath} from "../libraries/RoyaltyMath.sol";

/// @title LedgerCore: the ledger's state and the bookkeeping every money path shares
/// @notice RoyaltyLedger and its SettlementModule both inherit it: the module runs by
/// DELEGATECALL in the ledger's storage, so one contract's code stays within EIP-170's 24,576
/// bytes. Nothing here is an entry point.
abstract contract LedgerCore {
    using SafeCast for uint256;

    uint256 public constant MAX_BUCKETS = 256;
    /// @notice Interest is simple, actual/365: principal * bps * seconds late / (10,000 * 365 days).
    uint256 public constant INTEREST_YEAR = 365 days;
    uint256 internal constant BPS = 10_000;

    ILicenceRegistry public immutable registry;
    /// @notice The registry's calendar: periods, contract years.
    LicenceClock public immutable clock;

    // ------------------------------------------------------------------ storage

    /// @dev Money state of one licence.
    struct Account {
        // slot 0
        address token;
        uint16 taxBps;
        uint16 interestBps; // simple yearly interest on amounts paid after their due date
        bool guaranteeCharged; // a guarantee shortfall was charged in some year: reports may owe it less
        // slot 1
        address licensee;
        uint64 lastSequence;
        // slot 2
        address taxAccount;
        uint64 arrearsClearedAt;
        // slot 3
        uint128 escrow;
        uint128 arrears;
        // slot 4
        uint128 advanceRemaining;
        uint128 distributed; // cumulative amount credited to payees (the accumulator)
        // slot 5
        uint128 taxOwed; // withholding credited and not yet paid out
        uint64 pendingHead; // next index of _s().pending to look at
        uint64 arrearsHead; // next index of _s().arrearsQueue to pay
        // slot 6
        uint128 disputedArrears; // the part of `arrears` owed on settlements under dispute
        uint128 credit; // owed to the licensee from returns and downward adjustments, offset against royalties
    }

    /// @dev A settlement as stored: two slots, and a third only when part of its royalty was
    /// covered otherwise. What has been released is derived: all that was paid once it is final,
    /// nothing before.
    struct Stored {
        // slot 0
        uint64 licenceId;
        uint32 period;
        IRoyaltyLedger.Kind kind;
        IRoyaltyLedger.State state;
        uint16 year; // contract year of a report's period start (the year itself for a guarantee)
        uint8 yearSpan; // further contract years the period's sales fall in
        uint40 settledAt;
        uint40 disputeUntil;
        uint40 dueAt;
        // slot 1
        uint128 due;
        uint128 paid;
        // slot 2, written only when non-zero
        uint128 covered; // royalty - due: recouped from the advance, offset by a guarantee charged, or cut in a dispute
    }

    /// @dev What `_createSettlement` records.
    struct Draft {
        uint256 licenceId;
        uint32 period;
        uint32 year;
        uint8 yearSpan;
        IRoyaltyLedger.Kind kind;
        uint256 royalty;
        uint256 credit;
        uint32 disputeWindow;
        uint64 dueAt;
    }

    /// @dev Per contract year: what the minimum guarantee and the tiers look at.
    struct Year {
        uint128 royalty; // royalty earned by reports of the year, before recoupment
        uint128 tierNet; // cumulative tier-priced net sales of the year
        uint128 guaranteeCredit; // shortfall charged and not yet offset by late reports
        bool guaranteeCharged;
        uint32 open; // report settlements of the year still pending or disputed
    }

    /// @dev All of the ledger's state, at one ERC-7201 slot, so the ledger and the settlement
    /// module it delegates to read and write the same storage whatever each inherits.
    /// @custom:storage-location erc7201:royalty.ledger.storage
    struct LedgerStorage {
        mapping(uint256 licenceId => Account) accounts;
        mapping(uint256 licenceId => address[]) payees; // ascending by address
        mapping(uint256 licenceId => uint16[]) prefixBps; // [0, s0, s0+s1, ..., 10000]
        mapping(uint256 licenceId => mapping(address payee => uint256)) withdrawn;
        mapping(uint256 licenceId => uint256[]) pending;
        mapping(uint256 licenceId => uint256[]) arrearsQueue;
        mapping(uint256 licenceId => mapping(uint32 period => uint256 settlementId)) settledPeriod;
        mapping(uint256 licenceId => mapping(uint32 period => uint256 settlementId)) latestAdjustment;
        mapping(uint256 licenceId => mapping(uint32 year => Year)) yearTotals;
        mapping(uint256 settlementId => Stored) settlements;
        uint256 settlementCount;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("royalty.ledger.storage")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x5d198556cb4b13c064e95c9fc51e0ba2624e3f1148c88b67aaaf9a7e2b315700;

    function _s() internal pure returns (LedgerStorage storage $) {
        bytes32 slot = STORAGE_SLOT;
        assembly {
            $.slot := slot
        }
    }

    constructor(ILicenceRegistry registry_, LicenceClock clock_) {
        registry = registry_;
        clock = clock_;
    }

    // ------------------------------------------------------------------ shared bookkeeping

    /// @dev Records a settlement of `royalty` less `credit`: recoups the advance (not from
    /// interest), draws the rest from escrow, records any shortfall as arrears, charges interest
    /// on what it paid after the due date, and releases it now if there is no window.
    function _createSettlement(Draft memory draft) internal returns (uint256 id) {
        uint256 licenceId = draft.licenceId;
        Account storage account = _s().accounts[licenceId];
        uint256 due = draft.royalty - draft.credit;
        // Enum comparisons, not balances.
        // slither-disable-next-line incorrect-equality
        bool royaltyKind = draft.kind == IRoyaltyLedger.Kind.Report || draft.kind == IRoyaltyLedger.Kind.Adjustment;
        uint256 creditUsed = 0;
        if (royaltyKind && due != 0 && account.credit != 0) {
            creditUsed = due < account.credit ? due : account.credit;
            account.credit -= creditUsed.toUint128();
            due -= creditUsed;
        }
        if (draft.kind != IRoyaltyLedger.Kind.Interest) {
            uint256 advanceLeft = account.advanceRemaining;
            if (advanceLeft != 0) {
                uint256 recouped = due < advanceLeft ? due : advanceLeft;
                account.advanceRemaining = (advanceLeft - recouped).toUint128();
                due -= recouped;
            }
        }
        uint256 paid = due < account.escrow ? due : account.escrow;
        if (paid != 0) account.escrow -= paid.toUint128();

        id = ++_s().settlementCount;
        Stored storage stored = _s().settlements[id];
        stored.licenceId = uint64(licenceId);
        stored.period = draft.period;
        stored.kind = draft.kind;
        // A licence term (the window), not a balance: Slither's strict-equality check is misled by
        // the interest's timestamp-derived amount flowing into the same draft.
        // slither-disable-next-line incorrect-equality
        stored.state = draft.disputeWindow == 0 ? IRoyaltyLedger.State.Final : IRoyaltyLedger.State.Pending;
        // 16 bits hold 65,536 contract years; a longer term must not file year N under N mod 2**16.
        stored.year = uint256(draft.year).toUint16();
        stored.yearSpan = draft.yearSpan;
        stored.settledAt = uint40(block.timestamp);
        stored.disputeUntil = uint40(block.timestamp + draft.disputeWindow);
        stored.dueAt = uint256(draft.dueAt).toUint40();
        stored.due = due.toUint128();
        stored.paid = paid.toUint128();
        // royalty - due is what the advance and any guarantee already charged covered.
        if (draft.royalty != due) stored.covered = (draft.royalty - due).toUint128();
        _emitSettled(id, draft, due, paid);
        if (creditUsed != 0) emit IRoyaltyLedger.CreditApplied(id, licenceId, creditUsed, account.credit);
        _afterSettlement(id, stored, account);
        if (paid != 0) _chargeInterest(id, stored, account, paid);
    }
    function _emitSettled(uint256 id, Draft memory draft, uint256 due, uint256 paid) internal {
        emit IRoyaltyLedger.Settled(
            id,
            draft.licenceId,
            draft.kind,
            draft.period,
            draft.royalty,
            draft.royalty - due,
            due,
            paid,
            draft.disputeWindow != 0,
            draft.dueAt
        );
    }
    /// @dev Interest on `principal` of settlement `id` paid now, after its due date: simple,
    /// actual/365, at the licence's rate, rounded down; charged as its own final settlement (no
    /// interest on interest, none on an amount under dispute) and split like a royalty.
    function _chargeInterest(uint256 id, Stored storage stored, Account storage account, uint256 principal) internal {
        uint256 rateBps = account.interestBps;
        uint256 dueAt = stored.dueAt;
        if (rateBps == 0 || block.timestamp <= dueAt || stored.kind == IRoyaltyLedger.Kind.Interest) return;
        if (stored.state == IRoyaltyLedger.State.Disputed) return;
        uint256 interest = principal * rateBps * (block.timestamp - dueAt) / (BPS * INTEREST_YEAR);
        // Nothing to charge when it rounds down to zero; the strict equality decides nothing else.
        // slither-disable-next-line incorrect-equality
        if (interest == 0) return;
        uint256 interestId = _createSettlement(
            Draft({
                licenceId: stored.licenceId,
                period: stored.period,
                year: stored.year,
                yearSpan: 0,
                kind: IRoyaltyLedger.Kind.Interest,
                royalty: interest,
                credit: 0,
                disputeWindow: 0,
                dueAt: uint64(block.timestamp)
            })
        );
        emit IRoyaltyLedger.InterestCharged(
            interestId, id, stored.licenceId, principal, uint64(dueAt), uint64(block.timestamp), uint16(rateBps), interest
        );
    }
    /// @dev Queues a shortfall as arrears and a pending settlement for its window, or releases it.
    function _afterSettlement(uint256 id, Stored storage stored, Account storage account) internal {
        uint256 licenceId = stored.licenceId;
        if (stored.due > stored.paid) {
            account.arrears += stored.due - stored.paid;
            _s().arrearsQueue[licenceId].push(id);
        }
        if (stored.state == IRoyaltyLedger.State.Final) {
            _release(id, stored, account, 0);
        } else {
            _s().pending[licenceId].push(id);
        }
    }
    /// @dev Credits what has been paid of a final settlement beyond `before`, the part of it
    /// released already (what it had paid when it became final, or before this payment).
    function _release(uint256 id, Stored storage stored, Account storage account, uint256 before) internal {
        uint256 amount = stored.paid - before;
        if (amount == 0) return;
        uint256 tax = RoyaltyMath.taxOnIncrement(before, stored.paid, account.taxBps);
        if (tax != 0) account.taxOwed += tax.toUint128();
        account.distributed += (amount - tax).toUint128();
        emit IRoyaltyLedger.Released(id, stored.licenceId, amount, tax, account.distributed);
    }
    /// @dev Pending settlements become final in the order they were made, since a licence's
    /// window is the same for all of them; disputed ones leave the queue and end by resolution.
    function _releaseMatured(uint256 licenceId, Account storage account) internal {
        uint256[] storage queue = _s().pending[licenceId];
        uint256 head = account.pendingHead;
        uint256 length = queue.length;
        while (head < length) {
            uint256 id = queue[head];
            Stored storage stored = _s().settlements[id];
            if (stored.state == IRoyaltyLedger.State.Pending) {
                if (block.timestamp < stored.disputeUntil) break;
                stored.state = IRoyaltyLedger.State.Final;
                if (_isRoyalty(stored.kind)) _closeYears(licenceId, stored);
                _release(id, stored, account, 0);
            }
            ++head;
        }
        account.pendingHead = uint64(head);
    }
    /// @dev Pays arrears oldest first with up to `available`; returns what it used.
    function _payArrears(uint256 licenceId, Account storage account, uint256 available)
        internal
        returns (uint256 used)
    {
        if (account.arrears == 0) return 0;
        uint256[] storage queue = _s().arrearsQueue[licenceId];
        uint256 head = account.arrearsHead;
        while (available > 0 && head < queue.length) {
            uint256 id = queue[head];
            Stored storage stored = _s().settlements[id];
            uint256 outstanding = stored.due - stored.paid;
            bool paysOff = outstanding <= available;
            uint256 pay = paysOff ? outstanding : available;
            if (pay > 0) {
                uint256 paidBefore = stored.paid;
                stored.paid += pay.toUint128();
                account.arrears -= pay.toUint128();
                // Enum comparisons here, not balances: Slither's taint from the measured deposit
                // misleads its strict-equality detector.
                // slither-disable-next-line incorrect-equality
                if (stored.state == IRoyaltyLedger.State.Disputed) account.disputedArrears -= pay.toUint128();
                available -= pay;
                used += pay;
                emit IRoyaltyLedger.ArrearsPaid(id, licenceId, pay, outstanding - pay);
                // slither-disable-next-line incorrect-equality
                if (stored.state == IRoyaltyLedger.State.Final) _release(id, stored, account, paidBefore);
                // The interest goes to the back of the queue, so this loop pays it too.
                _chargeInterest(id, stored, account, pay);
            }
            if (paysOff) ++head;
        }
        account.arrearsHead = uint64(head);
        if (account.arrears == 0) _arrearsCleared(licenceId, account);
    }
    function _arrearsCleared(uint256 licenceId, Account storage account) internal {
        account.arrearsClearedAt = uint64(block.timestamp);
        emit IRoyaltyLedger.ArrearsCleared(licenceId, uint64(block.timestamp));
    }
    function _isRoyalty(IRoyaltyLedger.Kind kind) internal pure returns (bool) {
        return kind == IRoyaltyLedger.Kind.Report || kind == IRoyaltyLedger.Kind.Adjustment;
    }
    /// @dev A report's settlement no longer open: its contract years' guarantees may be charged.
    function _closeYears(uint256 licenceId, Stored storage stored) internal {
        uint32 last = uint32(stored.year) + stored.yearSpan;
        for (uint32 y = stored.year; y <= last; ++y) {
            --_s().yearTotals[licenceId][y].open;
        }
    }
    function _openAccount(uint256 licenceId) internal view returns (Account storage account) {
        account = _s().accounts[licenceId];
        if (account.token == address(0)) revert IRoyaltyLedger.UnknownLicence(licenceId);
    }
    function _existing(uint256 settlementId) internal view returns (Stored storage stored) {
        stored = _s().settlements[settlementId];
        if (stored.kind == IRoyaltyLedger.Kind.None) revert IRoyaltyLedger.UnknownSettlement(settlementId);
    }
}
