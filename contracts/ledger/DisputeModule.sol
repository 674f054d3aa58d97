// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {LicenceClock} from "../LicenceClock.sol";
import {ILicenceRegistry} from "../interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";
import {LicenceCalendar} from "../libraries/LicenceCalendar.sol";
import {LedgerCore} from "./LedgerCore.sol";

/// @dev EIP-712 type hashes of a party's signed dispute and of both parties' signed resolution
/// (RoyaltyLedger publishes them as DISPUTE_TYPEHASH and RESOLVE_TYPEHASH).
bytes32 constant DISPUTE_SETTLEMENT_TYPEHASH =
    keccak256("DisputeSettlement(uint256 settlementId,address party,uint64 deadline)");
bytes32 constant RESOLVE_DISPUTE_TYPEHASH =
    keccak256("ResolveDispute(uint256 settlementId,uint128 finalAmount,uint64 deadline)");

/// @title DisputeModule: disputes of pending settlements and their resolution
/// @notice Run only by the ledger's DELEGATECALL (in the ledger's storage, after the ledger's
/// reentrancy checks), like the SettlementModule, so that the ledger's own code keeps room for
/// the payout paths within EIP-170. It is deployed on its own and handed to the ledger's
/// constructor: nested in the ledger's creation code, next to the SettlementModule's, it would
/// take that past EIP-3860's 49,152 bytes. Its EIP-712 domain is the ledger's: the same name and
/// version, and `address(this)` is the ledger when it runs.
contract DisputeModule is LedgerCore, EIP712 {
    using SafeCast for uint256;

    error DirectCall();

    address private immutable _self;

    constructor(ILicenceRegistry registry_, LicenceClock clock_)
        LedgerCore(registry_, clock_)
        EIP712("RoyaltyLedger", "1")
    {
        _self = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == _self) revert DirectCall();
        _;
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL, after its pause and reentrancy checks. Here
    /// rather than in the SettlementModule, whose code is full.
    function chargeMinimumGuarantee(uint256 licenceId, uint32 year)
        external
        onlyDelegated
        returns (uint256 settlementId)
    {
        _releaseMatured(licenceId, _openAccount(licenceId));
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(licenceId);
        if (year > type(uint16).max) revert IRoyaltyLedger.YearOutsideTerm(licenceId, year);
        (uint64 yearStart, uint64 yearEnd, uint64 fullLength) =
            LicenceCalendar.yearBounds(context.start, context.calendar, year);
        if (yearStart >= context.effectiveEnd) revert IRoyaltyLedger.YearOutsideTerm(licenceId, year);
        uint64 dueAt = yearEnd + uint64(context.calendar.dueDays) * 1 days;
        if (yearEnd > context.effectiveEnd) yearEnd = context.effectiveEnd;
        if (block.timestamp < yearEnd) revert IRoyaltyLedger.YearNotEnded(licenceId, year, yearEnd);
        Year storage record = _s().yearTotals[licenceId][year];
        if (record.guaranteeCharged) revert IRoyaltyLedger.GuaranteeAlreadyCharged(licenceId, year);
        // The year's royalty is only known once none of its settlements can still change.
        if (record.open != 0) revert IRoyaltyLedger.YearHasOpenSettlements(licenceId, year, record.open);
        // A year cut short (a first year that starts after the anniversary, termination, expiry)
        // owes the guarantee pro rata to its length in the 365- or 366-day year (rounded down).
        uint256 guarantee =
            uint256(registry.minimumGuaranteeAt(licenceId, yearStart)) * (yearEnd - yearStart) / fullLength;
        if (record.royalty >= guarantee) revert IRoyaltyLedger.NoShortfall(licenceId, year, record.royalty, guarantee);
        uint256 shortfall = guarantee - record.royalty;
        record.guaranteeCharged = true;
        record.guaranteeCredit = shortfall.toUint128();
        _s().accounts[licenceId].guaranteeCharged = true;
        settlementId = _createSettlement(
            Draft({
                licenceId: licenceId,
                period: year,
                year: year,
                yearSpan: 0,
                kind: IRoyaltyLedger.Kind.MinimumGuarantee,
                royalty: shortfall,
                credit: 0,
                disputeWindow: context.disputeWindow,
                dueAt: dueAt,
                reserveBps: 0,
                releaseAt: 0
            })
        );
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL.
    function dispute(uint256 settlementId) external onlyDelegated {
        _dispute(settlementId, msg.sender);
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL.
    function disputeFor(uint256 settlementId, address party, uint64 deadline, bytes calldata signature)
        external
        onlyDelegated
    {
        if (block.timestamp > deadline) revert IRoyaltyLedger.SignatureExpired(deadline, block.timestamp);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(DISPUTE_SETTLEMENT_TYPEHASH, settlementId, party, deadline)));
        if (!registry.isValidSignature(party, digest, signature)) revert IRoyaltyLedger.PartySignatureInvalid(party);
        _dispute(settlementId, party);
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL.
    function resolveDispute(uint256 settlementId, uint128 finalAmount) external onlyDelegated {
        Stored storage stored = _existing(settlementId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(stored.licenceId);
        if (msg.sender != context.arbiter) revert IRoyaltyLedger.NotArbiter(msg.sender);
        _resolve(settlementId, stored, finalAmount, context, true);
    }

    /// @notice See IRoyaltyLedger; run by the ledger through DELEGATECALL.
    function resolveDisputeByParties(
        uint256 settlementId,
        uint128 finalAmount,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external onlyDelegated {
        Stored storage stored = _existing(settlementId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(stored.licenceId);
        if (block.timestamp > deadline) revert IRoyaltyLedger.SignatureExpired(deadline, block.timestamp);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(RESOLVE_DISPUTE_TYPEHASH, settlementId, finalAmount, deadline)));
        _requirePartySignature(context.licensor, digest, licensorSig);
        _requirePartySignature(context.licensee, digest, licenseeSig);
        _resolve(settlementId, stored, finalAmount, context, false);
    }

    /// @notice A report's negative period (its returns exceeded its sales): taken back from the
    /// reserves held first; the rest is never paid out to the licensee, never taken back from
    /// payees: it offsets the licensee's next royalties. Run by the SettlementModule's own
    /// DELEGATECALL from the ledger's, so in the ledger's storage; here rather than there, whose
    /// code is full, since only a negative period needs it.
    function carryNegative(uint256 settlementId, uint256 licenceId, uint256 amount) external onlyDelegated {
        Account storage account = _s().accounts[licenceId];
        uint256 carried = _consumeReserves(licenceId, account, settlementId, amount);
        if (carried == 0) return;
        account.credit += carried.toUint128();
        account.recouping = true;
        emit IRoyaltyLedger.CreditCarried(settlementId, licenceId, carried, account.credit);
    }

    // ------------------------------------------------------------------ internal

    function _dispute(uint256 settlementId, address party) private {
        Stored storage stored = _existing(settlementId);
        (address licensor, address licensee) = registry.parties(stored.licenceId);
        if (party != licensor && party != licensee) revert IRoyaltyLedger.NotParty(stored.licenceId, party);
        if (stored.state != IRoyaltyLedger.State.Pending) {
            revert IRoyaltyLedger.NotDisputable(settlementId, stored.state);
        }
        if (block.timestamp >= stored.disputeUntil) {
            revert IRoyaltyLedger.DisputeWindowClosed(settlementId, stored.disputeUntil);
        }
        stored.state = IRoyaltyLedger.State.Disputed;
        // What is still unpaid on it is contested, not in breach, until the dispute ends.
        _s().accounts[stored.licenceId].disputedArrears += stored.unpaid;
        emit IRoyaltyLedger.Disputed(settlementId, stored.licenceId, party);
    }

    function _resolve(
        uint256 settlementId,
        Stored storage stored,
        uint128 finalAmount,
        ILicenceRegistry.SettlementContext memory context,
        bool byArbiter
    ) private {
        if (stored.state != IRoyaltyLedger.State.Disputed) {
            revert IRoyaltyLedger.NotDisputed(settlementId, stored.state);
        }
        if (finalAmount > stored.due) revert IRoyaltyLedger.FinalAmountAboveDue(settlementId, finalAmount, stored.due);
        uint256 licenceId = stored.licenceId;
        Account storage account = _s().accounts[licenceId];
        uint256 outstandingBefore = stored.unpaid;
        account.disputedArrears -= outstandingBefore.toUint128();
        uint256 paid = _paid(stored);
        uint256 refund = paid > finalAmount ? paid - finalAmount : 0;
        uint256 reduction = stored.due - finalAmount;
        Year storage record = _s().yearTotals[licenceId][stored.year];
        if (_isRoyalty(stored.kind)) {
            _reduceYearsRoyalty(licenceId, stored, reduction);
            _closeYears(licenceId, stored);
        } else if (stored.kind == IRoyaltyLedger.Kind.MinimumGuarantee) {
            // A shortfall reduced on dispute can no longer offset that much of later reports.
            uint256 creditCut = reduction < record.guaranteeCredit ? reduction : record.guaranteeCredit;
            record.guaranteeCredit -= creditCut.toUint128();
        }
        paid -= refund;
        _setAmounts(stored, finalAmount, paid);
        // The royalty stays what the report priced; the cut is covered by the resolution.
        if (reduction != 0) stored.covered += reduction.toUint128();
        stored.state = IRoyaltyLedger.State.Final;
        uint256 outstandingAfter = finalAmount - paid;
        account.arrears -= (outstandingBefore - outstandingAfter).toUint128();
        if (outstandingBefore > outstandingAfter && account.arrears == 0) _arrearsCleared(licenceId, account);
        emit IRoyaltyLedger.DisputeResolved(settlementId, licenceId, finalAmount, refund, byArbiter);
        _release(settlementId, stored, account, 0, paid);
        if (refund > 0) _refund(licenceId, account, refund);
    }

    /// @dev A dispute cut a report's amount: its years' royalty falls by as much, latest year first.
    function _reduceYearsRoyalty(uint256 licenceId, Stored storage stored, uint256 reduction) private {
        uint32 first = stored.year;
        for (uint32 y = first + stored.yearSpan; reduction != 0; --y) {
            Year storage record = _s().yearTotals[licenceId][y];
            uint256 cut = reduction < record.royalty ? reduction : record.royalty;
            record.royalty -= cut.toUint128();
            reduction -= cut;
            if (y == first) break;
        }
    }

    function _requirePartySignature(address party, bytes32 digest, bytes calldata signature) private view {
        if (msg.sender == party) return;
        if (!registry.isValidSignature(party, digest, signature)) revert IRoyaltyLedger.PartySignatureInvalid(party);
    }
}
