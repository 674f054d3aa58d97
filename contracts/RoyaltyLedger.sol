// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {LedgerCore} from "./ledger/LedgerCore.sol";
import {SettlementModule} from "./ledger/SettlementModule.sol";
import {LicenceRegistry} from "./LicenceRegistry.sol";
import {RoyaltyMath} from "./libraries/RoyaltyMath.sol";

/// @title RoyaltyLedger
/// @notice Escrow, settlement of signed sales reports, split balances, withdrawals and disputes.
/// The pauser can stop settlement; no role can move anybody's funds.
contract RoyaltyLedger is IRoyaltyLedger, LedgerCore, AccessControl, EIP712, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ constants

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    bytes32 public constant DISPUTE_TYPEHASH =
        keccak256("DisputeSettlement(uint256 settlementId,address party,uint64 deadline)");
    bytes32 public constant RESOLVE_TYPEHASH =
        keccak256("ResolveDispute(uint256 settlementId,uint128 finalAmount,uint64 deadline)");

    /// @notice Where settleReports and chargeMinimumGuarantee run (deployed with the ledger).
    address public immutable settlementModule;

    // ------------------------------------------------------------------ constructor

    constructor(ILicenceRegistry registry_, address admin)
        LedgerCore(registry_, LicenceRegistry(address(registry_)).clock())
        EIP712("RoyaltyLedger", "1")
    {
        settlementModule = address(new SettlementModule(registry_, LicenceRegistry(address(registry_)).clock()));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Stop settlement (reports and guarantee charges). Deposits and withdrawals go on.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ licence money

    /// @inheritdoc IRoyaltyLedger
    function openLicence(
        uint256 licenceId,
        address token,
        address licensee,
        address[] calldata payees,
        uint16[] calldata sharesBps,
        uint16 taxBps,
        address taxAccount,
        uint128 advance,
        uint16 interestBps
    ) external nonReentrant {
        if (msg.sender != address(registry)) revert NotRegistry(msg.sender);
        if (_s().accounts[licenceId].token != address(0)) revert LicenceAlreadyOpened(licenceId);
        Account storage account = _s().accounts[licenceId];
        account.token = token;
        account.taxBps = taxBps;
        account.interestBps = interestBps;
        account.licensee = licensee;
        account.taxAccount = taxAccount;
        _storePayees(licenceId, payees, sharesBps);
        uint256 received = advance == 0 ? 0 : _pull(IERC20(token), licensee, advance);
        emit LicenceOpened(licenceId, token, licensee, payees, sharesBps, taxBps, taxAccount, received.toUint128());
        if (received > 0) _recordAdvance(licenceId, account, received);
    }

    /// @dev Payees ascending by address, and the running sums of their shares for the split.
    function _storePayees(uint256 licenceId, address[] calldata payees, uint16[] calldata sharesBps) private {
        _s().payees[licenceId] = payees;
        uint16[] storage prefix = _s().prefixBps[licenceId];
        uint16 sum = 0;
        prefix.push(0);
        for (uint256 i; i < sharesBps.length; ++i) {
            sum += sharesBps[i];
            prefix.push(sum);
        }
    }

    /// @dev The advance is paid at signing: a final settlement credited to the payees at once,
    /// and recouped from later royalties.
    function _recordAdvance(uint256 licenceId, Account storage account, uint256 received) private {
        account.advanceRemaining = received.toUint128();
        account.recouping = true;
        uint256 id = ++_s().settlementCount;
        Stored storage stored = _s().settlements[id];
        stored.licenceId = licenceId.toUint40();
        stored.kind = Kind.Advance;
        stored.state = State.Final;
        stored.dueAt = uint40(block.timestamp);
        stored.due = received.toUint104();
        emit Settled(id, licenceId, Kind.Advance, 0, received, 0, received, received, false, uint64(block.timestamp));
        _release(id, stored, account, 0, received);
    }

    /// @inheritdoc IRoyaltyLedger
    function deposit(uint256 licenceId, uint256 amount) external nonReentrant {
        Account storage account = _openAccount(licenceId);
        if (amount == 0) revert ZeroAmount();
        _credit(licenceId, account, msg.sender, _pull(IERC20(account.token), msg.sender, amount));
    }

    /// @inheritdoc IRoyaltyLedger
    /// @dev The owner is the licensee, never an argument: a permit does not name the licence, so
    /// whoever relays it could pick another one; this way the tokens only reach an escrow of the
    /// licensee's own licences. A permit someone already submitted to the token (front-running
    /// this call) leaves its allowance behind, so a failed permit is ignored and the transfer
    /// decides: it fails (the token's ERC20InsufficientAllowance) unless an allowance covers
    /// `amount`. (The token's own reason is not passed on: that would cost about 180 bytes of a
    /// ledger near the size limit; the API checks deadline, nonce and signer before relaying.)
    function depositWithPermit(uint256 licenceId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        Account storage account = _openAccount(licenceId);
        if (amount == 0) revert ZeroAmount();
        address owner = account.licensee;
        IERC20 token = IERC20(account.token);
        try IERC20Permit(address(token)).permit(owner, address(this), amount, deadline, v, r, s) {} catch {}
        _credit(licenceId, account, owner, _pull(token, owner, amount));
    }

    /// @dev A deposit's tokens, as received: arrears first, the rest to escrow.
    function _credit(uint256 licenceId, Account storage account, address from, uint256 received) private {
        uint256 toArrears = _payArrears(licenceId, account, received);
        uint256 toEscrow = received - toArrears;
        account.escrow += toEscrow.toUint96();
        emit Deposited(licenceId, from, received, toArrears, toEscrow);
    }

    /// @inheritdoc IRoyaltyLedger
    function withdrawEscrow(uint256 licenceId, uint256 amount) external nonReentrant {
        Account storage account = _openAccount(licenceId);
        if (msg.sender != account.licensee) revert NotParty(licenceId, msg.sender);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(licenceId);
        // The last period may start just before the sell-off ends: leave time to report it.
        uint64 closesAt = _closesAt(context);
        if (block.timestamp < closesAt) revert LicenceStillOpen(licenceId, closesAt);
        if (amount == 0) revert ZeroAmount();
        if (amount > account.escrow) revert EscrowTooLow(licenceId, amount, account.escrow);
        account.escrow -= uint96(amount); // at most the escrow, checked above
        emit EscrowWithdrawn(licenceId, msg.sender, amount);
        IERC20(account.token).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ settlement

    /// @inheritdoc IRoyaltyLedger
    /// @dev No reentrancy guard here or on chargeMinimumGuarantee: settlement calls only the
    /// registry and the clock (both fixed at deployment), never a token or a party.
    function settleReports(Report[] calldata, bytes[][] calldata)
        external
        whenNotPaused
        returns (uint256[] memory settlementIds)
    {
        settlementIds = abi.decode(_delegateToSettlement(SettlementModule.settleReports.selector), (uint256[]));
    }

    /// @inheritdoc IRoyaltyLedger
    function chargeMinimumGuarantee(uint256, uint32) external whenNotPaused returns (uint256 settlementId) {
        settlementId = abi.decode(_delegateToSettlement(SettlementModule.chargeMinimumGuarantee.selector), (uint256));
    }

    /// @dev Runs the module's `selector` with this call's own arguments (copied as they came, not
    /// re-encoded) in this contract's storage; its revert comes back as it is.
    function _delegateToSettlement(bytes4 selector) private returns (bytes memory result) {
        bool ok;
        // The target is the module this contract deployed (immutable) and the function is fixed
        // by the caller of this helper, not by the transaction: Slither's controlled-delegatecall
        // sees only that the arguments come from calldata.
        // slither-disable-next-line controlled-delegatecall
        (ok, result) = settlementModule.delegatecall(bytes.concat(selector, msg.data[4:]));
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }

    /// @inheritdoc IRoyaltyLedger
    function releaseMatured(uint256 licenceId) external nonReentrant {
        _releaseMatured(licenceId, _openAccount(licenceId));
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc IRoyaltyLedger
    function withdraw(uint256 licenceId, address payee) external nonReentrant returns (uint256 amount) {
        Account storage account = _openAccount(licenceId);
        (bool found, uint256 index) = _payeeIndex(licenceId, payee);
        if (!found) revert NotPayee(licenceId, payee);
        _releaseMatured(licenceId, account);
        amount = RoyaltyMath.partOf(account.distributed, _s().prefixBps[licenceId], index) - _s().withdrawn[licenceId][payee];
        if (amount == 0) revert NothingToWithdraw(licenceId, payee);
        _s().withdrawn[licenceId][payee] += amount;
        emit Withdrawn(licenceId, payee, amount, false);
        IERC20(account.token).safeTransfer(payee, amount);
    }

    /// @inheritdoc IRoyaltyLedger
    function withdrawTax(uint256 licenceId) external nonReentrant returns (uint256 amount) {
        Account storage account = _openAccount(licenceId);
        _releaseMatured(licenceId, account);
        amount = account.taxOwed;
        if (amount == 0) revert NothingToWithdraw(licenceId, account.taxAccount);
        account.taxOwed = 0;
        emit Withdrawn(licenceId, account.taxAccount, amount, true);
        IERC20(account.token).safeTransfer(account.taxAccount, amount);
    }

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IRoyaltyLedger
    function dispute(uint256 settlementId) external {
        _dispute(settlementId, msg.sender);
    }

    /// @inheritdoc IRoyaltyLedger
    function disputeFor(uint256 settlementId, address party, uint64 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(DISPUTE_TYPEHASH, settlementId, party, deadline)));
        if (!registry.isValidSignature(party, digest, signature)) revert PartySignatureInvalid(party);
        _dispute(settlementId, party);
    }

    /// @inheritdoc IRoyaltyLedger
    function resolveDispute(uint256 settlementId, uint128 finalAmount) external nonReentrant {
        Stored storage stored = _existing(settlementId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(stored.licenceId);
        if (msg.sender != context.arbiter) revert NotArbiter(msg.sender);
        _resolve(settlementId, stored, finalAmount, context, true);
    }

    /// @inheritdoc IRoyaltyLedger
    function resolveDisputeByParties(
        uint256 settlementId,
        uint128 finalAmount,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external nonReentrant {
        Stored storage stored = _existing(settlementId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(stored.licenceId);
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(RESOLVE_TYPEHASH, settlementId, finalAmount, deadline)));
        _requirePartySignature(context.licensor, digest, licensorSig);
        _requirePartySignature(context.licensee, digest, licenseeSig);
        _resolve(settlementId, stored, finalAmount, context, false);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRoyaltyLedger
    function settlement(uint256 settlementId) external view returns (Settlement memory) {
        Stored storage stored = _existing(settlementId);
        return Settlement({
            licenceId: stored.licenceId,
            period: stored.period,
            kind: stored.kind,
            state: stored.state,
            settledAt: stored.settledAt,
            disputeUntil: stored.disputeUntil,
            dueAt: stored.dueAt,
            year: stored.year,
            royalty: (uint256(stored.due) + stored.covered).toUint128(),
            due: stored.due,
            paid: _paid(stored).toUint128(),
            released: stored.state == State.Final ? _paid(stored).toUint128() : 0
        });
    }

    /// @inheritdoc IRoyaltyLedger
    function settlementCount() external view returns (uint256) {
        return _s().settlementCount;
    }

    /// @inheritdoc IRoyaltyLedger
    function escrowOf(uint256 licenceId) external view returns (uint256) {
        return _s().accounts[licenceId].escrow;
    }

    /// @inheritdoc IRoyaltyLedger
    function arrearsOf(uint256 licenceId) external view returns (uint256) {
        return _s().accounts[licenceId].arrears;
    }

    /// @inheritdoc IRoyaltyLedger
    function undisputedArrearsOf(uint256 licenceId) external view returns (uint256) {
        Account storage account = _s().accounts[licenceId];
        return account.arrears - account.disputedArrears;
    }

    /// @inheritdoc IRoyaltyLedger
    function arrearsClearedAt(uint256 licenceId) external view returns (uint64) {
        return _s().accounts[licenceId].arrearsClearedAt;
    }

    /// @inheritdoc IRoyaltyLedger
    function advanceRemaining(uint256 licenceId) external view returns (uint256) {
        return _s().accounts[licenceId].advanceRemaining;
    }

    /// @inheritdoc IRoyaltyLedger
    /// @dev Counts released settlements only; `withdraw` first releases those whose window passed.
    function claimable(uint256 licenceId, address payee) external view returns (uint256) {
        (bool found, uint256 index) = _payeeIndex(licenceId, payee);
        if (!found) return 0;
        return RoyaltyMath.partOf(_s().accounts[licenceId].distributed, _s().prefixBps[licenceId], index)
            - _s().withdrawn[licenceId][payee];
    }

    /// @inheritdoc IRoyaltyLedger
    function taxClaimable(uint256 licenceId) external view returns (uint256) {
        return _s().accounts[licenceId].taxOwed;
    }

    /// @inheritdoc IRoyaltyLedger
    function settledPeriod(uint256 licenceId, uint32 period) external view returns (uint256) {
        return _settledId(licenceId, period);
    }

    /// @inheritdoc IRoyaltyLedger
    function lastSequence(uint256 licenceId) external view returns (uint64) {
        return _s().accounts[licenceId].lastSequence;
    }

    /// @inheritdoc IRoyaltyLedger
    function creditOf(uint256 licenceId) external view returns (uint256) {
        return _s().accounts[licenceId].credit;
    }

    /// @inheritdoc IRoyaltyLedger
    function latestOfPeriod(uint256 licenceId, uint32 period) external view returns (uint256) {
        uint256 latest = _s().latestAdjustment[licenceId][period];
        return latest != 0 ? latest : _settledId(licenceId, period);
    }

    /// @notice Payees of a licence (ascending by address) and the running sums of their shares.
    function payeesOf(uint256 licenceId) external view returns (address[] memory, uint16[] memory prefixBps) {
        return (_s().payees[licenceId], _s().prefixBps[licenceId]);
    }

    /// @notice Total credited to a payee so far and total paid out to it.
    function payeeTotals(uint256 licenceId, address payee) external view returns (uint256 entitled, uint256 withdrawn) {
        (bool found, uint256 index) = _payeeIndex(licenceId, payee);
        if (!found) return (0, 0);
        return (
            RoyaltyMath.partOf(_s().accounts[licenceId].distributed, _s().prefixBps[licenceId], index),
            _s().withdrawn[licenceId][payee]
        );
    }

    /// @notice Cumulative amount credited to a licence's payees.
    function distributedOf(uint256 licenceId) external view returns (uint256) {
        return _s().accounts[licenceId].distributed;
    }

    /// @notice The EIP-712 domain separator, for clients building typed data.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal: settlement















    // ------------------------------------------------------------------ internal: disputes

    function _dispute(uint256 settlementId, address party) private {
        Stored storage stored = _existing(settlementId);
        (address licensor, address licensee) = registry.parties(stored.licenceId);
        if (party != licensor && party != licensee) revert NotParty(stored.licenceId, party);
        if (stored.state != State.Pending) revert NotDisputable(settlementId, stored.state);
        if (block.timestamp >= stored.disputeUntil) revert DisputeWindowClosed(settlementId, stored.disputeUntil);
        stored.state = State.Disputed;
        // What is still unpaid on it is contested, not in breach, until the dispute ends.
        _s().accounts[stored.licenceId].disputedArrears += stored.unpaid;
        emit Disputed(settlementId, stored.licenceId, party);
    }

    function _resolve(
        uint256 settlementId,
        Stored storage stored,
        uint128 finalAmount,
        ILicenceRegistry.SettlementContext memory context,
        bool byArbiter
    ) private {
        if (stored.state != State.Disputed) revert NotDisputed(settlementId, stored.state);
        if (finalAmount > stored.due) revert FinalAmountAboveDue(settlementId, finalAmount, stored.due);
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
        } else if (stored.kind == Kind.MinimumGuarantee) {
            // A shortfall reduced on dispute can no longer offset that much of later reports.
            uint256 creditCut = reduction < record.guaranteeCredit ? reduction : record.guaranteeCredit;
            record.guaranteeCredit -= creditCut.toUint128();
        }
        paid -= refund;
        _setAmounts(stored, finalAmount, paid);
        // The royalty stays what the report priced; the cut is covered by the resolution.
        if (reduction != 0) stored.covered += reduction.toUint128();
        stored.state = State.Final;
        uint256 outstandingAfter = finalAmount - paid;
        account.arrears -= (outstandingBefore - outstandingAfter).toUint128();
        if (outstandingBefore > outstandingAfter && account.arrears == 0) _arrearsCleared(licenceId, account);
        emit DisputeResolved(settlementId, licenceId, finalAmount, refund, byArbiter);
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

    /// @dev When the licensee may take its escrow back: the end of the period the sell-off ends
    /// in, plus the due days to report it.
    function _closesAt(ILicenceRegistry.SettlementContext memory context) private view returns (uint64) {
        uint64 lastEnd = clock.endOfPeriodBefore(context.start, context.periodSeconds, context.calendar, context.sellOffEnd);
        return lastEnd + uint64(context.calendar.dueDays) * 1 days;
    }

    function _requirePartySignature(address party, bytes32 digest, bytes calldata signature) private view {
        if (msg.sender == party) return;
        if (!registry.isValidSignature(party, digest, signature)) revert PartySignatureInvalid(party);
    }

    // ------------------------------------------------------------------ internal: helpers



    /// @dev Payees are stored in ascending address order, so a binary search finds one.
    function _payeeIndex(uint256 licenceId, address payee) private view returns (bool found, uint256 index) {
        address[] storage payees = _s().payees[licenceId];
        uint256 lo = 0;
        uint256 hi = payees.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            address candidate = payees[mid];
            if (candidate == payee) return (true, mid);
            if (candidate < payee) lo = mid + 1;
            else hi = mid;
        }
        return (false, 0);
    }

    /// @dev Credits what actually arrived, so a fee-on-transfer token cannot over-credit.
    /// `from` is the caller (deposits), the licensee of a licence being opened (the advance: only
    /// the registry opens licences, and only with the licensee's EIP-712 consent to terms that
    /// name this exact advance) or the licensee of a permit deposit (its own permit, or an
    /// allowance it gave, into its own licence's escrow), so no one can pull from an account that
    /// did not agree.
    function _pull(IERC20 token, address from, uint256 amount) private returns (uint256 received) {
        uint256 before = token.balanceOf(address(this));
        // slither-disable-next-line arbitrary-send-erc20
        token.safeTransferFrom(from, address(this), amount);
        received = token.balanceOf(address(this)) - before;
    }
}
