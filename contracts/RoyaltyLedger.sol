// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {LedgerCore} from "./ledger/LedgerCore.sol";
import {DISPUTE_SETTLEMENT_TYPEHASH, RESOLVE_DISPUTE_TYPEHASH, DisputeModule} from "./ledger/DisputeModule.sol";
import {SettlementModule} from "./ledger/SettlementModule.sol";
import {LicenceRegistry} from "./LicenceRegistry.sol";
import {PayeeList} from "./libraries/PayeeList.sol";

/// @title RoyaltyLedger
/// @notice Escrow, settlement of signed sales reports, split balances, withdrawals and disputes.
/// The pauser can stop settlement; no role can move anybody's funds.
contract RoyaltyLedger is IRoyaltyLedger, LedgerCore, AccessControl, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ constants

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    bytes32 public constant DISPUTE_TYPEHASH = DISPUTE_SETTLEMENT_TYPEHASH;
    bytes32 public constant RESOLVE_TYPEHASH = RESOLVE_DISPUTE_TYPEHASH;

    /// @notice Gas each transfer of a distribution may use; a payee whose transfer needs more is
    /// left unpaid (claimable) rather than holding the others up.
    uint256 public constant PAYOUT_GAS = 100_000;
    /// @notice Registration publishes payee lists up to this long as code at once (about 4,400
    /// gas per payee); a longer list is committed to by its hash and published by publishPayees.
    uint256 public constant EAGER_PUBLISH_MAX_PAYEES = 32;
    /// @dev Kept back at each transfer of a distribution beyond PAYOUT_GAS and its 1/64: enough
    /// to record a failed payout (a fresh `unpaid` slot and its event) and reach the next payee.
    uint256 private constant AFTER_PAYOUT_GAS = 40_000;

    /// @notice Where settleReports runs.
    address public immutable settlementModule;
    /// @notice Where disputes and their resolution, and guarantee shortfalls, run.
    address public immutable disputeModule;

    error ModuleOfOtherRegistry(address module, address registry);
    /// @dev OpenZeppelin Pausable's errors and events, same signatures: the switch itself lives
    /// in the ledger's storage next to the settlement counter (LedgerStorage.paused).
    error EnforcedPause();
    error ExpectedPause();

    event Paused(address account);
    event Unpaused(address account);

    // ------------------------------------------------------------------ constructor

    /// @dev Both modules are deployed before the ledger, for the same registry: nested in the
    /// ledger's creation code they would take it past EIP-3860's 49,152 bytes.
    constructor(ILicenceRegistry registry_, address admin, SettlementModule settlementModule_, DisputeModule disputes)
        LedgerCore(registry_, LicenceRegistry(address(registry_)).clock())
        EIP712("RoyaltyLedger", "1")
    {
        _requireSameRegistry(address(settlementModule_), settlementModule_.registry(), registry_);
        _requireSameRegistry(address(disputes), disputes.registry(), registry_);
        settlementModule = address(settlementModule_);
        disputeModule = address(disputes);
        _s().deployed = true;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    function _requireSameRegistry(address module, ILicenceRegistry its, ILicenceRegistry ours) private pure {
        if (its != ours) revert ModuleOfOtherRegistry(module, address(its));
    }

    // ------------------------------------------------------------------ admin

    /// @notice Stop settlement (reports and guarantee charges). Deposits and withdrawals go on.
    function pause() external onlyRole(PAUSER_ROLE) {
        if (_s().paused) revert EnforcedPause();
        _s().paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        if (!_s().paused) revert ExpectedPause();
        _s().paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Whether settlement is stopped.
    function paused() external view returns (bool) {
        return _s().paused;
    }

    modifier whenNotPaused() {
        if (_s().paused) revert EnforcedPause();
        _;
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
        uint16 interestBps,
        bool releasesAtOnce
    ) external nonReentrant {
        if (msg.sender != address(registry)) revert NotRegistry(msg.sender);
        if (_s().accounts[licenceId].token != address(0)) revert LicenceAlreadyOpened(licenceId);
        Account storage account = _s().accounts[licenceId];
        account.token = token;
        account.taxBps = taxBps;
        account.interestBps = interestBps;
        account.licensee = licensee;
        account.taxAccount = taxAccount;
        _storePayees(licenceId, token, payees, sharesBps, releasesAtOnce);
        uint256 received = advance == 0 ? 0 : _pull(IERC20(token), licensee, advance);
        emit LicenceOpened(licenceId, token, licensee, payees, sharesBps, taxBps, taxAccount, received.toUint128());
        if (received > 0) _recordAdvance(licenceId, account, received);
    }

    /// @dev Payees ascending by address (validated by the registry), as one packed list: deployed
    /// as code now if short, else committed to by its hash.
    function _storePayees(
        uint256 licenceId,
        address token,
        address[] calldata payees,
        uint16[] calldata sharesBps,
        bool releasesAtOnce
    ) private {
        if (payees.length != sharesBps.length) {
            revert PayeeListLengths(payees.length, sharesBps.length);
        }
        bytes memory list = PayeeList.pack(token, payees, sharesBps);
        Payout storage payout = _s().payouts[licenceId];
        bool publishNow = payees.length <= EAGER_PUBLISH_MAX_PAYEES;
        payout.payeeCount = uint16(payees.length);
        payout.releasesAtOnce = releasesAtOnce;
        payout.published = publishNow;
        if (publishNow) _publish(licenceId, list);
        else payout.payeesHash = keccak256(list);
    }

    /// @dev Deploys `list` as the code of PayeeList.holderOf(this, licenceId): CREATE2 of a fixed
    /// proxy salted with the licence id, which CREATEs the holder from the creation code given.
    function _publish(uint256 licenceId, bytes memory list) private {
        bytes memory proxyCode = PayeeList.PROXY_CODE;
        bytes memory creation = PayeeList.creationCode(list);
        address holder = PayeeList.holderOf(address(this), licenceId);
        address proxy;
        bool ok;
        assembly ("memory-safe") {
            proxy := create2(0, add(proxyCode, 32), mload(proxyCode), licenceId)
            if proxy { ok := call(gas(), proxy, 0, add(creation, 32), mload(creation), 0, 0) }
        }
        if (!ok || holder.code.length != list.length) revert PayeeListNotDeployed(licenceId, holder);
        emit PayeesPublished(licenceId, holder);
    }

    /// @inheritdoc IRoyaltyLedger
    function publishPayees(uint256 licenceId, address[] calldata payees, uint16[] calldata sharesBps) external {
        Payout storage payout = _s().payouts[licenceId];
        if (payout.payeeCount == 0) revert UnknownLicence(licenceId);
        if (payout.published) revert PayeesAlreadyPublished(licenceId);
        if (payees.length != sharesBps.length) revert PayeeListLengths(payees.length, sharesBps.length);
        bytes memory list = PayeeList.pack(_s().accounts[licenceId].token, payees, sharesBps);
        bytes32 given = keccak256(list);
        if (given != payout.payeesHash) revert PayeeListMismatch(licenceId, payout.payeesHash, given);
        payout.published = true;
        _publish(licenceId, list);
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
    // _forward ends the call with the module's answer, which is this function's return value.
    // slither-disable-next-line incorrect-return
    function settleReports(Report[] calldata, bytes[][] calldata)
        external
        whenNotPaused
        returns (uint256[] memory settlementIds)
    {
        _forward(settlementModule, SettlementModule.settleReports.selector);
    }

    /// @inheritdoc IRoyaltyLedger
    // slither-disable-next-line incorrect-return
    function chargeMinimumGuarantee(uint256, uint32) external whenNotPaused returns (uint256 settlementId) {
        _forward(disputeModule, DisputeModule.chargeMinimumGuarantee.selector);
    }

    /// @dev Runs the module's `selector` with this call's own arguments in this contract's storage
    /// and ends this call with the module's return data or revert, as they are (nothing decoded or
    /// re-encoded). Only for entry points with no code to run after it (no nonReentrant).
    function _forward(address module, bytes4 selector) private {
        // The target is one of this contract's immutable modules and the function is fixed by
        // the caller of this helper (see _delegate).
        // slither-disable-next-line controlled-delegatecall
        assembly {
            calldatacopy(0, 0, calldatasize())
            mstore(0, or(and(mload(0), shr(32, not(0))), selector))
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev Runs the module's `selector` with this call's own arguments (copied as they came, not
    /// re-encoded) in this contract's storage; its revert comes back as it is.
    function _delegate(address module, bytes4 selector) private returns (bytes memory result) {
        bool ok;
        // The target is one of this contract's immutable modules and the function is fixed
        // by the caller of this helper, not by the transaction: Slither's controlled-delegatecall
        // sees only that the arguments come from calldata.
        // slither-disable-next-line controlled-delegatecall
        (ok, result) = module.delegatecall(bytes.concat(selector, msg.data[4:]));
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
        (Payout storage payout, uint256 list, uint256 count) = _releasedList(licenceId);
        amount = _take(licenceId, payout, list, count, payee);
        if (amount == 0) revert NothingToWithdraw(licenceId, payee);
        IERC20(PayeeList.tokenOf(list)).safeTransfer(payee, amount);
    }

    /// @inheritdoc IRoyaltyLedger
    function withdrawMany(uint256[] calldata licenceIds, address payee) external nonReentrant returns (uint256 total) {
        address runToken = address(0);
        uint256 run = 0;
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 licenceId = licenceIds[i];
            (Payout storage payout, uint256 list, uint256 count) = _releasedList(licenceId);
            uint256 amount = _take(licenceId, payout, list, count, payee);
            if (amount == 0) continue;
            address listToken = PayeeList.tokenOf(list);
            if (listToken != runToken) {
                if (run != 0) IERC20(runToken).safeTransfer(payee, run);
                (runToken, run) = (listToken, 0);
            }
            run += amount;
            total += amount;
        }
        if (total == 0) revert NothingToClaim(payee);
        IERC20(runToken).safeTransfer(payee, run);
    }

    /// @dev One distribution's figures, in memory (too many for the stack).
    struct Round {
        uint256 licenceId;
        uint256 list;
        uint256 count;
        uint256 from;
        uint256 total;
        address payToken;
        uint256[] partsNow;
        uint256[] partsBefore;
    }

    /// @inheritdoc IRoyaltyLedger
    function distribute(uint256 licenceId) external nonReentrant returns (uint256 paid) {
        (Payout storage payout, uint256 list, uint256 count) = _releasedList(licenceId);
        Round memory round = Round({
            licenceId: licenceId,
            list: list,
            count: count,
            from: 0,
            total: 0,
            payToken: PayeeList.tokenOf(list),
            partsNow: new uint256[](0),
            partsBefore: new uint256[](0)
        });
        round.total = _s().accounts[licenceId].distributed;
        round.from = payout.paidUpTo;
        if (round.total == round.from) revert NothingToDistribute(licenceId, round.from);
        // Effects first: from here on every payee counts as paid up to `total`, and what a
        // transfer below fails to pay goes to that payee's `unpaid`.
        payout.paidUpTo = round.total.toUint128();
        round.partsNow = PayeeList.parts(round.list, round.count, round.total);
        // Unread when nothing was distributed before (every part of 0 is 0).
        round.partsBefore = round.from == 0 ? round.partsNow : PayeeList.parts(round.list, round.count, round.from);
        uint256 failed = 0;
        for (uint256 i; i < round.count; ++i) {
            (bool ok, uint256 amount) = _payOne(round, i);
            if (ok) paid += amount;
            else failed += amount;
            // Not read again (nor partsBefore[i], which may be the same array): from here on it
            // is what payee i was paid now, for the event (one word per payee instead of a log).
            round.partsNow[i] = ok ? amount : 0;
        }
        emit Distributed(licenceId, msg.sender, round.from, round.total, paid, failed, round.partsNow);
    }

    /// @dev Pays payee `index` of a distribution what it is owed: its part of the increase beyond
    /// what its own withdrawals reached, plus what earlier distributions could not pay it. A
    /// failed transfer leaves all of it as the payee's `unpaid`.
    function _payOne(Round memory round, uint256 index) private returns (bool ok, uint256 amount) {
        address payee = PayeeList.accountAt(round.list, index);
        PayeeAccount storage payeeAccount = _s().payeeAccounts[round.licenceId][payee];
        uint256 paidTo = payeeAccount.paidTo;
        amount = payeeAccount.unpaid;
        if (amount != 0) payeeAccount.unpaid = 0;
        if (paidTo < round.total) {
            uint256 reached = 0;
            if (paidTo > round.from) reached = PayeeList.partOf(round.list, round.count, paidTo, index);
            else if (round.from != 0) reached = round.partsBefore[index];
            amount += round.partsNow[index] - reached;
        }
        if (amount == 0) return (true, 0);
        uint256 needed = PAYOUT_GAS + PAYOUT_GAS / 63 + AFTER_PAYOUT_GAS;
        if (gasleft() < needed) revert DistributionGasTooLow(round.licenceId, index, gasleft(), needed);
        ok = _tryTransfer(round.payToken, payee, amount);
        if (!ok) {
            // The failed call's own effects were rolled back: nothing else wrote this slot since.
            payeeAccount.unpaid = amount.toUint128();
            emit PayoutFailed(round.licenceId, payee, amount);
        }
    }

    /// @dev Calls token.transfer(to, amount) with at most PAYOUT_GAS and judges the result as
    /// SafeERC20 does (a call that succeeded and returned true, or nothing from a contract),
    /// without ever copying more than one word of what the token returns.
    function _tryTransfer(address payToken, address to, uint256 amount) private returns (bool ok) {
        bytes4 selector = IERC20.transfer.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 4), to)
            mstore(add(m, 36), amount)
            mstore(0, 0)
            let success := call(PAYOUT_GAS, payToken, 0, m, 68, 0, 32)
            switch returndatasize()
            case 0 { ok := and(success, gt(extcodesize(payToken), 0)) }
            default { ok := and(success, and(gt(returndatasize(), 31), eq(mload(0), 1))) }
        }
    }

    /// @dev The licence's published payee list in memory, after releasing what has matured
    /// (skipped for a licence whose settlements are all final when made).
    function _releasedList(uint256 licenceId) private returns (Payout storage payout, uint256 list, uint256 count) {
        (payout, list, count) = _list(licenceId);
        if (!payout.releasesAtOnce) _releaseMatured(licenceId, _s().accounts[licenceId]);
    }

    function _list(uint256 licenceId) private view returns (Payout storage payout, uint256 list, uint256 count) {
        payout = _s().payouts[licenceId];
        count = payout.payeeCount;
        if (count == 0) revert UnknownLicence(licenceId);
        if (!payout.published) revert PayeesNotPublished(licenceId);
        list = PayeeList.load(PayeeList.holderOf(address(this), licenceId), count);
    }

    /// @dev Records a payee's withdrawal of all it can claim and returns the amount (0: nothing).
    function _take(uint256 licenceId, Payout storage payout, uint256 list, uint256 count, address payee)
        private
        returns (uint256 amount)
    {
        (bool found, uint256 index) = PayeeList.indexOf(list, count, payee);
        if (!found) revert NotPayee(licenceId, payee);
        uint256 total = _s().accounts[licenceId].distributed;
        PayeeAccount storage payeeAccount = _s().payeeAccounts[licenceId][payee];
        (uint256 reached, uint256 unpaid) = _reached(payout, payeeAccount);
        amount = unpaid + _partBetween(list, count, reached, total, index);
        if (amount == 0) return 0;
        payeeAccount.paidTo = total.toUint128();
        payeeAccount.unpaid = 0;
        emit Withdrawn(licenceId, payee, amount, false);
    }

    /// @dev Payee `index`'s part of what was distributed between the cumulative totals `from` and `to`.
    function _partBetween(uint256 list, uint256 count, uint256 from, uint256 to, uint256 index)
        private
        pure
        returns (uint256)
    {
        if (to <= from) return 0;
        (uint256 partTo, uint256 partFrom) = PayeeList.partsOf(list, count, to, from, index);
        return partTo - partFrom;
    }

    /// @dev The cumulative total a payee has been paid (or credited as unpaid) its part of, and its unpaid amount.
    function _reached(Payout storage payout, PayeeAccount storage payeeAccount)
        private
        view
        returns (uint256 reached, uint256 unpaid)
    {
        uint256 paidUpTo = payout.paidUpTo;
        uint256 paidTo = payeeAccount.paidTo;
        return (paidTo > paidUpTo ? paidTo : paidUpTo, payeeAccount.unpaid);
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
    function dispute(uint256) external {
        _forward(disputeModule, DisputeModule.dispute.selector);
    }

    /// @inheritdoc IRoyaltyLedger
    function disputeFor(uint256, address, uint64, bytes calldata) external {
        _forward(disputeModule, DisputeModule.disputeFor.selector);
    }

    /// @inheritdoc IRoyaltyLedger
    function resolveDispute(uint256, uint128) external nonReentrant {
        _delegate(disputeModule, DisputeModule.resolveDispute.selector);
    }

    /// @inheritdoc IRoyaltyLedger
    function resolveDisputeByParties(uint256, uint128, uint64, bytes calldata, bytes calldata) external nonReentrant {
        _delegate(disputeModule, DisputeModule.resolveDisputeByParties.selector);
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
        (uint256 entitled, uint256 paid) = _payeeTotals(licenceId, payee);
        return entitled - paid;
    }

    /// @inheritdoc IRoyaltyLedger
    function payoutOf(uint256 licenceId)
        external
        view
        returns (uint256 paidUpTo, uint256 payeeCount, bool published, address holder)
    {
        Payout storage payout = _s().payouts[licenceId];
        return (payout.paidUpTo, payout.payeeCount, payout.published, PayeeList.holderOf(address(this), licenceId));
    }

    /// @inheritdoc IRoyaltyLedger
    function unpaidOf(uint256 licenceId, address payee) external view returns (uint256) {
        return _s().payeeAccounts[licenceId][payee].unpaid;
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

    /// @notice Payees of a licence (ascending by address) and the running sums of their shares
    /// ([0, s0, s0 + s1, ..., 10,000]). Reverts with PayeesNotPublished for a long list not yet published.
    function payeesOf(uint256 licenceId) external view returns (address[] memory accounts, uint16[] memory prefixBps) {
        if (_s().payouts[licenceId].payeeCount == 0) return (accounts, prefixBps);
        (, uint256 list, uint256 count) = _list(licenceId);
        accounts = new address[](count);
        prefixBps = new uint16[](count + 1);
        for (uint256 i; i < count; ++i) {
            accounts[i] = PayeeList.accountAt(list, i);
            prefixBps[i + 1] = uint16(PayeeList.prefixAt(list, i + 1));
        }
    }

    /// @notice Total credited to a payee so far and total paid out to it (by its withdrawals and
    /// by distributions; what a distribution failed to pay it is not paid).
    function payeeTotals(uint256 licenceId, address payee) external view returns (uint256 entitled, uint256 withdrawn) {
        return _payeeTotals(licenceId, payee);
    }

    function _payeeTotals(uint256 licenceId, address payee) private view returns (uint256 entitled, uint256 paid) {
        if (_s().payouts[licenceId].payeeCount == 0) return (0, 0);
        (Payout storage payout, uint256 list, uint256 count) = _list(licenceId);
        (bool found, uint256 index) = PayeeList.indexOf(list, count, payee);
        if (!found) return (0, 0);
        (uint256 reached, uint256 unpaid) = _reached(payout, _s().payeeAccounts[licenceId][payee]);
        (entitled, paid) = PayeeList.partsOf(list, count, _s().accounts[licenceId].distributed, reached, index);
        paid -= unpaid;
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

    /// @dev When the licensee may take its escrow back: the end of the period the sell-off ends
    /// in, plus the due days to report it.
    function _closesAt(ILicenceRegistry.SettlementContext memory context) private view returns (uint64) {
        uint64 lastEnd =
            clock.endOfPeriodBefore(context.start, context.periodSeconds, context.calendar, context.sellOffEnd);
        return lastEnd + uint64(context.calendar.dueDays) * 1 days;
    }

    // ------------------------------------------------------------------ internal: helpers

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
