// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILicenceRegistry} from "./interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "./interfaces/IRoyaltyLedger.sol";
import {LicenceClock} from "./LicenceClock.sol";
import {LicenceTypedData, LicenceTypes} from "./LicenceTypedData.sol";

/// @title LicenceRegistry
/// @notice Licence terms and lifecycle. Every change of terms carries both parties' consent as
/// EIP-712 signatures (or ERC-1271 for contract wallets), so a relayer can submit it.
contract LicenceRegistry is ILicenceRegistry, AccessControl, EIP712 {
    // ------------------------------------------------------------------ constants

    /// @notice May change the payment token allowlist.
    bytes32 public constant TOKEN_ADMIN_ROLE = keccak256("TOKEN_ADMIN_ROLE");
    /// @notice May append schedule versions the parties agreed to in advance (LicenceEscalator:
    /// index-linked escalation); granted by the admin to that contract only.
    bytes32 public constant ESCALATOR_ROLE = keccak256("ESCALATOR_ROLE");
    uint256 public constant MAX_PAYEES = 500;
    uint256 public constant MAX_ORACLES = 16;
    uint16 internal constant BPS = 10_000;

    /// @dev Both parties sign every field of the terms (RegisterLicence) and of an amendment's
    /// schedule (AmendLicence) as nested EIP-712 structs: the type strings are LicenceTypedData's.
    bytes32 public constant REGISTER_TYPEHASH = LicenceTypes.REGISTER_TYPEHASH;
    bytes32 public constant AMEND_TYPEHASH = LicenceTypes.AMEND_TYPEHASH;
    bytes32 public constant TERMINATE_TYPEHASH = keccak256("TerminateLicence(uint256 licenceId,uint64 deadline)");

    // ------------------------------------------------------------------ storage

    /// @dev Lifecycle and terms. A settlement reads slots 0 to 3 (the calendar, the window, the
    /// scope) and the latest schedule version's two slots: times fit 40 bits (the calendar keeps
    /// every date before 9000-01-01).
    struct Licence {
        // slot 0
        uint40 start;
        uint40 end;
        uint40 terminatedAt; // 0 while not terminated
        uint32 sellOffDays;
        uint32 periodSeconds;
        uint32 disputeWindow;
        uint8 threshold;
        uint16 scheduleCount;
        // slot 1
        Calendar calendar;
        // slots 2 and 3
        Scope scope;
        // slot 4
        address licensor;
        uint40 breachNoticeAt; // 0 while no notice runs
        uint32 curePeriod;
        // slots 5 and 6
        address licensee;
        address arbiter;
    }

    /// @dev One schedule version: what pricing reads in two slots, its tiers and field rates
    /// (counted in slot 1) one slot each.
    struct StoredSchedule {
        // slot 0
        uint128 fixedFeePerPeriod;
        uint128 perUnit;
        // slot 1
        uint128 minimumGuarantee;
        uint40 effectiveFrom;
        uint16 rateBps;
        uint8 tierCount;
        uint8 fieldRateCount;
        mapping(uint256 index => Tier) tiers;
        mapping(uint256 index => FieldRate) fieldRates;
    }

    IRoyaltyLedger public ledger;
    /// @notice Where periods and contract years are computed (deployed with the registry).
    LicenceClock public immutable clock;
    /// @notice Where the consent's struct hashes are computed (deployed with the registry).
    LicenceTypedData public immutable typedData;
    uint256 private _licenceCount;
    mapping(uint256 licenceId => Licence) private _licences;
    mapping(uint256 licenceId => mapping(uint256 version => StoredSchedule)) private _schedules;
    mapping(uint256 licenceId => mapping(address account => bool)) private _isOracle;
    mapping(address token => bool) public tokenAllowed;
    mapping(bytes32 digest => bool) public consentUsed;

    // ------------------------------------------------------------------ constructor

    constructor(address admin) EIP712("LicenceRegistry", "1") {
        if (admin == address(0)) revert ZeroAddress("admin");
        clock = new LicenceClock();
        typedData = new LicenceTypedData();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(TOKEN_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Connect the ledger; possible once.
    function setLedger(IRoyaltyLedger ledger_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(ledger) != address(0)) revert LedgerAlreadySet(address(ledger));
        if (address(ledger_) == address(0)) revert ZeroAddress("ledger");
        ledger = ledger_;
        emit LedgerSet(address(ledger_));
    }

    /// @notice Allow or disallow a payment token for new licences.
    function setTokenAllowed(address token, bool allowed) external onlyRole(TOKEN_ADMIN_ROLE) {
        if (token == address(0)) revert ZeroAddress("token");
        tokenAllowed[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    // ------------------------------------------------------------------ actions

    /// @inheritdoc ILicenceRegistry
    function register(Terms calldata terms, uint64 deadline, bytes calldata licensorSig, bytes calldata licenseeSig)
        external
        returns (uint256 licenceId)
    {
        if (address(ledger) == address(0)) revert LedgerNotSet();
        _validateTerms(terms);
        _consume(registerDigest(terms, deadline), deadline, terms.licensor, terms.licensee, licensorSig, licenseeSig);

        licenceId = ++_licenceCount;
        Licence storage licence = _licences[licenceId];
        licence.licensor = terms.licensor;
        licence.licensee = terms.licensee;
        licence.arbiter = terms.arbiter;
        // The clock's validation bounds every date by 9000-01-01, well within 40 bits.
        licence.start = uint40(terms.term.start);
        licence.end = uint40(terms.term.end);
        licence.sellOffDays = terms.term.sellOffDays;
        licence.periodSeconds = terms.term.periodSeconds;
        licence.calendar = terms.term.calendar;
        licence.disputeWindow = terms.disputeWindow;
        licence.curePeriod = terms.curePeriod;
        licence.threshold = terms.threshold;
        licence.scope = terms.scope;
        _pushSchedule(licenceId, terms.schedule, terms.term.start);
        for (uint256 i; i < terms.oracles.length; ++i) {
            _isOracle[licenceId][terms.oracles[i]] = true;
        }
        emit LicenceRegistered(licenceId, terms.licensor, terms.licensee, terms);
        _openInLedger(licenceId, terms);
    }

    /// @inheritdoc ILicenceRegistry
    function amend(
        uint256 licenceId,
        Schedule calldata schedule,
        uint64 newEnd,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external {
        Licence storage licence = _activeLicence(licenceId);
        uint256 versions = _checkNewVersion(licenceId, licence, schedule, newEnd, false);
        // A renewal stays inside the calendar's range like the original term.
        clock.validateEnd(newEnd, licence.sellOffDays);
        _consume(
            amendDigest(licenceId, schedule, newEnd, deadline),
            deadline,
            licence.licensor,
            licence.licensee,
            licensorSig,
            licenseeSig
        );

        uint64 previousEnd = licence.end;
        licence.end = uint40(newEnd); // validated by the clock: before 9000-01-01
        // Renewing with knowledge of arrears waives the running notice: a fresh one is needed.
        licence.breachNoticeAt = 0;
        _pushSchedule(licenceId, schedule, schedule.effectiveFrom);
        emit LicenceAmended(licenceId, uint32(versions), schedule, newEnd, previousEnd);
    }

    /// @inheritdoc ILicenceRegistry
    function appendSchedule(uint256 licenceId, Schedule calldata schedule) external onlyRole(ESCALATOR_ROLE) {
        Licence storage licence = _activeLicence(licenceId);
        uint64 end = licence.end;
        // The escalator may date a version back to its anniversary: it checks that no period
        // that began since has been settled (the clause the parties signed says so).
        uint256 versions = _checkNewVersion(licenceId, licence, schedule, end, true);
        _pushSchedule(licenceId, schedule, schedule.effectiveFrom);
        emit LicenceAmended(licenceId, uint32(versions), schedule, end, end);
    }

    /// @inheritdoc ILicenceRegistry
    function terminateByConsent(
        uint256 licenceId,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external {
        Licence storage licence = _activeLicence(licenceId);
        _consume(
            terminateDigest(licenceId, deadline), deadline, licence.licensor, licence.licensee, licensorSig, licenseeSig
        );
        _terminate(licenceId, licence, true);
    }

    /// @inheritdoc ILicenceRegistry
    function noticeBreach(uint256 licenceId) external {
        Licence storage licence = _activeLicence(licenceId);
        if (msg.sender != licence.licensor) revert NotLicensor(msg.sender);
        // Amounts a party has disputed in good faith are not a breach until the dispute ends.
        uint256 arrears = ledger.undisputedArrearsOf(licenceId);
        if (arrears == 0) revert NoArrears(licenceId);
        licence.breachNoticeAt = uint40(block.timestamp);
        emit BreachNoticed(licenceId, arrears, uint64(block.timestamp) + licence.curePeriod);
    }

    /// @inheritdoc ILicenceRegistry
    function terminateForCause(uint256 licenceId) external {
        Licence storage licence = _activeLicence(licenceId);
        if (msg.sender != licence.licensor) revert NotLicensor(msg.sender);
        uint64 noticeAt = licence.breachNoticeAt;
        if (noticeAt == 0) revert NoBreachNotice(licenceId);
        uint64 curesAt = noticeAt + licence.curePeriod;
        if (block.timestamp < curesAt) revert CurePeriodRunning(licenceId, curesAt);
        uint64 clearedAt = ledger.arrearsClearedAt(licenceId);
        if (clearedAt >= noticeAt || ledger.undisputedArrearsOf(licenceId) == 0) {
            revert BreachCured(licenceId, clearedAt);
        }
        _terminate(licenceId, licence, false);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ILicenceRegistry
    function status(uint256 licenceId) public view returns (Status) {
        Licence storage licence = _licences[licenceId];
        if (licence.licensor == address(0)) return Status.None;
        if (licence.terminatedAt != 0) return Status.Terminated;
        if (block.timestamp >= licence.end) return Status.Expired;
        return Status.Active;
    }

    /// @inheritdoc ILicenceRegistry
    function licenceCount() external view returns (uint256) {
        return _licenceCount;
    }

    /// @inheritdoc ILicenceRegistry
    function settlementContext(uint256 licenceId) external view returns (SettlementContext memory context) {
        Licence storage licence = _licences[licenceId];
        if (licence.licensor == address(0)) revert UnknownLicence(licenceId);
        uint64 effectiveEnd = _effectiveEnd(licence);
        context = SettlementContext({
            licensor: licence.licensor,
            licensee: licence.licensee,
            start: licence.start,
            effectiveEnd: effectiveEnd,
            sellOffEnd: effectiveEnd + uint64(licence.sellOffDays) * 1 days,
            periodSeconds: licence.periodSeconds,
            calendar: licence.calendar,
            threshold: licence.threshold,
            disputeWindow: licence.disputeWindow,
            arbiter: licence.arbiter,
            scope: licence.scope
        });
    }

    /// @inheritdoc ILicenceRegistry
    function settlementTerms(uint256 licenceId, address[] calldata signers)
        external
        view
        returns (SettlementTerms memory terms)
    {
        Licence storage licence = _licences[licenceId];
        uint256 versions = licence.scheduleCount;
        if (versions == 0) revert UnknownLicence(licenceId);
        mapping(address account => bool) storage oracles = _isOracle[licenceId];
        for (uint256 i; i < signers.length; ++i) {
            if (!oracles[signers[i]]) revert IRoyaltyLedger.UnknownSigner(i, signers[i]);
        }
        terms.start = licence.start;
        terms.sellOffEnd = _effectiveEnd(licence) + uint64(licence.sellOffDays) * 1 days;
        terms.periodSeconds = licence.periodSeconds;
        terms.calendar = licence.calendar;
        terms.threshold = licence.threshold;
        terms.disputeWindow = licence.disputeWindow;
        terms.scope = licence.scope;
        terms.scheduleCount = uint32(versions);
        terms.schedule = _loadSchedule(_schedules[licenceId][versions - 1]);
    }

    /// @inheritdoc ILicenceRegistry
    function scheduleAt(uint256 licenceId, uint64 timestamp) external view returns (Schedule memory) {
        return _loadSchedule(_scheduleAt(licenceId, timestamp));
    }

    /// @inheritdoc ILicenceRegistry
    function periodBounds(uint256 licenceId, uint32 period)
        external
        view
        returns (uint64 from, uint64 to, uint64 dueAt)
    {
        Licence storage licence = _existingLicence(licenceId);
        (from, to) = clock.periodBounds(licence.start, licence.periodSeconds, licence.calendar, period);
        dueAt = to + uint64(licence.calendar.dueDays) * 1 days;
    }

    /// @inheritdoc ILicenceRegistry
    function periodOf(uint256 licenceId, uint64 timestamp) external view returns (uint32) {
        Licence storage licence = _existingLicence(licenceId);
        if (timestamp < licence.start) revert BeforeStart(timestamp, licence.start);
        return SafeCast.toUint32(clock.periodOf(licence.start, licence.periodSeconds, licence.calendar, timestamp));
    }

    /// @inheritdoc ILicenceRegistry
    function contractYearBounds(uint256 licenceId, uint32 year)
        external
        view
        returns (uint64 from, uint64 to, uint64 dueAt, uint64 fullLength)
    {
        Licence storage licence = _existingLicence(licenceId);
        (from, to, fullLength) = clock.yearBounds(licence.start, licence.calendar, year);
        dueAt = to + uint64(licence.calendar.dueDays) * 1 days;
    }

    /// @inheritdoc ILicenceRegistry
    function contractYearOf(uint256 licenceId, uint64 timestamp) external view returns (uint32) {
        Licence storage licence = _existingLicence(licenceId);
        if (timestamp < licence.start) revert BeforeStart(timestamp, licence.start);
        return SafeCast.toUint32(clock.yearOf(licence.start, licence.calendar, timestamp));
    }

    /// @inheritdoc ILicenceRegistry
    function minimumGuaranteeAt(uint256 licenceId, uint64 timestamp) external view returns (uint128) {
        return _scheduleAt(licenceId, timestamp).minimumGuarantee;
    }

    /// @inheritdoc ILicenceRegistry
    function scheduleCount(uint256 licenceId) external view returns (uint32) {
        return _licences[licenceId].scheduleCount;
    }

    /// @inheritdoc ILicenceRegistry
    function isOracle(uint256 licenceId, address account) external view returns (bool) {
        return _isOracle[licenceId][account];
    }

    /// @inheritdoc ILicenceRegistry
    function parties(uint256 licenceId) external view returns (address licensor, address licensee) {
        Licence storage licence = _licences[licenceId];
        if (licence.licensor == address(0)) revert UnknownLicence(licenceId);
        return (licence.licensor, licence.licensee);
    }

    /// @inheritdoc ILicenceRegistry
    function registerDigest(Terms calldata terms, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(typedData.registerStructHash(terms, deadline));
    }

    /// @inheritdoc ILicenceRegistry
    function amendDigest(uint256 licenceId, Schedule calldata schedule, uint64 newEnd, uint64 deadline)
        public
        view
        returns (bytes32)
    {
        // The version number makes every amendment signature usable exactly once.
        uint32 version = _licences[licenceId].scheduleCount;
        return _hashTypedDataV4(typedData.amendStructHash(licenceId, version, schedule, newEnd, deadline));
    }

    /// @inheritdoc ILicenceRegistry
    function terminateDigest(uint256 licenceId, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TERMINATE_TYPEHASH, licenceId, deadline)));
    }

    /// @inheritdoc ILicenceRegistry
    function isValidSignature(address signer, bytes32 digest, bytes calldata signature) external view returns (bool) {
        return SignatureChecker.isValidSignatureNow(signer, digest, signature);
    }

    /// @notice The EIP-712 domain separator, for clients building typed data.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal

    /// @dev Versions are few and ordered by effective date; the latest one in force wins.
    function _scheduleAt(uint256 licenceId, uint64 timestamp) private view returns (StoredSchedule storage) {
        uint256 versions = _licences[licenceId].scheduleCount;
        if (versions == 0) revert UnknownLicence(licenceId);
        mapping(uint256 version => StoredSchedule) storage all = _schedules[licenceId];
        uint256 i = versions - 1;
        while (i > 0 && all[i].effectiveFrom > timestamp) --i;
        return all[i];
    }

    function _loadSchedule(StoredSchedule storage stored) private view returns (Schedule memory schedule) {
        schedule.effectiveFrom = stored.effectiveFrom;
        schedule.fixedFeePerPeriod = stored.fixedFeePerPeriod;
        schedule.rateBps = stored.rateBps;
        schedule.perUnit = stored.perUnit;
        schedule.minimumGuarantee = stored.minimumGuarantee;
        schedule.tiers = new Tier[](stored.tierCount);
        for (uint256 i; i < schedule.tiers.length; ++i) {
            schedule.tiers[i] = stored.tiers[i];
        }
        schedule.fieldRates = new FieldRate[](stored.fieldRateCount);
        for (uint256 i; i < schedule.fieldRates.length; ++i) {
            schedule.fieldRates[i] = stored.fieldRates[i];
        }
    }

    function _effectiveEnd(Licence storage licence) private view returns (uint64) {
        uint64 terminatedAt = licence.terminatedAt;
        return terminatedAt != 0 && terminatedAt < licence.end ? terminatedAt : licence.end;
    }

    function _existingLicence(uint256 licenceId) private view returns (Licence storage licence) {
        licence = _licences[licenceId];
        if (licence.licensor == address(0)) revert UnknownLicence(licenceId);
    }

    function _activeLicence(uint256 licenceId) private view returns (Licence storage licence) {
        licence = _licences[licenceId];
        if (licence.licensor == address(0)) revert UnknownLicence(licenceId);
        Status current = status(licenceId);
        if (current != Status.Active) revert LicenceNotActive(licenceId, current);
    }

    function _terminate(uint256 licenceId, Licence storage licence, bool byConsent) private {
        licence.terminatedAt = uint40(block.timestamp);
        licence.breachNoticeAt = 0;
        emit LicenceTerminated(licenceId, uint64(block.timestamp), byConsent);
    }

    /// @dev Checks both parties' consent to `digest` and marks it used. A party calling the
    /// contract itself consents by the call and may pass an empty signature.
    function _consume(
        bytes32 digest,
        uint64 deadline,
        address licensor,
        address licensee,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) private {
        if (block.timestamp > deadline) revert ConsentExpired(deadline, block.timestamp);
        if (consentUsed[digest]) revert ConsentAlreadyUsed(digest);
        if (!_consents(licensor, digest, licensorSig)) revert ConsentMissing(licensor);
        if (!_consents(licensee, digest, licenseeSig)) revert ConsentMissing(licensee);
        consentUsed[digest] = true;
    }

    function _consents(address party, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (msg.sender == party) return true;
        return SignatureChecker.isValidSignatureNow(party, digest, signature);
    }

    /// @dev A new schedule version comes after the latest one and before the end of the term, and
    /// an amendment is never retroactive (periods that have already begun keep their version).
    function _checkNewVersion(
        uint256 licenceId,
        Licence storage licence,
        Schedule calldata schedule,
        uint64 end,
        bool mayBeBackdated
    ) private view returns (uint256 versions) {
        versions = licence.scheduleCount;
        uint64 effectiveFrom = schedule.effectiveFrom;
        uint64 previousEffective = _schedules[licenceId][versions - 1].effectiveFrom;
        if (!mayBeBackdated && effectiveFrom < block.timestamp) {
            revert EffectiveDateInPast(effectiveFrom, block.timestamp);
        }
        if (effectiveFrom <= previousEffective) revert EffectiveDateNotAfterPrevious(effectiveFrom, previousEffective);
        if (end <= effectiveFrom) revert NewEndBeforeEffectiveDate(end, effectiveFrom);
        _validateSchedule(schedule, licence.scope.fields);
    }

    function _pushSchedule(uint256 licenceId, Schedule calldata schedule, uint64 effectiveFrom) private {
        Licence storage licence = _licences[licenceId];
        uint256 version = licence.scheduleCount;
        licence.scheduleCount = SafeCast.toUint16(version + 1);
        StoredSchedule storage stored = _schedules[licenceId][version];
        // Before 9000-01-01: a term start, or an amendment's date before its new end.
        stored.effectiveFrom = uint40(effectiveFrom);
        stored.fixedFeePerPeriod = schedule.fixedFeePerPeriod;
        stored.rateBps = schedule.rateBps;
        stored.perUnit = schedule.perUnit;
        stored.minimumGuarantee = schedule.minimumGuarantee;
        stored.tierCount = SafeCast.toUint8(schedule.tiers.length);
        for (uint256 i; i < schedule.tiers.length; ++i) {
            stored.tiers[i] = schedule.tiers[i];
        }
        stored.fieldRateCount = SafeCast.toUint8(schedule.fieldRates.length);
        for (uint256 i; i < schedule.fieldRates.length; ++i) {
            stored.fieldRates[i] = schedule.fieldRates[i];
        }
    }

    /// @dev The ledger keeps the money terms: payees, withholding, token; it pulls the advance.
    function _openInLedger(uint256 licenceId, Terms calldata terms) private {
        Payee[] calldata payees = terms.payees;
        address[] memory accounts = new address[](payees.length);
        uint16[] memory shares = new uint16[](payees.length);
        for (uint256 i; i < payees.length; ++i) {
            accounts[i] = payees[i].account;
            shares[i] = payees[i].shareBps;
        }
        ledger.openLicence(
            licenceId,
            terms.token,
            terms.licensee,
            accounts,
            shares,
            terms.taxBps,
            terms.taxAccount,
            terms.advance,
            terms.term.calendar.interestBps,
            // Nothing waits for a dispute window or a reserve's release: payouts skip that queue.
            terms.disputeWindow == 0 && terms.term.calendar.reserveBps == 0
        );
    }

    function _validateTerms(Terms calldata terms) private view {
        if (terms.licensor == address(0)) revert ZeroAddress("licensor");
        if (terms.licensee == address(0)) revert ZeroAddress("licensee");
        if (terms.licensor == terms.licensee) revert SameLicensorAndLicensee(terms.licensor);
        if (terms.arbiter == address(0)) revert ZeroAddress("arbiter");
        if (terms.arbiter == terms.licensor || terms.arbiter == terms.licensee) revert ArbiterIsParty(terms.arbiter);
        if (terms.term.end <= terms.term.start) revert TermEndNotAfterStart(terms.term.start, terms.term.end);
        // The calendar and its clauses are checked by the clock, whose code holds the date rule.
        clock.validateTerm(terms.term);
        if (terms.scope.territories == 0 || terms.scope.fields == 0 || terms.scope.channels == 0) revert EmptyScope();
        if (!tokenAllowed[terms.token]) revert TokenNotAllowed(terms.token);
        _validatePayees(terms.payees);
        if (terms.taxBps >= BPS) revert TaxShareTooHigh(terms.taxBps);
        if (terms.taxBps > 0 && terms.taxAccount == address(0)) revert TaxAccountMissing();
        _validateOracles(terms.oracles, terms.threshold);
        _validateSchedule(terms.schedule, terms.scope.fields);
    }

    function _validatePayees(Payee[] calldata payees) private pure {
        if (payees.length == 0) revert NoPayees();
        if (payees.length > MAX_PAYEES) revert TooManyPayees(payees.length, MAX_PAYEES);
        uint256 sum = 0;
        for (uint256 i; i < payees.length; ++i) {
            address account = payees[i].account;
            if (account == address(0)) revert ZeroAddress("payee");
            if (payees[i].shareBps == 0) revert ZeroShare(account);
            // Ascending order makes the duplicate check one comparison and lets the ledger
            // find a payee by binary search.
            if (i > 0) {
                address previous = payees[i - 1].account;
                if (account == previous) revert DuplicatePayee(account);
                if (account < previous) revert PayeesNotAscending(i, account);
            }
            sum += payees[i].shareBps;
        }
        if (sum != BPS) revert SharesNotTenThousand(sum);
    }

    function _validateOracles(address[] calldata oracles, uint8 threshold) private pure {
        if (oracles.length > MAX_ORACLES) revert TooManyOracles(oracles.length, MAX_ORACLES);
        if (threshold == 0 || threshold > oracles.length) revert ThresholdOutOfRange(threshold, oracles.length);
        for (uint256 i; i < oracles.length; ++i) {
            if (oracles[i] == address(0)) revert ZeroAddress("oracle");
            for (uint256 j; j < i; ++j) {
                if (oracles[j] == oracles[i]) revert DuplicateOracle(oracles[i]);
            }
        }
    }

    function _validateSchedule(Schedule calldata schedule, uint64 scopeFields) private pure {
        if (schedule.rateBps > BPS) revert RateTooHigh(schedule.rateBps);
        Tier[] calldata tiers = schedule.tiers;
        if (tiers.length > 0) {
            if (schedule.rateBps != 0) revert TiersAndBaseRate(schedule.rateBps);
            if (tiers[0].threshold != 0) revert FirstTierNotZero(tiers[0].threshold);
        }
        for (uint256 i; i < tiers.length; ++i) {
            if (tiers[i].rateBps > BPS) revert RateTooHigh(tiers[i].rateBps);
            if (i > 0 && tiers[i].threshold <= tiers[i - 1].threshold) {
                revert TiersOutOfOrder(i, tiers[i].threshold, tiers[i - 1].threshold);
            }
        }
        FieldRate[] calldata fieldRates = schedule.fieldRates;
        for (uint256 i; i < fieldRates.length; ++i) {
            uint8 field = fieldRates[i].field;
            if (fieldRates[i].rateBps > BPS) revert RateTooHigh(fieldRates[i].rateBps);
            if (field >= 64 || (scopeFields >> field) & 1 == 0) revert FieldRateOutsideScope(field);
            for (uint256 j; j < i; ++j) {
                if (fieldRates[j].field == field) revert DuplicateFieldRate(field);
            }
        }
    }
}
