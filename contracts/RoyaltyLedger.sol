// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {LicenceCalendar} from "./libraries/LicenceCalendar.sol";
import {RoyaltyMath} from "./libraries/RoyaltyMath.sol";

/// @title RoyaltyLedger
/// @notice Escrow, settlement of signed sales reports, split balances, withdrawals and disputes.
/// The pauser can stop settlement; no role can move anybody's funds.
contract RoyaltyLedger is IRoyaltyLedger, AccessControl, EIP712, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ constants

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    uint256 public constant MAX_BUCKETS = 256;
    /// @notice Interest is simple, actual/365: principal * bps * seconds late / (10,000 * 365 days).
    uint256 public constant INTEREST_YEAR = 365 days;
    uint256 internal constant BPS = 10_000;

    bytes32 public constant DISPUTE_TYPEHASH =
        keccak256("DisputeSettlement(uint256 settlementId,address party,uint64 deadline)");
    bytes32 public constant RESOLVE_TYPEHASH =
        keccak256("ResolveDispute(uint256 settlementId,uint128 finalAmount,uint64 deadline)");

    ILicenceRegistry public immutable registry;

    // ------------------------------------------------------------------ storage

    /// @dev Money state of one licence.
    struct Account {
        // slot 0
        address token;
        uint16 taxBps;
        uint16 interestBps; // simple yearly interest on amounts paid after their due date
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
        uint64 pendingHead; // next index of _pending to look at
        uint64 arrearsHead; // next index of _arrearsQueue to pay
        // slot 6
        uint128 disputedArrears; // the part of `arrears` owed on settlements under dispute
    }

    /// @dev A settlement as stored: two slots, and a third only when part of its royalty was
    /// covered otherwise. What has been released is derived: all that was paid once it is final,
    /// nothing before.
    struct Stored {
        // slot 0
        uint64 licenceId;
        uint32 period;
        Kind kind;
        State state;
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
        Kind kind;
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

    mapping(uint256 licenceId => Account) private _accounts;
    mapping(uint256 licenceId => address[]) private _payees; // ascending by address
    mapping(uint256 licenceId => uint16[]) private _prefixBps; // [0, s0, s0+s1, ..., 10000]
    mapping(uint256 licenceId => mapping(address payee => uint256)) private _withdrawn;
    mapping(uint256 licenceId => uint256[]) private _pending;
    mapping(uint256 licenceId => uint256[]) private _arrearsQueue;
    mapping(uint256 licenceId => mapping(uint32 period => uint256 settlementId)) private _settledPeriod;
    mapping(uint256 licenceId => mapping(uint32 year => Year)) private _years;
    mapping(uint256 settlementId => Stored) private _settlements;
    uint256 private _settlementCount;

    // ------------------------------------------------------------------ constructor

    constructor(ILicenceRegistry registry_, address admin) EIP712("RoyaltyLedger", "1") {
        registry = registry_;
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
        if (_accounts[licenceId].token != address(0)) revert LicenceAlreadyOpened(licenceId);
        Account storage account = _accounts[licenceId];
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
        _payees[licenceId] = payees;
        uint16[] storage prefix = _prefixBps[licenceId];
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
        uint256 id = ++_settlementCount;
        _settlements[id] = Stored({
            licenceId: uint64(licenceId),
            period: 0,
            kind: Kind.Advance,
            state: State.Final,
            year: 0,
            yearSpan: 0,
            settledAt: uint40(block.timestamp),
            disputeUntil: uint40(block.timestamp),
            dueAt: uint40(block.timestamp),
            due: received.toUint128(),
            paid: received.toUint128(),
            covered: 0
        });
        emit Settled(id, licenceId, Kind.Advance, 0, received, 0, received, received, false, uint64(block.timestamp));
        _release(id, _settlements[id], account, 0);
    }

    /// @inheritdoc IRoyaltyLedger
    function deposit(uint256 licenceId, uint256 amount) external nonReentrant {
        Account storage account = _openAccount(licenceId);
        if (amount == 0) revert ZeroAmount();
        uint256 received = _pull(IERC20(account.token), msg.sender, amount);
        uint256 toArrears = _payArrears(licenceId, account, received);
        uint256 toEscrow = received - toArrears;
        account.escrow += toEscrow.toUint128();
        emit Deposited(licenceId, msg.sender, received, toArrears, toEscrow);
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
        account.escrow -= amount.toUint128();
        emit EscrowWithdrawn(licenceId, msg.sender, amount);
        IERC20(account.token).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ settlement

    /// @inheritdoc IRoyaltyLedger
    function settleReports(Report[] calldata reports, bytes[][] calldata signatures)
        external
        whenNotPaused
        nonReentrant
        returns (uint256[] memory settlementIds)
    {
        if (reports.length == 0) revert EmptyBatch();
        if (reports.length != signatures.length) revert ReportsAndSignaturesMismatch(reports.length, signatures.length);
        settlementIds = new uint256[](reports.length);
        for (uint256 i; i < reports.length; ++i) {
            settlementIds[i] = _settleReport(reports[i], signatures[i]);
        }
    }

    /// @inheritdoc IRoyaltyLedger
    function chargeMinimumGuarantee(uint256 licenceId, uint32 year)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 settlementId)
    {
        _releaseMatured(licenceId, _openAccount(licenceId));
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(licenceId);
        if (year > type(uint16).max) revert YearOutsideTerm(licenceId, year);
        (uint64 yearStart, uint64 yearEnd, uint64 fullLength) = LicenceCalendar.yearBounds(context.start, context.calendar, year);
        if (yearStart >= context.effectiveEnd) revert YearOutsideTerm(licenceId, year);
        uint64 dueAt = yearEnd + uint64(context.calendar.dueDays) * 1 days;
        if (yearEnd > context.effectiveEnd) yearEnd = context.effectiveEnd;
        if (block.timestamp < yearEnd) revert YearNotEnded(licenceId, year, yearEnd);
        Year storage record = _years[licenceId][year];
        if (record.guaranteeCharged) revert GuaranteeAlreadyCharged(licenceId, year);
        // The year's royalty is only known once none of its settlements can still change.
        if (record.open != 0) revert YearHasOpenSettlements(licenceId, year, record.open);
        // A year cut short (a first year that starts after the anniversary, termination, expiry)
        // owes the guarantee pro rata to its length in the 365- or 366-day year (rounded down).
        uint256 guarantee =
            uint256(registry.minimumGuaranteeAt(licenceId, yearStart)) * (yearEnd - yearStart) / fullLength;
        if (record.royalty >= guarantee) revert NoShortfall(licenceId, year, record.royalty, guarantee);
        uint256 shortfall = guarantee - record.royalty;
        record.guaranteeCharged = true;
        record.guaranteeCredit = shortfall.toUint128();
        settlementId = _createSettlement(
            Draft({
                licenceId: licenceId,
                period: year,
                year: year,
                yearSpan: 0,
                kind: Kind.MinimumGuarantee,
                royalty: shortfall,
                credit: 0,
                disputeWindow: context.disputeWindow,
                dueAt: dueAt
            })
        );
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
        amount = RoyaltyMath.partOf(account.distributed, _prefixBps[licenceId], index) - _withdrawn[licenceId][payee];
        if (amount == 0) revert NothingToWithdraw(licenceId, payee);
        _withdrawn[licenceId][payee] += amount;
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
            paid: stored.paid,
            released: stored.state == State.Final ? stored.paid : 0
        });
    }

    /// @inheritdoc IRoyaltyLedger
    function settlementCount() external view returns (uint256) {
        return _settlementCount;
    }

    /// @inheritdoc IRoyaltyLedger
    function escrowOf(uint256 licenceId) external view returns (uint256) {
        return _accounts[licenceId].escrow;
    }

    /// @inheritdoc IRoyaltyLedger
    function arrearsOf(uint256 licenceId) external view returns (uint256) {
        return _accounts[licenceId].arrears;
    }

    /// @inheritdoc IRoyaltyLedger
    function undisputedArrearsOf(uint256 licenceId) external view returns (uint256) {
        Account storage account = _accounts[licenceId];
        return account.arrears - account.disputedArrears;
    }

    /// @inheritdoc IRoyaltyLedger
    function arrearsClearedAt(uint256 licenceId) external view returns (uint64) {
        return _accounts[licenceId].arrearsClearedAt;
    }

    /// @inheritdoc IRoyaltyLedger
    function advanceRemaining(uint256 licenceId) external view returns (uint256) {
        return _accounts[licenceId].advanceRemaining;
    }

    /// @inheritdoc IRoyaltyLedger
    /// @dev Counts released settlements only; `withdraw` first releases those whose window passed.
    function claimable(uint256 licenceId, address payee) external view returns (uint256) {
        (bool found, uint256 index) = _payeeIndex(licenceId, payee);
        if (!found) return 0;
        return RoyaltyMath.partOf(_accounts[licenceId].distributed, _prefixBps[licenceId], index)
            - _withdrawn[licenceId][payee];
    }

    /// @inheritdoc IRoyaltyLedger
    function taxClaimable(uint256 licenceId) external view returns (uint256) {
        return _accounts[licenceId].taxOwed;
    }

    /// @inheritdoc IRoyaltyLedger
    function settledPeriod(uint256 licenceId, uint32 period) external view returns (uint256) {
        return _settledPeriod[licenceId][period];
    }

    /// @inheritdoc IRoyaltyLedger
    function lastSequence(uint256 licenceId) external view returns (uint64) {
        return _accounts[licenceId].lastSequence;
    }

    /// @notice Payees of a licence (ascending by address) and the running sums of their shares.
    function payeesOf(uint256 licenceId) external view returns (address[] memory, uint16[] memory prefixBps) {
        return (_payees[licenceId], _prefixBps[licenceId]);
    }

    /// @notice Total credited to a payee so far and total paid out to it.
    function payeeTotals(uint256 licenceId, address payee) external view returns (uint256 entitled, uint256 withdrawn) {
        (bool found, uint256 index) = _payeeIndex(licenceId, payee);
        if (!found) return (0, 0);
        return (
            RoyaltyMath.partOf(_accounts[licenceId].distributed, _prefixBps[licenceId], index),
            _withdrawn[licenceId][payee]
        );
    }

    /// @notice Cumulative amount credited to a licence's payees.
    function distributedOf(uint256 licenceId) external view returns (uint256) {
        return _accounts[licenceId].distributed;
    }

    /// @notice The EIP-712 domain separator, for clients building typed data.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal: settlement

    function _settleReport(Report calldata report, bytes[] calldata signatures) private returns (uint256 id) {
        Account storage account = _openAccount(report.licenceId);
        ILicenceRegistry.SettlementContext memory context = registry.settlementContext(report.licenceId);
        (uint64 periodStart, uint64 periodEnd) = _checkReport(report, context, account);
        uint32 firstYear;
        uint32 lastYear;
        {
            (uint256 first, uint256 last) =
                LicenceCalendar.yearsOf(context.start, context.calendar, periodStart, periodEnd);
            firstYear = first.toUint16();
            lastYear = last.toUint16();
        }
        (ILicenceRegistry.Priced memory priced, uint256 credit) =
            _price(report, signatures, periodStart, firstYear, lastYear);
        account.lastSequence = report.sequence;
        uint8 yearSpan = uint256(lastYear - firstYear).toUint8();
        id = _createSettlement(
            Draft({
                licenceId: report.licenceId,
                period: report.period,
                year: firstYear,
                yearSpan: yearSpan,
                kind: Kind.Report,
                royalty: priced.royalty,
                credit: credit,
                disputeWindow: context.disputeWindow,
                dueAt: periodEnd + uint64(context.calendar.dueDays) * 1 days
            })
        );
        if (context.disputeWindow != 0) {
            for (uint32 y = firstYear; y <= lastYear; ++y) {
                ++_years[report.licenceId][y].open;
            }
        }
        _settledPeriod[report.licenceId][report.period] = id;
        _emitReport(id, report, priced, firstYear);
    }

    /// @dev Has the registry check the oracles' signatures and price the report with the schedule
    /// in force at its period's start, each contract year of its sales at that year's tier
    /// position, then updates each year's totals; `credit` is the part a guarantee shortfall
    /// already charged covers.
    function _price(
        Report calldata report,
        bytes[] calldata signatures,
        uint64 periodStart,
        uint32 firstYear,
        uint32 lastYear
    ) private returns (ILicenceRegistry.Priced memory priced, uint256 credit) {
        mapping(uint32 year => Year) storage yearRecords = _years[report.licenceId];
        uint256[] memory cumulative = new uint256[](lastYear - firstYear + 1);
        for (uint256 j; j < cumulative.length; ++j) {
            cumulative[j] = yearRecords[uint32(firstYear + j)].tierNet;
        }
        priced = registry.verifyReport(report, signatures, periodStart, firstYear, cumulative);
        for (uint256 j; j < cumulative.length; ++j) {
            uint256 royalty = priced.yearRoyalty[j];
            uint256 tierNet = priced.yearTierNet[j];
            if (royalty == 0 && tierNet == 0) continue;
            Year storage record = yearRecords[uint32(firstYear + j)];
            if (tierNet != 0) record.tierNet += tierNet.toUint128();
            record.royalty += royalty.toUint128();
            uint256 yearCredit = record.guaranteeCredit;
            if (yearCredit != 0) {
                if (royalty < yearCredit) yearCredit = royalty;
                record.guaranteeCredit -= yearCredit.toUint128();
                credit += yearCredit;
            }
        }
    }

    function _emitReport(uint256 id, Report calldata report, ILicenceRegistry.Priced memory priced, uint32 firstYear)
        private
    {
        emit ReportAccepted(
            id,
            report.licenceId,
            report.sequence,
            report.linesRoot,
            report.lineCount,
            firstYear,
            priced.yearTierNet,
            priced.yearRoyalty
        );
        for (uint256 i; i < report.buckets.length; ++i) {
            Bucket calldata b = report.buckets[i];
            bool inScope = (priced.outOfScope >> i) & 1 == 0;
            emit BucketReported(id, b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions, inScope);
            if (!inScope) emit ScopeBreached(report.licenceId, id, b.territory, b.field, b.channel, b.gross);
        }
    }

    /// @dev Checks everything about a report but its signatures and buckets; returns its period.
    function _checkReport(
        Report calldata report,
        ILicenceRegistry.SettlementContext memory context,
        Account storage account
    ) private view returns (uint64 periodStart, uint64 periodEnd) {
        uint256 licenceId = report.licenceId;
        uint256 existing = _settledPeriod[licenceId][report.period];
        if (existing != 0) revert PeriodAlreadySettled(licenceId, report.period, existing);
        if (report.sequence <= account.lastSequence) {
            revert StaleSequence(licenceId, report.sequence, account.lastSequence);
        }
        if (block.timestamp > report.deadline) revert ReportExpired(licenceId, report.deadline, block.timestamp);
        if (report.buckets.length > MAX_BUCKETS) revert TooManyBuckets(report.buckets.length, MAX_BUCKETS);
        (periodStart, periodEnd) =
            LicenceCalendar.periodBounds(context.start, context.periodSeconds, context.calendar, report.period);
        if (periodEnd > block.timestamp) revert PeriodNotEnded(licenceId, report.period, periodEnd);
        if (periodStart >= context.sellOffEnd) {
            revert PeriodOutsideTerm(licenceId, report.period, periodStart, context.sellOffEnd);
        }
    }

    /// @dev Records a settlement of `royalty` less `credit`: recoups the advance (not from
    /// interest), draws the rest from escrow, records any shortfall as arrears, charges interest
    /// on what it paid after the due date, and releases it now if there is no window.
    function _createSettlement(Draft memory draft) private returns (uint256 id) {
        uint256 licenceId = draft.licenceId;
        Account storage account = _accounts[licenceId];
        uint256 due = draft.royalty - draft.credit;
        if (draft.kind != Kind.Interest) {
            uint256 advanceLeft = account.advanceRemaining;
            if (advanceLeft != 0) {
                uint256 recouped = due < advanceLeft ? due : advanceLeft;
                account.advanceRemaining = (advanceLeft - recouped).toUint128();
                due -= recouped;
            }
        }
        uint256 paid = due < account.escrow ? due : account.escrow;
        if (paid != 0) account.escrow -= paid.toUint128();

        id = ++_settlementCount;
        Stored storage stored = _settlements[id];
        stored.licenceId = uint64(licenceId);
        stored.period = draft.period;
        stored.kind = draft.kind;
        // A licence term (the window), not a balance: Slither's strict-equality check is misled by
        // the interest's timestamp-derived amount flowing into the same draft.
        // slither-disable-next-line incorrect-equality
        stored.state = draft.disputeWindow == 0 ? State.Final : State.Pending;
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
        _afterSettlement(id, stored, account);
        if (paid != 0) _chargeInterest(id, stored, account, paid);
    }

    function _emitSettled(uint256 id, Draft memory draft, uint256 due, uint256 paid) private {
        emit Settled(
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
    function _chargeInterest(uint256 id, Stored storage stored, Account storage account, uint256 principal) private {
        uint256 rateBps = account.interestBps;
        uint256 dueAt = stored.dueAt;
        if (rateBps == 0 || block.timestamp <= dueAt || stored.kind == Kind.Interest) return;
        if (stored.state == State.Disputed) return;
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
                kind: Kind.Interest,
                royalty: interest,
                credit: 0,
                disputeWindow: 0,
                dueAt: uint64(block.timestamp)
            })
        );
        emit InterestCharged(
            interestId, id, stored.licenceId, principal, uint64(dueAt), uint64(block.timestamp), uint16(rateBps), interest
        );
    }

    /// @dev Queues a shortfall as arrears and a pending settlement for its window, or releases it.
    function _afterSettlement(uint256 id, Stored storage stored, Account storage account) private {
        uint256 licenceId = stored.licenceId;
        if (stored.due > stored.paid) {
            account.arrears += stored.due - stored.paid;
            _arrearsQueue[licenceId].push(id);
        }
        if (stored.state == State.Final) {
            _release(id, stored, account, 0);
        } else {
            _pending[licenceId].push(id);
        }
    }

    /// @dev Credits what has been paid of a final settlement beyond `before`, the part of it
    /// released already (what it had paid when it became final, or before this payment).
    function _release(uint256 id, Stored storage stored, Account storage account, uint256 before) private {
        uint256 amount = stored.paid - before;
        if (amount == 0) return;
        uint256 tax = RoyaltyMath.taxOnIncrement(before, stored.paid, account.taxBps);
        if (tax != 0) account.taxOwed += tax.toUint128();
        account.distributed += (amount - tax).toUint128();
        emit Released(id, stored.licenceId, amount, tax, account.distributed);
    }

    /// @dev Pending settlements become final in the order they were made, since a licence's
    /// window is the same for all of them; disputed ones leave the queue and end by resolution.
    function _releaseMatured(uint256 licenceId, Account storage account) private {
        uint256[] storage queue = _pending[licenceId];
        uint256 head = account.pendingHead;
        uint256 length = queue.length;
        while (head < length) {
            uint256 id = queue[head];
            Stored storage stored = _settlements[id];
            if (stored.state == State.Pending) {
                if (block.timestamp < stored.disputeUntil) break;
                stored.state = State.Final;
                if (stored.kind == Kind.Report) _closeYears(licenceId, stored);
                _release(id, stored, account, 0);
            }
            ++head;
        }
        account.pendingHead = uint64(head);
    }

    /// @dev Pays arrears oldest first with up to `available`; returns what it used.
    function _payArrears(uint256 licenceId, Account storage account, uint256 available)
        private
        returns (uint256 used)
    {
        if (account.arrears == 0) return 0;
        uint256[] storage queue = _arrearsQueue[licenceId];
        uint256 head = account.arrearsHead;
        while (available > 0 && head < queue.length) {
            uint256 id = queue[head];
            Stored storage stored = _settlements[id];
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
                if (stored.state == State.Disputed) account.disputedArrears -= pay.toUint128();
                available -= pay;
                used += pay;
                emit ArrearsPaid(id, licenceId, pay, outstanding - pay);
                // slither-disable-next-line incorrect-equality
                if (stored.state == State.Final) _release(id, stored, account, paidBefore);
                // The interest goes to the back of the queue, so this loop pays it too.
                _chargeInterest(id, stored, account, pay);
            }
            if (paysOff) ++head;
        }
        account.arrearsHead = uint64(head);
        if (account.arrears == 0) _arrearsCleared(licenceId, account);
    }

    function _arrearsCleared(uint256 licenceId, Account storage account) private {
        account.arrearsClearedAt = uint64(block.timestamp);
        emit ArrearsCleared(licenceId, uint64(block.timestamp));
    }

    // ------------------------------------------------------------------ internal: disputes

    function _dispute(uint256 settlementId, address party) private {
        Stored storage stored = _existing(settlementId);
        (address licensor, address licensee) = registry.parties(stored.licenceId);
        if (party != licensor && party != licensee) revert NotParty(stored.licenceId, party);
        if (stored.state != State.Pending) revert NotDisputable(settlementId, stored.state);
        if (block.timestamp >= stored.disputeUntil) revert DisputeWindowClosed(settlementId, stored.disputeUntil);
        stored.state = State.Disputed;
        // What is still unpaid on it is contested, not in breach, until the dispute ends.
        _accounts[stored.licenceId].disputedArrears += stored.due - stored.paid;
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
        Account storage account = _accounts[licenceId];
        uint256 outstandingBefore = stored.due - stored.paid;
        account.disputedArrears -= outstandingBefore.toUint128();
        uint256 refund = stored.paid > finalAmount ? stored.paid - finalAmount : 0;
        uint256 reduction = stored.due - finalAmount;
        Year storage record = _years[licenceId][stored.year];
        if (stored.kind == Kind.Report) {
            _reduceYearsRoyalty(licenceId, stored, reduction);
            _closeYears(licenceId, stored);
        } else if (stored.kind == Kind.MinimumGuarantee) {
            // A shortfall reduced on dispute can no longer offset that much of later reports.
            uint256 creditCut = reduction < record.guaranteeCredit ? reduction : record.guaranteeCredit;
            record.guaranteeCredit -= creditCut.toUint128();
        }
        stored.paid -= refund.toUint128();
        stored.due = finalAmount;
        // The royalty stays what the report priced; the cut is covered by the resolution.
        if (reduction != 0) stored.covered += reduction.toUint128();
        stored.state = State.Final;
        uint256 outstandingAfter = finalAmount - stored.paid;
        account.arrears -= (outstandingBefore - outstandingAfter).toUint128();
        if (outstandingBefore > outstandingAfter && account.arrears == 0) _arrearsCleared(licenceId, account);
        emit DisputeResolved(settlementId, licenceId, finalAmount, refund, byArbiter);
        _release(settlementId, stored, account, 0);
        if (refund > 0) {
            // Money returned to the licensee pays its other arrears first, like any deposit.
            uint256 toArrears = _payArrears(licenceId, account, refund);
            account.escrow += (refund - toArrears).toUint128();
        }
    }

    /// @dev A report's settlement no longer open: its contract years' guarantees may be charged.
    function _closeYears(uint256 licenceId, Stored storage stored) private {
        uint32 last = uint32(stored.year) + stored.yearSpan;
        for (uint32 y = stored.year; y <= last; ++y) {
            --_years[licenceId][y].open;
        }
    }

    /// @dev A dispute cut a report's amount: its years' royalty falls by as much, latest year first.
    function _reduceYearsRoyalty(uint256 licenceId, Stored storage stored, uint256 reduction) private {
        uint32 first = stored.year;
        for (uint32 y = first + stored.yearSpan; reduction != 0; --y) {
            Year storage record = _years[licenceId][y];
            uint256 cut = reduction < record.royalty ? reduction : record.royalty;
            record.royalty -= cut.toUint128();
            reduction -= cut;
            if (y == first) break;
        }
    }

    /// @dev When the licensee may take its escrow back: the end of the period the sell-off ends
    /// in, plus the due days to report it.
    function _closesAt(ILicenceRegistry.SettlementContext memory context) private pure returns (uint64) {
        uint256 lastPeriod =
            LicenceCalendar.periodOf(context.start, context.periodSeconds, context.calendar, context.sellOffEnd - 1);
        // Only the period's end matters.
        // slither-disable-next-line unused-return
        (, uint64 lastEnd) =
            LicenceCalendar.periodBounds(context.start, context.periodSeconds, context.calendar, lastPeriod);
        return lastEnd + uint64(context.calendar.dueDays) * 1 days;
    }

    function _requirePartySignature(address party, bytes32 digest, bytes calldata signature) private view {
        if (msg.sender == party) return;
        if (!registry.isValidSignature(party, digest, signature)) revert PartySignatureInvalid(party);
    }

    // ------------------------------------------------------------------ internal: helpers

    function _openAccount(uint256 licenceId) private view returns (Account storage account) {
        account = _accounts[licenceId];
        if (account.token == address(0)) revert UnknownLicence(licenceId);
    }

    function _existing(uint256 settlementId) private view returns (Stored storage stored) {
        stored = _settlements[settlementId];
        if (stored.kind == Kind.None) revert UnknownSettlement(settlementId);
    }

    /// @dev Payees are stored in ascending address order, so a binary search finds one.
    function _payeeIndex(uint256 licenceId, address payee) private view returns (bool found, uint256 index) {
        address[] storage payees = _payees[licenceId];
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
    /// `from` is the caller (deposits) or the licensee of a licence being opened (the advance):
    /// only the registry opens licences, and only with the licensee's EIP-712 consent to terms
    /// that name this exact advance, so no one can pull from an account that did not agree.
    function _pull(IERC20 token, address from, uint256 amount) private returns (uint256 received) {
        uint256 before = token.balanceOf(address(this));
        // slither-disable-next-line arbitrary-send-erc20
        token.safeTransferFrom(from, address(this), amount);
        received = token.balanceOf(address(this)) - before;
    }
}
