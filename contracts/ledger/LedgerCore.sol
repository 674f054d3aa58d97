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

    /// @dev Money state of one licence. A final, funded report reads slot 0 and writes slot 1
    /// only; slot 5 is read only while `recouping` says an advance or a credit may be left.
    /// Escrow and the payees' accumulator fit 96 bits: 7.9e28 token units (79 billion whole
    /// tokens of 18 decimals) per licence, beyond which a deposit or a release reverts.
    struct Account {
        // slot 0
        address token;
        uint16 taxBps;
        uint16 interestBps; // simple yearly interest on amounts paid after their due date
        bool guaranteeCharged; // a guarantee shortfall was charged in some year: reports may owe it less
        bool recouping; // advanceRemaining or credit may be non-zero
        uint16 reservesOpen; // reserve settlements still held
        uint32 reserveHead; // next index of _s().reserves to look at
        // slot 1
        uint96 escrow;
        uint96 distributed; // cumulative amount credited to payees (the accumulator)
        uint64 lastSequence;
        // slot 2
        address licensee;
        uint64 arrearsClearedAt;
        // slot 3
        address taxAccount;
        // slot 4
        uint128 arrears;
        uint128 disputedArrears; // the part of `arrears` owed on settlements under dispute
        // slot 5
        uint128 advanceRemaining;
        uint128 credit; // owed to the licensee from returns and downward adjustments, offset against royalties
        // slot 6
        uint128 taxOwed; // withholding credited and not yet paid out
        uint64 pendingHead; // next index of _s().pending to look at
        uint64 arrearsHead; // next index of _s().arrearsQueue to pay
    }

    /// @dev A settlement as stored. Slot 0 is all that a settlement final at once and paid in
    /// full keeps (its Settled event has the rest); slot 1 is written only for one that waits
    /// (pending, held) or is not paid in full; slot 2 only when part of its royalty was covered
    /// otherwise. What has been paid is derived (due - unpaid), and what has been released too:
    /// all that was paid once it is final, nothing before.
    struct Stored {
        // slot 0
        uint40 licenceId;
        uint32 period;
        IRoyaltyLedger.Kind kind;
        IRoyaltyLedger.State state;
        uint16 year; // contract year of a report's period start (the year itself for a guarantee)
        uint8 yearSpan; // further contract years the period's sales fall in
        uint40 dueAt;
        uint104 due;
        // slot 1, written only for a settlement that waits or is not paid in full
        uint104 unpaid; // due - paid
        uint40 settledAt;
        uint40 disputeUntil;
        // slot 2, written only when non-zero
        uint128 covered; // royalty - due: recouped from the advance, offset by a guarantee charged, held as a reserve, cut in a dispute, or consumed by returns
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
        uint16 reserveBps; // share of the payable royalty to hold back as a reserve
        uint64 releaseAt; // when that reserve is released
    }

    /// @dev Per contract year: what the minimum guarantee and the tiers look at.
    struct Year {
        uint128 royalty; // royalty earned by reports of the year, before recoupment
        uint128 tierNet; // cumulative tier-priced net sales of the year
        uint128 guaranteeCredit; // shortfall charged and not yet offset by late reports
        bool guaranteeCharged;
        uint32 open; // report settlements of the year still pending or disputed
    }

    /// @dev How a licence's payees are paid. The list itself (token, payees, running sums of
    /// their shares) is contract code at PayeeList.holderOf(ledger, licenceId), written once.
    struct Payout {
        // slot 0
        uint128 paidUpTo; // a distribution paid every payee its part of this much of `distributed` (or kept it as unpaid)
        uint16 payeeCount;
        bool published; // the list's code is deployed
        bool releasesAtOnce; // no dispute window and no reserve: no settlement ever waits to be released
        // slot 1, written only when the list is too long to publish at registration
        bytes32 payeesHash; // keccak256 of PayeeList.pack(token, payees, shares)
    }

    /// @dev One payee of one licence: what it has been paid is its part of max(paidUpTo, paidTo),
    /// less `unpaid`.
    struct PayeeAccount {
        uint128 paidTo; // its own withdrawals paid it its part of this much of `distributed`
        uint128 unpaid; // what distributions could not pay it (its transfer failed): still owed to it
    }

    /// @dev All of the ledger's state, at one ERC-7201 slot, so the ledger and the settlement
    /// module it delegates to read and write the same storage whatever each inherits.
    /// @custom:storage-location erc7201:royalty.ledger.storage
    struct LedgerStorage {
        mapping(uint256 licenceId => Account) accounts;
        // Retired by the payee lists published as code (`payouts`): never written any more, kept
        // so that the fields after them keep their slots.
        mapping(uint256 licenceId => address[]) payees;
        mapping(uint256 licenceId => uint16[]) prefixBps;
        mapping(uint256 licenceId => mapping(address payee => uint256)) withdrawn;
        mapping(uint256 licenceId => uint256[]) pending;
        mapping(uint256 licenceId => uint256[]) arrearsQueue;
        // The settlement of each period, six 40-bit ids to a word (consecutive periods share a
        // slot, so a licence's next report writes a word it already has: a fresh word every six
        // periods, a year and a half of quarters).
        mapping(uint256 licenceId => mapping(uint256 word => uint256 sixIds)) settledIds;
        mapping(uint256 licenceId => mapping(uint32 period => uint256 settlementId)) latestAdjustment;
        mapping(uint256 licenceId => mapping(uint32 year => Year)) yearTotals;
        mapping(uint256 settlementId => Stored) settlements;
        // Ids handed out so far and the pauser's switch, in one slot: settleReports checks the
        // switch and then counts a settlement in a slot it has already read.
        uint64 settlementCount;
        bool paused; // settlement stopped (reports and guarantee charges)
        // Set by the ledger's constructor, never cleared: the slot is never zero, so the
        // ledger's first settlement writes it for 2,900 gas instead of a fresh slot's 20,000.
        bool deployed;
        mapping(uint256 licenceId => uint256[]) reserves; // reserve settlements, in the order held
        // Sum of the royalty the corrections of a period changed (signed): with the original's
        // royalty, what the period was settled at before an audit.
        mapping(uint256 licenceId => mapping(uint32 period => int256)) adjustedRoyalty;
        mapping(uint256 licenceId => Payout) payouts;
        mapping(uint256 licenceId => mapping(address payee => PayeeAccount)) payeeAccounts;
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
        IRoyaltyLedger.Kind kind = draft.kind;
        uint256 creditUsed = 0;
        if (account.recouping) (due, creditUsed) = _recoup(account, kind, due);
        // The reserve is held back from what is payable now, rounded down. A licence term and an
        // enum below, not balances: Slither's strict-equality taint comes from the amounts.
        // slither-disable-next-line incorrect-equality
        uint256 held = draft.reserveBps == 0 ? 0 : due * draft.reserveBps / BPS;
        due -= held;
        uint256 paid = due < account.escrow ? due : account.escrow;
        if (paid != 0) account.escrow -= uint96(paid);

        id = ++_s().settlementCount;
        Stored storage stored = _s().settlements[id];
        // A licence term (the window), not a balance: Slither's strict-equality check is misled by
        // the interest's timestamp-derived amount flowing into the same draft.
        // slither-disable-next-line incorrect-equality
        IRoyaltyLedger.State state =
            draft.disputeWindow == 0 ? IRoyaltyLedger.State.Final : IRoyaltyLedger.State.Pending;
        // slither-disable-next-line incorrect-equality
        if (kind == IRoyaltyLedger.Kind.Reserve) state = IRoyaltyLedger.State.Held;
        _storeFirstSlot(stored, draft, state, due);
        // Final at once and paid in full: slot 0 says it all.
        if (state != IRoyaltyLedger.State.Final || paid != due) {
            stored.unpaid = uint104(due - paid);
            stored.settledAt = uint40(block.timestamp);
            // A reserve's "window" is the time it is held.
            // slither-disable-next-line incorrect-equality
            stored.disputeUntil = kind == IRoyaltyLedger.Kind.Reserve
                ? uint256(draft.releaseAt).toUint40()
                : uint40(block.timestamp + draft.disputeWindow);
        }
        // royalty - due is what the advance, any guarantee already charged and the reserve covered.
        if (draft.royalty != due) stored.covered = (draft.royalty - due).toUint128();
        _emitSettled(id, draft, due, paid);
        if (creditUsed != 0) emit IRoyaltyLedger.CreditApplied(id, licenceId, creditUsed, account.credit);
        _afterSettlement(id, stored, account, due, paid);
        if (paid != 0) _chargeInterest(id, stored, account, paid);
        if (held != 0) _holdReserve(id, draft, held);
    }

    /// @dev A new settlement's slot 0 in one write, its fields in Stored's order (the slot of a
    /// new id is empty). 16 bits hold 65,536 contract years; a longer term must not file year N
    /// under N mod 2**16.
    function _storeFirstSlot(Stored storage stored, Draft memory draft, IRoyaltyLedger.State state, uint256 due)
        private
    {
        uint256 word = uint256(draft.licenceId.toUint40()) | uint256(draft.period) << 40
            | uint256(draft.kind) << 72 | uint256(state) << 80 | uint256(uint256(draft.year).toUint16()) << 88
            | uint256(draft.yearSpan) << 104 | uint256(uint256(draft.dueAt).toUint40()) << 112
            | uint256(due.toUint104()) << 152;
        assembly ("memory-safe") {
            sstore(stored.slot, word)
        }
    }

    /// @dev Offsets the licensee's credit against a royalty, then recoups the advance from it;
    /// returns what is left due and the credit used. Clears `recouping` once both are spent.
    function _recoup(Account storage account, IRoyaltyLedger.Kind kind, uint256 due)
        private
        returns (uint256, uint256 creditUsed)
    {
        uint256 credit = account.credit;
        if (_isRoyalty(kind) && due != 0 && credit != 0) {
            creditUsed = due < credit ? due : credit;
            credit -= creditUsed;
            account.credit = uint128(credit);
            due -= creditUsed;
        }
        // Interest and audit costs are charges, not royalties, and a reserve was recouped
        // from already: the advance recoups only royalties and guarantees.
        uint256 advanceLeft = account.advanceRemaining;
        if (
            kind != IRoyaltyLedger.Kind.Interest && kind != IRoyaltyLedger.Kind.Reserve
                && kind != IRoyaltyLedger.Kind.AuditCost
        ) {
            if (advanceLeft != 0) {
                uint256 recouped = due < advanceLeft ? due : advanceLeft;
                advanceLeft -= recouped;
                account.advanceRemaining = uint128(advanceLeft);
                due -= recouped;
            }
        }
        // Nothing left to offset: later settlements skip this slot. Balances that reached
        // zero, which decides only whether to look again.
        // slither-disable-next-line incorrect-equality
        if (credit == 0 && advanceLeft == 0) account.recouping = false;
        return (due, creditUsed);
    }

    /// @dev Holds `amount` of settlement `id`'s payable royalty as a reserve settlement of its own,
    /// drawn from escrow like the rest (a shortfall is arrears), released at `draft.releaseAt`.
    function _holdReserve(uint256 id, Draft memory draft, uint256 amount) internal {
        uint256 reserveId = _createSettlement(
            Draft({
                licenceId: draft.licenceId,
                period: draft.period,
                year: draft.year,
                yearSpan: 0,
                kind: IRoyaltyLedger.Kind.Reserve,
                royalty: amount,
                credit: 0,
                disputeWindow: 0,
                dueAt: draft.dueAt,
                reserveBps: 0,
                releaseAt: draft.releaseAt
            })
        );
        emit IRoyaltyLedger.ReserveHeld(reserveId, id, draft.licenceId, amount, draft.releaseAt);
    }

    /// @dev Releases every held reserve whose time has come (they are few: one per period of the
    /// licence's reserve periods, more only when reports came late), in the order they were held.
    function _releaseReserves(uint256 licenceId, Account storage account) internal {
        uint256[] storage queue = _s().reserves[licenceId];
        uint256 head = account.reserveHead;
        bool contiguous = true;
        for (uint256 i = head; i < queue.length; ++i) {
            uint256 id = queue[i];
            Stored storage stored = _s().settlements[id];
            if (stored.state == IRoyaltyLedger.State.Held) {
                if (block.timestamp < stored.disputeUntil) {
                    contiguous = false;
                    continue;
                }
                stored.state = IRoyaltyLedger.State.Final;
                --account.reservesOpen;
                _release(id, stored, account, 0, _paid(stored));
            }
            if (contiguous) head = i + 1;
        }
        account.reserveHead = head.toUint32();
    }

    /// @dev A negative period (settlement `byId`) takes up to `amount` back from the reserves
    /// held, oldest first: what of them was paid goes back to the licensee (its arrears first,
    /// then its escrow), what was not is no longer owed. Returns what is left to carry as credit.
    function _consumeReserves(uint256 licenceId, Account storage account, uint256 byId, uint256 amount)
        internal
        returns (uint256 left)
    {
        left = amount;
        if (account.reservesOpen == 0) return left;
        uint256[] storage queue = _s().reserves[licenceId];
        uint256 refunded = 0;
        for (uint256 i = account.reserveHead; i < queue.length && left != 0; ++i) {
            uint256 reserveId = queue[i];
            Stored storage stored = _s().settlements[reserveId];
            if (stored.state != IRoyaltyLedger.State.Held) continue;
            uint256 take = left < stored.due ? left : stored.due;
            uint256 newDue = stored.due - take;
            uint256 paid = _paid(stored);
            uint256 refund = paid > newDue ? paid - newDue : 0;
            // The outstanding part falls by take - refund (what of `take` was still unpaid).
            account.arrears -= (take - refund).toUint128();
            _setAmounts(stored, newDue, paid - refund);
            stored.covered += take.toUint128();
            // Nothing left of it to hold; the equality decides nothing else.
            // slither-disable-next-line incorrect-equality
            if (newDue == 0) {
                stored.state = IRoyaltyLedger.State.Final;
                --account.reservesOpen;
            }
            left -= take;
            refunded += refund;
            emit IRoyaltyLedger.ReserveConsumed(reserveId, byId, licenceId, take, refund, newDue);
        }
        if (refunded != 0) _refund(licenceId, account, refunded);
    }

    /// @dev Money returned to the licensee pays its other arrears first, like any deposit; the
    /// rest goes back to its escrow.
    function _refund(uint256 licenceId, Account storage account, uint256 amount) internal {
        uint256 toArrears = _payArrears(licenceId, account, amount);
        account.escrow += (amount - toArrears).toUint96();
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
                dueAt: uint64(block.timestamp),
                reserveBps: 0,
                releaseAt: 0
            })
        );
        emit IRoyaltyLedger.InterestCharged(
            interestId,
            id,
            stored.licenceId,
            principal,
            uint64(dueAt),
            uint64(block.timestamp),
            uint16(rateBps),
            interest
        );
    }

    /// @dev Queues a shortfall as arrears and a pending settlement for its window, or releases it.
    function _afterSettlement(uint256 id, Stored storage stored, Account storage account, uint256 due, uint256 paid)
        internal
    {
        uint256 licenceId = stored.licenceId;
        if (due > paid) {
            account.arrears += (due - paid).toUint128();
            _s().arrearsQueue[licenceId].push(id);
        }
        if (stored.state == IRoyaltyLedger.State.Final) {
            _release(id, stored, account, 0, paid);
        } else if (stored.state == IRoyaltyLedger.State.Held) {
            _s().reserves[licenceId].push(id);
            ++account.reservesOpen;
        } else {
            _s().pending[licenceId].push(id);
        }
    }

    /// @dev Credits what has been paid of a final settlement (`paid`) beyond `before`, the part
    /// of it released already (what it had paid when it became final, or before this payment).
    function _release(uint256 id, Stored storage stored, Account storage account, uint256 before, uint256 paid)
        internal
    {
        uint256 amount = paid - before;
        // Nothing new to credit; the equality decides nothing else.
        // slither-disable-next-line incorrect-equality
        if (amount == 0) return;
        // An audit cost reimburses the rights holders; it is not a royalty to withhold from.
        uint16 taxBps = stored.kind == IRoyaltyLedger.Kind.AuditCost ? 0 : account.taxBps;
        uint256 tax = RoyaltyMath.taxOnIncrement(before, paid, taxBps);
        if (tax != 0) account.taxOwed += tax.toUint128();
        account.distributed += (amount - tax).toUint96();
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
                _release(id, stored, account, 0, _paid(stored));
            }
            ++head;
        }
        account.pendingHead = uint64(head);
        if (account.reservesOpen != 0) _releaseReserves(licenceId, account);
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
            uint256 outstanding = stored.unpaid;
            bool paysOff = outstanding <= available;
            uint256 pay = paysOff ? outstanding : available;
            if (pay > 0) {
                uint256 paidBefore = uint256(stored.due) - outstanding;
                stored.unpaid = uint104(outstanding - pay);
                account.arrears -= pay.toUint128();
                // Enum comparisons here, not balances: Slither's taint from the measured deposit
                // misleads its strict-equality detector.
                // slither-disable-next-line incorrect-equality
                if (stored.state == IRoyaltyLedger.State.Disputed) account.disputedArrears -= pay.toUint128();
                available -= pay;
                used += pay;
                emit IRoyaltyLedger.ArrearsPaid(id, licenceId, pay, outstanding - pay);
                // slither-disable-next-line incorrect-equality
                if (stored.state == IRoyaltyLedger.State.Final) {
                    _release(id, stored, account, paidBefore, paidBefore + pay);
                }
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
        // Enum comparisons, not balances.
        // slither-disable-next-line incorrect-equality
        return kind == IRoyaltyLedger.Kind.Report || kind == IRoyaltyLedger.Kind.Adjustment
            || kind == IRoyaltyLedger.Kind.Audit;
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

    /// @dev What has been paid of a settlement.
    function _paid(Stored storage stored) internal view returns (uint256) {
        return uint256(stored.due) - stored.unpaid;
    }

    /// @dev Sets what a settlement owes and what of it has been paid (slot 1 is written only
    /// when something is unpaid or was before).
    function _setAmounts(Stored storage stored, uint256 due, uint256 paid) internal {
        stored.due = due.toUint104();
        uint256 unpaid = due - paid;
        if (unpaid != 0 || stored.unpaid != 0) stored.unpaid = uint104(unpaid);
    }

    /// @dev The settlement of a licence's period (0: none yet).
    function _settledId(uint256 licenceId, uint32 period) internal view returns (uint256) {
        (uint256 word, uint256 shift) = _idPlace(period);
        return uint40(_s().settledIds[licenceId][word] >> shift);
    }

    /// @dev Ids are 40 bits here (a trillion settlements; SafeCast reverts beyond).
    function _recordSettled(uint256 licenceId, uint32 period, uint256 id) internal {
        (uint256 word, uint256 shift) = _idPlace(period);
        _s().settledIds[licenceId][word] |= uint256(id.toUint40()) << shift;
    }

    /// @dev The word of `settledIds` holding a period's id, and the id's bit offset in it.
    function _idPlace(uint32 period) private pure returns (uint256 word, uint256 shift) {
        unchecked {
            word = uint256(period) / 6;
            shift = (uint256(period) % 6) * 40;
        }
    }
}
