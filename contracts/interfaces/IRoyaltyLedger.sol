// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Royalty ledger: escrow, signed sales reports, settlement, split balances, disputes
/// @notice Holds every token the system holds. A settlement prices one signed sales report,
/// recoups the advance, draws the rest from the licensee's escrow (a shortfall becomes arrears),
/// and, once final, credits the tax account its withholding and the payees their shares.
/// @dev Payee credit is an accumulator per licence: settlement cost does not grow with the
/// number of payees. Payees are paid by their own withdrawals or by a permissionless
/// distribution to all of them, which moves a per-licence watermark instead of writing a slot
/// per payee. A payee's part of the amount distributed so far comes from halving the
/// payee list (RoyaltyMath.partOf): exact in sum, and never decreasing as the total grows.
interface IRoyaltyLedger {
    // ------------------------------------------------------------------ types

    /// @notice Totals of one (contract year, territory, field, channel) bucket of a period, in
    /// token units. `year` is the contract year of the sales' dates: a period that crosses a
    /// contract year's end reports each year's sales in buckets of their own, listed by year.
    struct Bucket {
        uint16 year;
        uint8 territory;
        uint8 field;
        uint8 channel;
        uint128 units;
        uint128 gross;
        uint128 deductions;
    }

    /// @notice One licence's sales for one reporting period, signed by its oracles; or an
    /// adjustment of a period already settled.
    /// @param period index of the period, counted from the term start (LicenceCalendar)
    /// @param sequence strictly increasing per licence; an older one is stale
    /// @param deadline the report may not settle after this unix time
    /// @param linesRoot OpenZeppelin-MerkleProof-compatible root of the lines this report carries
    /// @param buckets sales (for an adjustment: the lines it adds, and the new values of the
    /// lines it replaces)
    /// @param returned returns and credit notes reported in the period (for an adjustment: also
    /// the lines it cancels, and the old values of the lines it replaces), as positive amounts
    /// that take away
    /// @param corrects 0 for a period's original report; for an adjustment, the settlement it
    /// corrects: the period's latest (the original, or the last adjustment)
    /// @param audit the adjustment is an audit finding: when the underpayment it reveals exceeds
    /// the licence's audit threshold, it bears interest from the period's original due date and
    /// `auditCost` is charged to the licensee
    /// @param auditCost the cost of the audit the finding states, in token units (0 unless `audit`)
    /// @param fx the sales in other currencies the buckets hold, converted (docs/currencies.md):
    /// empty when every sale is in the licence's currency
    struct Report {
        uint256 licenceId;
        uint32 period;
        uint64 sequence;
        uint64 deadline;
        bytes32 linesRoot;
        uint32 lineCount;
        Bucket[] buckets;
        Bucket[] returned;
        uint256 corrects;
        bool audit;
        uint128 auditCost;
        Conversion[] fx;
    }

    /// @notice The part of a bucket sold in another currency, converted at a rate the report's
    /// oracles sign with it (docs/currencies.md). Each amount is converted once, rounded down:
    /// floor(amount * rate * 10^tokenDecimals / (10^minorUnits * 10^18)); the bucket (in token
    /// units) holds its licence-currency sales plus these converted parts.
    /// @param bucket index in `buckets`, then in `returned` (`buckets.length + i` is returned[i])
    /// @param currency ISO 4217 code, three ASCII capitals ("EUR")
    /// @param minorUnits the currency's ISO 4217 exponent (0..4): `gross` and `deductions` are in
    /// 10^-minorUnits of it
    /// @param rateDay 00:00 UTC of the rate's date, inside the period (the clause says which day)
    /// @param rate licence-currency units one unit of `currency` is worth, scaled by 10^18
    /// (10^9 to 10^27: 10^-9 to 10^9)
    struct Conversion {
        uint16 bucket;
        bytes3 currency;
        uint8 minorUnits;
        uint64 rateDay;
        uint128 rate;
        uint128 gross;
        uint128 deductions;
    }

    enum Kind {
        None,
        Advance,
        Report,
        MinimumGuarantee,
        Interest,
        Adjustment,
        Reserve,
        Audit,
        AuditCost
    }

    enum State {
        None,
        Pending,
        Disputed,
        Final,
        Held
    }

    /// @notice One settlement. `due` is what the licensee owes after recoupment; `paid` has been
    /// drawn so far (the rest is arrears); `released` has been credited to tax and payees.
    /// `dueAt` is the contractual due date (a report's period end, or a guarantee year's end,
    /// plus the licence's due days): paying after it is late and carries interest. `year` is the
    /// contract year of a report's period start (the year itself for a guarantee). A reserve
    /// (kind Reserve) is Held until `disputeUntil`, its release time, then Final. A settlement
    /// final at once and paid in full keeps one storage slot: its `settledAt` and `disputeUntil`
    /// read 0 (the block of its Settled event has the time); every other one keeps both.
    struct Settlement {
        uint256 licenceId;
        uint32 period;
        Kind kind;
        State state;
        uint64 settledAt;
        uint64 disputeUntil;
        uint64 dueAt;
        uint16 year;
        uint128 royalty;
        uint128 due;
        uint128 paid;
        uint128 released;
    }

    // ------------------------------------------------------------------ errors

    error NotRegistry(address caller);
    error UnknownLicence(uint256 licenceId);
    error UnknownSettlement(uint256 settlementId);
    error LicenceAlreadyOpened(uint256 licenceId);
    error ZeroAmount();
    error NothingToWithdraw(uint256 licenceId, address account);
    error NotPayee(uint256 licenceId, address account);
    error ReportExpired(uint256 licenceId, uint64 deadline, uint256 nowSeconds);
    error StaleSequence(uint256 licenceId, uint64 sequence, uint64 lastSequence);
    error PeriodAlreadySettled(uint256 licenceId, uint32 period, uint256 settlementId);
    error PeriodNotEnded(uint256 licenceId, uint32 period, uint64 periodEnd);
    error PeriodOutsideTerm(uint256 licenceId, uint32 period, uint64 periodStart, uint64 sellOffEnd);
    error WrongSignatureCount(uint256 given, uint8 threshold);
    error InvalidSignature(uint256 index, uint8 reason, bytes32 detail);
    error UnknownSigner(uint256 index, address signer);
    error SignersNotAscending(uint256 index, address signer);
    error ReportsAndSignaturesMismatch(uint256 reports, uint256 signatureSets);
    error EmptyBatch();
    error YearNotEnded(uint256 licenceId, uint32 year, uint64 yearEnd);
    error YearOutsideTerm(uint256 licenceId, uint32 year);
    error GuaranteeAlreadyCharged(uint256 licenceId, uint32 year);
    error NoShortfall(uint256 licenceId, uint32 year, uint256 royalty, uint256 minimumGuarantee);
    error NotParty(uint256 licenceId, address account);
    error NotDisputable(uint256 settlementId, State state);
    error DisputeWindowClosed(uint256 settlementId, uint64 closedAt);
    error NotDisputed(uint256 settlementId, State state);
    error NotArbiter(address caller);
    error FinalAmountAboveDue(uint256 settlementId, uint256 finalAmount, uint256 due);
    error SignatureExpired(uint64 deadline, uint256 nowSeconds);
    error PartySignatureInvalid(address party);
    error LicenceStillOpen(uint256 licenceId, uint64 closesAt);
    error EscrowTooLow(uint256 licenceId, uint256 requested, uint256 escrow);
    error TooManyBuckets(uint256 count, uint256 max);
    error BucketYearOutsidePeriod(uint256 index, uint16 year, uint32 firstYear, uint32 lastYear);
    error PeriodNotSettled(uint256 licenceId, uint32 period);
    error DeductionsExceedGross(uint256 bucket, uint128 gross, uint128 deductions);
    error AdjustmentNotOfLatest(uint256 licenceId, uint32 period, uint256 corrects, uint256 latest);
    error YearHasOpenSettlements(uint256 licenceId, uint32 year, uint32 open);
    error AuditMustCorrect(uint256 licenceId, uint32 period);
    error AuditCostWithoutAudit(uint256 licenceId, uint128 auditCost);
    /// @notice The licence's payee list is longer than registration publishes: call publishPayees.
    error PayeesNotPublished(uint256 licenceId);
    error PayeesAlreadyPublished(uint256 licenceId);
    /// @notice The list given does not hash to the one the licence was registered with.
    error PayeeListMismatch(uint256 licenceId, bytes32 registered, bytes32 given);
    error PayeeListLengths(uint256 payees, uint256 shares);
    /// @notice Deploying the list's code failed (out of gas, most likely).
    error PayeeListNotDeployed(uint256 licenceId, address holder);
    /// @notice Every payee has been paid its part of `paidUpTo`, which is all that was distributed.
    error NothingToDistribute(uint256 licenceId, uint256 paidUpTo);
    /// @notice Too little gas left to give payee `index`'s transfer its full allowance: send more.
    error DistributionGasTooLow(uint256 licenceId, uint256 index, uint256 gasLeft, uint256 needed);
    /// @notice None of the licences named owes `payee` anything.
    error NothingToClaim(address payee);
    /// @notice The report converts sales in another currency, but the licence has no conversion clause.
    error ConversionNotAllowed(uint256 licenceId);
    /// @notice Conversions are listed by (bucket, currency, rateDay), each once; `index` is not.
    error ConversionsNotOrdered(uint256 index);
    error ConversionBucketUnknown(uint256 index, uint16 bucket, uint256 buckets);
    /// @notice Not three ASCII capitals, or a minor-unit exponent above 4.
    error CurrencyInvalid(uint256 index, bytes3 currency, uint8 minorUnits);
    error RateOutOfBounds(uint256 index, uint128 rate, uint128 min, uint128 max);
    /// @notice A rate must be dated on a day (00:00 UTC) inside the period it converts.
    error RateDayOutsidePeriod(uint256 index, uint64 rateDay, uint64 periodStart, uint64 periodEnd);
    error ConversionDeductionsExceedGross(uint256 index, uint128 gross, uint128 deductions);
    /// @notice A bucket's converted parts add up to more than the bucket holds.
    /// @notice Under fixed contractual rates (conversion rule 4) conversion `index` uses another
    /// rate than the table in force at the period's start agrees for its currency (0: none agreed).
    error FixedRateMismatch(uint256 index, bytes3 currency, uint128 rate, uint128 agreed);
    error ConversionsExceedBucket(uint16 bucket, uint256 convertedGross, uint256 convertedDeductions);
    /// @notice Conversion needs the token's decimals (at most 36), and this token did not give them.
    error TokenDecimalsUnknown(address token);

    // ------------------------------------------------------------------ events

    /// @notice Money terms of a new licence as the ledger keeps them.
    event LicenceOpened(
        uint256 indexed licenceId,
        address indexed token,
        address indexed licensee,
        address[] payees,
        uint16[] sharesBps,
        uint16 taxBps,
        address taxAccount,
        uint128 advance
    );
    /// @notice The licensee (or anyone for it) deposited `received` tokens (measured by balance).
    event Deposited(
        uint256 indexed licenceId, address indexed from, uint256 received, uint256 toArrears, uint256 toEscrow
    );
    /// @notice A settlement was created. For a report, `period` is its period; for a guarantee, the
    /// contract year; for interest, the period (or year) of the settlement paid late. `dueAt` is
    /// its due date: a settlement made after it is late.
    event Settled(
        uint256 indexed settlementId,
        uint256 indexed licenceId,
        IRoyaltyLedger.Kind kind,
        uint32 period,
        uint256 royalty,
        uint256 recouped,
        uint256 due,
        uint256 paid,
        bool pending,
        uint64 dueAt
    );
    /// @notice `principal` of settlement `onSettlementId` was paid after its due date: simple
    /// interest floor(principal * rateBps * (to - from) / (10,000 * 365 days)) is charged as
    /// settlement `settlementId` (kind Interest), split like a royalty.
    event InterestCharged(
        uint256 indexed settlementId,
        uint256 indexed onSettlementId,
        uint256 indexed licenceId,
        uint256 principal,
        uint64 from,
        uint64 to,
        uint16 rateBps,
        uint256 interest
    );
    /// @notice A report's signed facts, for audit: its lines root and count, its signers' sequence.
    /// `tierNet` is per contract year from the year of the period's start on.
    event ReportAccepted(
        uint256 indexed settlementId,
        uint256 indexed licenceId,
        uint64 sequence,
        bytes32 linesRoot,
        uint32 lineCount,
        uint32 firstYear,
        int256[] tierNet,
        int256[] yearRoyalty,
        uint256 corrects
    );
    /// @notice One conversion of a settled report (IRoyaltyLedger.Conversion) with its result in token units.
    event CurrencyConverted(
        uint256 indexed settlementId,
        uint16 bucket,
        bytes3 currency,
        uint8 minorUnits,
        uint64 rateDay,
        uint128 rate,
        uint128 gross,
        uint128 deductions,
        uint256 convertedGross,
        uint256 convertedDeductions
    );
    /// @notice Returns (or cancelled lines of an adjustment) of a settled report, one per bucket.
    event ReturnReported(
        uint256 indexed settlementId,
        uint16 year,
        uint8 territory,
        uint8 field,
        uint8 channel,
        uint128 units,
        uint128 gross,
        uint128 deductions
    );
    /// @notice A report's returns (or an adjustment's cancellations) exceeded its sales: the
    /// licensee is owed `amount`, credited against its next royalties of the licence (never paid
    /// out, never taken back from payees).
    event CreditCarried(uint256 indexed settlementId, uint256 indexed licenceId, uint256 amount, uint256 creditTotal);
    /// @notice `amount` of report settlement `settlementId`'s payable royalty is held back as
    /// reserve settlement `reserveId` (kind Reserve, state Held) until `releaseAt`, the end of the
    /// period the licence's reserve periods later.
    event ReserveHeld(
        uint256 indexed reserveId,
        uint256 indexed settlementId,
        uint256 indexed licenceId,
        uint256 amount,
        uint64 releaseAt
    );
    /// @notice A negative period (settlement `bySettlementId`) took `amount` back from reserve
    /// `reserveId`: `refunded` of it, already paid, went back to the licensee (its arrears first,
    /// then its escrow), the rest of it is no longer owed; `left` is still held.
    event ReserveConsumed(
        uint256 indexed reserveId,
        uint256 indexed bySettlementId,
        uint256 indexed licenceId,
        uint256 amount,
        uint256 refunded,
        uint256 left
    );
    /// @notice Audit finding `settlementId` (kind Audit) for `period`: it found `underpayment`
    /// (negative for an overpayment) against `reportedRoyalty`, the royalty the period was settled
    /// at before it. `exceeded` when underpayment * 10,000 > thresholdBps * reportedRoyalty: then
    /// the finding is due from the period's original due date (interest runs from it) and its
    /// `auditCost` is charged as settlement `auditCostId` (kind AuditCost, 0 when not charged).
    event AuditSettled(
        uint256 indexed settlementId,
        uint256 indexed licenceId,
        uint32 period,
        int256 underpayment,
        uint256 reportedRoyalty,
        uint16 thresholdBps,
        bool exceeded,
        uint256 auditCostId,
        uint256 auditCost
    );
    /// @notice `amount` of the licensee's credit paid part of settlement `settlementId`.
    event CreditApplied(uint256 indexed settlementId, uint256 indexed licenceId, uint256 amount, uint256 creditLeft);
    /// @notice One bucket of a settled report; `inScope` false means it earned nothing at the licence's rates.
    event BucketReported(
        uint256 indexed settlementId,
        uint16 year,
        uint8 territory,
        uint8 field,
        uint8 channel,
        uint128 units,
        uint128 gross,
        uint128 deductions,
        bool inScope
    );
    /// @notice A bucket outside the licence's scope was reported: the licensor should look.
    event ScopeBreached(
        uint256 indexed licenceId,
        uint256 indexed settlementId,
        uint8 territory,
        uint8 field,
        uint8 channel,
        uint128 gross
    );
    /// @notice Part of a settlement was paid from escrow or a deposit after it had become arrears.
    event ArrearsPaid(uint256 indexed settlementId, uint256 indexed licenceId, uint256 amount, uint256 arrearsLeft);
    /// @notice `amount` of a settlement was credited: `tax` to the tax account, the rest to payees.
    event Released(
        uint256 indexed settlementId, uint256 indexed licenceId, uint256 amount, uint256 tax, uint256 distributedTotal
    );
    /// @notice A party disputed a pending settlement; its amount is held.
    event Disputed(uint256 indexed settlementId, uint256 indexed licenceId, address indexed by);
    /// @notice A dispute ended with `finalAmount`; `refunded` went back to the licensee's escrow.
    event DisputeResolved(
        uint256 indexed settlementId, uint256 indexed licenceId, uint256 finalAmount, uint256 refunded, bool byArbiter
    );
    /// @notice A payee (or the tax account) was paid: by its own withdrawal or a multi-licence
    /// claim (a distribution's payments are in its Distributed event).
    event Withdrawn(uint256 indexed licenceId, address indexed account, uint256 amount, bool tax);
    /// @notice A licence's payee list was deployed as the code of `holder` (registration does it
    /// for short lists, publishPayees for the others).
    event PayeesPublished(uint256 indexed licenceId, address holder);
    /// @notice A distribution paid every payee its part of what was distributed between
    /// `fromTotal` and `toTotal` (cumulative `distributed` figures), plus what earlier ones could
    /// not pay: `paid` in all, `paidEach[i]` to the i-th payee of the licence's list (ascending by
    /// address, as LicenceOpened gives it; no Withdrawn event per payee), `unpaid` kept for the
    /// payees whose transfer failed (0 in `paidEach`, one PayoutFailed each).
    event Distributed(
        uint256 indexed licenceId,
        address indexed by,
        uint256 fromTotal,
        uint256 toTotal,
        uint256 paid,
        uint256 unpaid,
        uint256[] paidEach
    );
    /// @notice A distribution could not pay `payee` (its transfer reverted, returned false or ran
    /// out of its gas allowance): `amount` stays claimable by it.
    event PayoutFailed(uint256 indexed licenceId, address indexed payee, uint256 amount);
    /// @notice The licensee took back unused escrow after the licence closed.
    event EscrowWithdrawn(uint256 indexed licenceId, address indexed licensee, uint256 amount);
    /// @notice All arrears of a licence were paid off.
    event ArrearsCleared(uint256 indexed licenceId, uint64 at);

    // ------------------------------------------------------------------ actions

    /// @notice Called by the registry when a licence is registered: records payees and pulls the advance.
    /// @dev A list of up to EAGER_PUBLISH_MAX_PAYEES payees is published as code at once; a
    /// longer one is only committed to (its hash), and publishPayees deploys it later.
    /// @param releasesAtOnce the licence has no dispute window and holds no reserves, so none of
    /// its settlements ever waits to be released (payouts then skip the release queue)
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
    ) external;

    /// @notice Deposit into a licence's escrow; arrears are paid first, oldest first.
    function deposit(uint256 licenceId, uint256 amount) external;

    /// @notice Deposit from the licensee's wallet by its EIP-2612 permit for this ledger, relayed
    /// by anyone (the caller pays only gas); credited as `deposit` is, the deposit's `from` being
    /// the licensee. Still deposits when the permit was already used by someone else, as long as
    /// the allowance it left covers `amount`; an allowance the licensee keeps for this ledger is
    /// therefore open to anyone depositing it into one of the licensee's licences.
    /// @param amount token units, the permit's `value`
    /// @param deadline the permit's deadline (unix seconds)
    function depositWithPermit(uint256 licenceId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;

    /// @notice Settle signed reports; the whole batch settles or none of it does.
    /// @param signatures for each report, exactly `threshold` oracle signatures ordered by signer address
    function settleReports(Report[] calldata reports, bytes[][] calldata signatures)
        external
        returns (uint256[] memory settlementIds);

    /// @notice Charge the minimum-guarantee shortfall of a contract year that has ended. Anyone may call.
    function chargeMinimumGuarantee(uint256 licenceId, uint32 year) external returns (uint256 settlementId);

    /// @notice Make settlements whose dispute window has passed final and credit them. Anyone may call.
    function releaseMatured(uint256 licenceId) external;

    /// @notice Pay a payee its whole balance on a licence. Anyone may call; the money goes to the payee.
    function withdraw(uint256 licenceId, address payee) external returns (uint256 amount);

    /// @notice Pay a payee its whole balance on each of `licenceIds`, one transfer per run of
    /// licences paid in the same token (list them grouped by token for one transfer per token).
    /// Licences that owe it nothing are skipped. Anyone may call; the money goes to the payee.
    function withdrawMany(uint256[] calldata licenceIds, address payee) external returns (uint256 total);

    /// @notice Pay every payee of a licence what it can claim, in one transaction. Anyone may call.
    /// @dev Each transfer gets at most PAYOUT_GAS; one that reverts, returns false or runs out of
    /// gas leaves that payee's amount claimable (PayoutFailed) and the others are paid. Reverts
    /// with DistributionGasTooLow, paying no one, when the caller sent too little gas for that.
    function distribute(uint256 licenceId) external returns (uint256 paid);

    /// @notice Deploy a licence's payee list as code, for a list too long for registration to
    /// publish. Anyone may call with the list of the LicenceOpened event; it must hash to the
    /// registered one.
    function publishPayees(uint256 licenceId, address[] calldata payees, uint16[] calldata sharesBps) external;

    /// @notice Pay the tax account its whole withholding balance on a licence. Anyone may call.
    function withdrawTax(uint256 licenceId) external returns (uint256 amount);

    /// @notice The licensee takes back unused escrow once the licence and its sell-off are over.
    function withdrawEscrow(uint256 licenceId, uint256 amount) external;

    /// @notice A party disputes a pending settlement itself.
    function dispute(uint256 settlementId) external;

    /// @notice A relayer submits a party's signed dispute (EIP-712 DisputeSettlement).
    function disputeFor(uint256 settlementId, address party, uint64 deadline, bytes calldata signature) external;

    /// @notice The licence's arbiter resolves a dispute with the final amount owed.
    function resolveDispute(uint256 settlementId, uint128 finalAmount) external;

    /// @notice Both parties resolve a dispute together (EIP-712 ResolveDispute signatures).
    function resolveDisputeByParties(
        uint256 settlementId,
        uint128 finalAmount,
        uint64 deadline,
        bytes calldata licensorSig,
        bytes calldata licenseeSig
    ) external;

    // ------------------------------------------------------------------ views

    function settlement(uint256 settlementId) external view returns (Settlement memory);
    function settlementCount() external view returns (uint256);
    function escrowOf(uint256 licenceId) external view returns (uint256);
    function arrearsOf(uint256 licenceId) external view returns (uint256);
    /// @notice Arrears not under dispute: what a breach notice and termination for cause look at.
    function undisputedArrearsOf(uint256 licenceId) external view returns (uint256);
    function arrearsClearedAt(uint256 licenceId) external view returns (uint64);
    function advanceRemaining(uint256 licenceId) external view returns (uint256);
    function claimable(uint256 licenceId, address payee) external view returns (uint256);
    /// @notice The payout state of a licence: what distributions paid every payee up to (a
    /// cumulative `distributed` figure), the number of payees, whether the list is published and
    /// where its code is (or will be).
    function payoutOf(uint256 licenceId)
        external
        view
        returns (uint256 paidUpTo, uint256 payeeCount, bool published, address holder);
    /// @notice What distributions could not pay `payee` on a licence (part of its claimable).
    function unpaidOf(uint256 licenceId, address payee) external view returns (uint256);
    function taxClaimable(uint256 licenceId) external view returns (uint256);
    function settledPeriod(uint256 licenceId, uint32 period) external view returns (uint256 settlementId);
    function lastSequence(uint256 licenceId) external view returns (uint64);
    /// @notice The licensee's credit from returns and downward adjustments, not yet used.
    function creditOf(uint256 licenceId) external view returns (uint256);
    /// @notice The last settlement of a period's chain: its original report or its latest adjustment (0: none).
    function latestOfPeriod(uint256 licenceId, uint32 period) external view returns (uint256);
}
