// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRoyaltyLedger} from "./IRoyaltyLedger.sol";

/// @title Licence registry: licence terms, consent, amendments and termination
/// @notice A licence is registered only with the EIP-712 consent of both licensor and licensee,
/// so a relayer (the HTTP API) can submit it; either party may also submit it itself.
/// @dev Money lives in the RoyaltyLedger; this contract holds terms and lifecycle only.
interface ILicenceRegistry {
    // ------------------------------------------------------------------ types

    /// @notice Where, for what and through which channels the licensee may sell.
    /// @dev Each field is a bitmap over a published code table (royalty_chain/codes/*.json):
    /// bit i of `territories` is ISO 3166-1 alpha-2 code number i, and so on.
    struct Scope {
        uint256 territories;
        uint64 fields;
        uint32 channels;
    }

    /// @notice How a licence's term is cut into reporting periods and contract years, when
    /// reports and payments are due, and the clauses that run by that calendar: interest on late
    /// payment, the reserve against returns, audit true-ups. Boundaries are UTC dates computed by
    /// LicenceCalendar.
    /// @param periodMonths 0: periods of `Term.periodSeconds` counted from the start; otherwise
    /// periods of this many calendar months
    /// @param anniversary months counted from the start date (any 1..60); false: calendar periods
    /// counted from 1 January (1, 2, 3, 4, 6 or 12 months: months, quarters, halves, years), the
    /// first one cut at the start date
    /// @param yearMonth contract years begin every year on this month and day (1 and 1: calendar
    /// years); 0 and 0: on the start date's anniversary. 29 February falls on 28 February in
    /// common years.
    /// @param dueDays a period's report and payment are due this many days after it ends (and a
    /// contract year's guarantee shortfall this many days after the year ends), 1..365
    /// @param interestBps simple yearly interest on any amount paid after its due date
    /// (actual/365, from the due date to the payment), 0 for none
    /// @param reserveBps share of each report's payable royalty (after credits and recoupment)
    /// held back as a reserve against returns, rounded down, 0 for none; at most 5,000
    /// @param reservePeriods a period's reserve is released to the payees at the end of the
    /// period this many periods later (1..24; 0 exactly when there is no reserve), or earlier as
    /// returns consume it: a period whose net royalty is negative takes it back from the reserves
    /// held, oldest first, before carrying a credit forward
    /// @param auditThresholdBps an audit finding whose underpayment exceeds this share of the
    /// royalty the period was settled at (0: any underpayment) bears interest from the period's
    /// original due date, and the audit cost it states is charged to the licensee
    /// @param fxRule how sales in another currency than the token's are converted (docs/currencies.md):
    /// 0 they are not (a report may carry no conversion), 1 at the average rate of the period,
    /// 2 at the period's last published rate, 3 at the rate of the sale date, 4 at the fixed
    /// contractual rates both parties agreed (LicenceFx, the table in force at the period's
    /// start); a rate is always dated inside the period it converts
    /// @param fxSource the publisher of the rates (ASCII, e.g. "ECB"; for fixed rates a name of
    /// the agreement, e.g. "contract"), zero exactly when fxRule is 0
    struct Calendar {
        uint8 periodMonths;
        bool anniversary;
        uint8 yearMonth;
        uint8 yearDay;
        uint16 dueDays;
        uint16 interestBps;
        uint16 reserveBps;
        uint8 reservePeriods;
        uint16 auditThresholdBps;
        uint8 fxRule;
        bytes16 fxSource;
    }

    /// @notice Term of the licence; times are unix seconds.
    /// @param start first second of the term (00:00 UTC of a day for month-based periods)
    /// @param end first second after the term
    /// @param sellOffDays days after expiry or termination during which sales still earn royalties;
    /// the term's end and the end of its sell-off are at most 9000-01-01 (TermEndTooLate)
    /// @param periodSeconds length of one reporting period when `calendar.periodMonths` is 0, else 0
    struct Term {
        uint64 start;
        uint64 end;
        uint32 sellOffDays;
        uint32 periodSeconds;
        Calendar calendar;
    }

    /// @notice A marginal tier: `rateBps` applies to the part of the contract year's cumulative
    /// tier-priced net sales at or above `threshold` (and below the next tier's threshold).
    struct Tier {
        uint128 threshold;
        uint16 rateBps;
    }

    /// @notice A flat rate for one field of use that replaces the base or tiered rate.
    struct FieldRate {
        uint8 field;
        uint16 rateBps;
    }

    /// @notice One version of the rate schedule, in force from `effectiveFrom`.
    /// @param fixedFeePerPeriod charged for every reported period, in token units
    /// @param rateBps base percentage of net sales when there are no tiers
    /// @param perUnit amount per unit sold, in token units
    /// @param minimumGuarantee royalty owed at least per contract year, 0 for none
    struct Schedule {
        uint64 effectiveFrom;
        uint128 fixedFeePerPeriod;
        uint16 rateBps;
        uint128 perUnit;
        uint128 minimumGuarantee;
        Tier[] tiers;
        FieldRate[] fieldRates;
    }

    /// @notice A rights holder and its share of every royalty after withholding, in bps.
    /// Payees are listed in ascending address order.
    struct Payee {
        address account;
        uint16 shareBps;
    }

    /// @notice Everything both parties sign when they register a licence.
    /// @param legalTextHash keccak256 of the signed legal text
    /// @param assetIds identifiers of the licensed assets (patent numbers, marks, data sets)
    /// @param advance paid by the licensee at registration and recouped from royalties
    /// @param taxBps withholding share of every royalty paid to `taxAccount`
    /// @param oracles the oracle signers; a report needs exactly `threshold` of them
    /// @param disputeWindow seconds during which a settlement can be disputed (0: final at once)
    /// @param curePeriod seconds after a breach notice before termination for cause is possible
    /// @param salt lets the same parties register identical terms twice on purpose
    struct Terms {
        address licensor;
        address licensee;
        bytes32 legalTextHash;
        uint256[] assetIds;
        Scope scope;
        Term term;
        address token;
        uint128 advance;
        Schedule schedule;
        Payee[] payees;
        uint16 taxBps;
        address taxAccount;
        address[] oracles;
        uint8 threshold;
        uint32 disputeWindow;
        address arbiter;
        uint32 curePeriod;
        bytes32 salt;
    }

    enum Status {
        None,
        Active,
        Terminated,
        Expired
    }

    /// @notice What the ledger needs to settle a report for one period.
    struct SettlementContext {
        address licensor;
        address licensee;
        uint64 start;
        uint64 effectiveEnd;
        uint64 sellOffEnd;
        uint32 periodSeconds;
        Calendar calendar;
        uint8 threshold;
        uint32 disputeWindow;
        address arbiter;
        Scope scope;
    }

    /// @notice What the ledger settles a report by, decoded from one call (settlementTerms): the
    /// calendar, the window, the scope and the latest schedule version (`scheduleCount` versions
    /// in all; a period that began before the latest took effect is priced by `scheduleAt` its start).
    struct SettlementTerms {
        uint64 start;
        uint64 sellOffEnd;
        uint32 periodSeconds;
        Calendar calendar;
        uint8 threshold;
        uint32 disputeWindow;
        Scope scope;
        uint32 scheduleCount;
        Schedule schedule;
    }

    /// @notice Result of pricing one report, whose buckets may fall in several contract years.
    /// Amounts are signed: returns, and the lines an adjustment cancels, take away.
    /// @param royalty amount owed for the period (or, for an adjustment, the difference it
    /// makes) before recoupment, in token units: the sum of `yearRoyalty`; negative when returns
    /// exceed sales, and then carried forward as a credit
    /// @param outOfScope bit i set when bucket i lies outside the licence's scope
    /// @param yearTierNet per contract year of the period (the first is the year of the period's
    /// start), the change in net sales priced by the base rate or the tiers: it moves that
    /// year's cumulative for the tiers
    /// @param yearRoyalty per contract year of the period, the royalty its sales earned (less
    /// what its returns took back); the period's fixed fee belongs to the first
    struct Priced {
        int256 royalty;
        uint256 outOfScope;
        int256[] yearTierNet;
        int256[] yearRoyalty;
    }

    // ------------------------------------------------------------------ errors

    error ZeroAddress(string field);
    error SameLicensorAndLicensee(address party);
    error TermEndNotAfterStart(uint64 start, uint64 end);
    error PeriodLengthZero();
    error PeriodSecondsWithMonths(uint32 periodSeconds);
    error PeriodMonthsInvalid(uint8 periodMonths, bool anniversary);
    error StartNotMidnight(uint64 start);
    error InvalidYearStart(uint8 month, uint8 day);
    error DueDaysOutOfRange(uint16 dueDays);
    error InterestRateTooHigh(uint16 interestBps);
    error ReserveTooHigh(uint16 reserveBps);
    error ReservePeriodsOutOfRange(uint16 reserveBps, uint8 reservePeriods);
    error AuditThresholdTooHigh(uint16 auditThresholdBps);
    /// @notice fxRule is not 0 to 4, or names no source (or a source without a rule).
    error FxClauseInvalid(uint8 fxRule, bytes16 fxSource);
    error TermEndTooLate(uint64 end);
    error BeforeStart(uint64 timestamp, uint64 start);
    error EmptyScope();
    error TokenNotAllowed(address token);
    error NoPayees();
    error SharesNotTenThousand(uint256 sumBps);
    error DuplicatePayee(address payee);
    error PayeesNotAscending(uint256 index, address payee);
    error ZeroShare(address payee);
    error TaxShareTooHigh(uint16 taxBps);
    error TaxAccountMissing();
    error ThresholdOutOfRange(uint8 threshold, uint256 signers);
    error DuplicateOracle(address oracle);
    error TooManyOracles(uint256 count, uint256 max);
    error TooManyPayees(uint256 count, uint256 max);
    error RateTooHigh(uint16 rateBps);
    error FirstTierNotZero(uint128 threshold);
    error TiersOutOfOrder(uint256 index, uint128 threshold, uint128 previous);
    error TiersAndBaseRate(uint16 rateBps);
    error DuplicateFieldRate(uint8 field);
    error FieldRateOutsideScope(uint8 field);
    error ArbiterIsParty(address arbiter);
    error ConsentExpired(uint64 deadline, uint256 nowSeconds);
    error ConsentMissing(address party);
    error ConsentAlreadyUsed(bytes32 digest);
    error UnknownLicence(uint256 licenceId);
    error LicenceNotActive(uint256 licenceId, Status status);
    error EffectiveDateInPast(uint64 effectiveFrom, uint256 nowSeconds);
    error EffectiveDateNotAfterPrevious(uint64 effectiveFrom, uint64 previous);
    error NewEndBeforeEffectiveDate(uint64 newEnd, uint64 effectiveFrom);
    error NotLicensor(address caller);
    error NoArrears(uint256 licenceId);
    error NoBreachNotice(uint256 licenceId);
    error CurePeriodRunning(uint256 licenceId, uint64 curesAt);
    error BreachCured(uint256 licenceId, uint64 curedAt);
    error LedgerAlreadySet(address ledger);
    error LedgerNotSet();

    // ------------------------------------------------------------------ events

    /// @notice A licence was registered; the event carries every term.
    event LicenceRegistered(uint256 indexed licenceId, address indexed licensor, address indexed licensee, Terms terms);
    /// @notice Both parties signed a new schedule version (and possibly a new end of term).
    event LicenceAmended(
        uint256 indexed licenceId, uint32 indexed version, Schedule schedule, uint64 newEnd, uint64 previousEnd
    );
    /// @notice The licensor served notice of unpaid arrears; the cure period starts now.
    event BreachNoticed(uint256 indexed licenceId, uint256 arrears, uint64 curesAt);
    /// @notice A licence ended before its term; `byConsent` false means for cause.
    event LicenceTerminated(uint256 indexed licenceId, uint64 effectiveAt, bool byConsent);
    /// @notice The payment token allowlist changed.
    event TokenAllowed(address indexed token, bool allowed);
    /// @notice The ledger this registry works with was set (once).
    event LedgerSet(address indexed ledger);

    // ------------------------------------------------------------------ actions

    /// @notice Register a licence with both parties' consent.
    /// @param licensorSig EIP-712 RegisterLicence signature of the licensor (empty if the caller is the licensor)
    /// @param licenseeSig same for the licensee; the licensee must have approved the ledger for the advance
    /// @return licenceId the new licence's id, counting from 1
    function register(Terms calldata terms, uint64 deadline, bytes calldata licensorSig, bytes calldata licenseeSig)
        external
        returns (uint256 licenceId);

    /// @notice Append a schedule version the parties agreed to in advance, without their
    /// signatures: an escalation clause they signed (LicenceEscalator) computed it. Only
    /// ESCALATOR_ROLE; an amendment's rules (after the latest version, before the end of the term,
    /// a valid schedule) except that it may be dated back to its anniversary, the escalator
    /// having checked that no period that began since has been settled. The term is unchanged.
    /// Emits LicenceAmended with the end unchanged.
    function appendSchedule(uint256 licenceId, Schedule calldata schedule) external;

    /// @notice Add a schedule version in force from `effectiveFrom` and set a new end of term
    /// (renewal); both parties sign. A pending breach notice lapses (renewal with knowledge waives it).
    function amend(
        uint256 licenceId,
        Schedule calldata schedule,
        uint64 newEnd,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external;

    /// @notice End the licence now by both parties' consent.
    function terminateByConsent(
        uint256 licenceId,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external;

    /// @notice The licensor notes unpaid arrears; the cure period starts.
    function noticeBreach(uint256 licenceId) external;

    /// @notice The licensor ends the licence after the cure period ran out with arrears unpaid.
    function terminateForCause(uint256 licenceId) external;

    // ------------------------------------------------------------------ views

    function status(uint256 licenceId) external view returns (Status);
    function licenceCount() external view returns (uint256);
    function settlementContext(uint256 licenceId) external view returns (SettlementContext memory);
    function scheduleAt(uint256 licenceId, uint64 timestamp) external view returns (Schedule memory);
    function scheduleCount(uint256 licenceId) external view returns (uint32);
    /// @notice The terms a report of licence `licenceId` settles by, once its signatures were
    /// recovered to `signers`: reverts with IRoyaltyLedger.UnknownSigner(i, signer) when one is
    /// not among the licence's oracles (the ledger checks their number and order).
    /// @return words the end of the sell-off (after any termination), then the licence's first
    /// four storage words (times, window, threshold, version count; calendar; scope) and its latest
    /// schedule version's two (fees; guarantee, effective date, rate, tier and field rate counts),
    /// as LicenceRegistry stores them: the ledger decodes them (SettlementModule._terms) into
    /// SettlementTerms, and reads a version's tiers and field rates by scheduleAt when it has any.
    function settlementTerms(uint256 licenceId, address[] calldata signers)
        external
        view
        returns (uint256[7] memory words);
    /// @notice First second, first second after, and due date of a licence's reporting period.
    function periodBounds(uint256 licenceId, uint32 period) external view returns (uint64 from, uint64 to, uint64 dueAt);
    /// @notice The reporting period a moment of the term (or of the sell-off) falls in.
    function periodOf(uint256 licenceId, uint64 timestamp) external view returns (uint32);
    /// @notice Contract year `year`: its first second (cut at the term's start), first second
    /// after (the anniversary, not cut at the term's end), due date of its guarantee, and the
    /// length of the whole 12-month step it belongs to (365 or 366 days).
    function contractYearBounds(uint256 licenceId, uint32 year)
        external
        view
        returns (uint64 from, uint64 to, uint64 dueAt, uint64 fullLength);
    /// @notice The contract year a moment falls in.
    function contractYearOf(uint256 licenceId, uint64 timestamp) external view returns (uint32);
    /// @notice The minimum guarantee per contract year in force at `timestamp`.
    function minimumGuaranteeAt(uint256 licenceId, uint64 timestamp) external view returns (uint128);
    function isOracle(uint256 licenceId, address account) external view returns (bool);
    function parties(uint256 licenceId) external view returns (address licensor, address licensee);
    /// @notice The EIP-712 digest both parties sign to register `terms`: RegisterLicence, every
    /// field of the terms as typed data (LicenceTypedData has the type strings), in this domain.
    function registerDigest(Terms calldata terms, uint64 deadline) external view returns (bytes32);
    /// @notice The digest both parties sign for the licence's next schedule version (AmendLicence,
    /// the whole schedule as typed data, bound to the version number so it is usable once).
    function amendDigest(uint256 licenceId, Schedule calldata schedule, uint64 newEnd, uint64 deadline)
        external
        view
        returns (bytes32);
    function terminateDigest(uint256 licenceId, uint64 deadline) external view returns (bytes32);
    /// @notice Whether `signature` is `signer`'s over `digest`: ECDSA for accounts, ERC-1271 for
    /// contract wallets. The ledger asks here so the checker's code lives in one contract.
    function isValidSignature(address signer, bytes32 digest, bytes calldata signature) external view returns (bool);
}
