// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {LicenceRegistry} from "../../contracts/LicenceRegistry.sol";
import {RoyaltyLedger} from "../../contracts/RoyaltyLedger.sol";
import {DisputeModule} from "../../contracts/ledger/DisputeModule.sol";
import {LicenceFx} from "../../contracts/LicenceFx.sol";
import {SettlementModule} from "../../contracts/ledger/SettlementModule.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {RoyaltyMathHarness} from "../../contracts/test/RoyaltyMathHarness.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";

/// @notice Shared fixture: a registry and a ledger wired together, a 6-decimals payment token,
/// named actors with keys, and helpers to build, sign and settle licences and reports.
/// @dev Default licence (see `defaultTerms`): term of three contract years from START, 90-day
/// periods, 180 sell-off days, 5% of net sales, payees licensor 70% / co-owner 30% (in that
/// order, which is ascending by address, as the registry requires), 10% withheld
/// for the tax account, oracles 1..3 with threshold 2, no dispute window, 30-day cure period.
abstract contract Base is Test {
    // ------------------------------------------------------------------ constants

    /// @dev 2023-11-15 00:00:00 UTC, a whole day: the default term start.
    uint64 internal constant START = 1_700_006_400;
    uint64 internal constant YEAR = 365 days;
    uint32 internal constant PERIOD = 90 days;
    uint64 internal constant END = START + 3 * YEAR;
    uint32 internal constant SELL_OFF_DAYS = 180;
    uint32 internal constant CURE_PERIOD = 30 days;
    /// @dev Reports and payments are due 30 days after a period ends.
    uint16 internal constant DUE_DAYS = 30;
    /// @dev A bucket year that `makeReport` replaces with the contract year of the period's start.
    uint16 internal constant AUTO_YEAR = type(uint16).max;
    /// @dev One unit of the 6-decimals token.
    uint128 internal constant USD = 1e6;
    uint16 internal constant RATE_BPS = 500;
    uint16 internal constant TAX_BPS = 1000;
    uint16 internal constant LICENSOR_SHARE_BPS = 7000;
    uint16 internal constant CO_OWNER_SHARE_BPS = 3000;
    uint8 internal constant THRESHOLD = 2;
    /// @dev Territory codes 0..10, fields of use 0..3, channels 0..2.
    uint256 internal constant TERRITORIES = (1 << 11) - 1;
    uint64 internal constant FIELDS = 0x0f;
    uint32 internal constant CHANNELS = 0x07;
    /// @dev The secp256k1 group order, to build malleable (high-s) signatures.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    // ------------------------------------------------------------------ fixture

    LicenceRegistry internal registry;
    RoyaltyLedger internal ledger;
    TestToken internal token;

    address internal admin;
    address internal licensor;
    uint256 internal licensorKey;
    address internal licensee;
    uint256 internal licenseeKey;
    address internal coOwner;
    address internal taxAccount;
    address internal arbiter;
    address internal relayer;
    address internal stranger;
    uint256 internal strangerKey;
    address internal oracle1;
    uint256 internal oracle1Key;
    address internal oracle2;
    uint256 internal oracle2Key;
    address internal oracle3;
    uint256 internal oracle3Key;

    /// @dev The three oracles and their keys, ascending by address (the order signatures need).
    address[] internal sortedOracles;
    uint256[] internal sortedOracleKeys;

    function setUp() public virtual {
        vm.warp(START + 12 hours);
        admin = makeAddr("admin");
        (licensor, licensorKey) = makeAddrAndKey("licensor");
        (licensee, licenseeKey) = makeAddrAndKey("licensee");
        coOwner = makeAddr("coOwner");
        taxAccount = makeAddr("taxAccount");
        arbiter = makeAddr("arbiter");
        relayer = makeAddr("relayer");
        (stranger, strangerKey) = makeAddrAndKey("stranger");
        (oracle1, oracle1Key) = makeAddrAndKey("oracle1");
        (oracle2, oracle2Key) = makeAddrAndKey("oracle2");
        (oracle3, oracle3Key) = makeAddrAndKey("oracle3");
        _sortOracles();

        registry = new LicenceRegistry(admin);
        ledger = deployLedger(registry);
        token = new TestToken("Test US Dollar", "tUSD", 6);
        vm.startPrank(admin);
        registry.setLedger(ledger);
        registry.setTokenAllowed(address(token), true);
        vm.stopPrank();

        vm.prank(licensee);
        token.approve(address(ledger), type(uint256).max);
    }

    /// @notice A ledger for `registry_`, with the settlement and dispute modules it runs.
    function deployLedger(LicenceRegistry registry_) internal returns (RoyaltyLedger) {
        return new RoyaltyLedger(
            registry_,
            admin,
            new SettlementModule(registry_, registry_.clock(), new LicenceFx(registry_)),
            new DisputeModule(registry_, registry_.clock())
        );
    }

    // ------------------------------------------------------------------ terms

    /// @notice The default licence terms; tests change fields of the returned value.
    function defaultTerms() internal view returns (ILicenceRegistry.Terms memory t) {
        t.licensor = licensor;
        t.licensee = licensee;
        t.legalTextHash = keccak256("Patent licence agreement, signed 2023-11-14");
        t.assetIds = new uint256[](2);
        t.assetIds[0] = 10_123_456;
        t.assetIds[1] = 10_654_321;
        t.scope = ILicenceRegistry.Scope({territories: TERRITORIES, fields: FIELDS, channels: CHANNELS});
        t.term = ILicenceRegistry.Term({
            start: START,
            end: END,
            sellOffDays: SELL_OFF_DAYS,
            periodSeconds: PERIOD,
            calendar: ILicenceRegistry.Calendar({
                periodMonths: 0,
                anniversary: false,
                yearMonth: 0,
                yearDay: 0,
                dueDays: DUE_DAYS,
                interestBps: 0,
                reserveBps: 0,
                reservePeriods: 0,
                auditThresholdBps: 0, fxRule: 0, fxSource: bytes16(0)
            })
        });
        t.token = address(token);
        t.schedule.rateBps = RATE_BPS;
        t.payees = new ILicenceRegistry.Payee[](2);
        t.payees[0] = ILicenceRegistry.Payee({account: licensor, shareBps: LICENSOR_SHARE_BPS});
        t.payees[1] = ILicenceRegistry.Payee({account: coOwner, shareBps: CO_OWNER_SHARE_BPS});
        // licensor (0xDbE2...) < coOwner (0xEFf5...): sorting keeps this order, so licensor is payee 0.
        sortPayees(t.payees);
        t.taxBps = TAX_BPS;
        t.taxAccount = taxAccount;
        t.oracles = new address[](3);
        t.oracles[0] = oracle1;
        t.oracles[1] = oracle2;
        t.oracles[2] = oracle3;
        t.threshold = THRESHOLD;
        t.arbiter = arbiter;
        t.curePeriod = CURE_PERIOD;
    }

    function tier(uint128 threshold, uint16 rateBps) internal pure returns (ILicenceRegistry.Tier memory) {
        return ILicenceRegistry.Tier({threshold: threshold, rateBps: rateBps});
    }

    function fieldRate(uint8 field, uint16 rateBps) internal pure returns (ILicenceRegistry.FieldRate memory) {
        return ILicenceRegistry.FieldRate({field: field, rateBps: rateBps});
    }

    /// @notice The account named "payee<i>" (shares[i] of `namedPayees(shares)`).
    function payeeNamed(uint256 i) internal returns (address) {
        return makeAddr(string.concat("payee", vm.toString(i)));
    }

    /// @notice Payees payee0, payee1, ... with shares[0], shares[1], ..., returned in ascending
    /// address order (what the registry requires), so index i of the result is generally NOT
    /// "payee<i>". For reference: payee2 (0x9b01...) < payee1 (0xFc71...) < payee0 (0xFd40...).
    function namedPayees(uint16[] memory shares) internal returns (ILicenceRegistry.Payee[] memory payees) {
        payees = new ILicenceRegistry.Payee[](shares.length);
        for (uint256 i; i < shares.length; ++i) {
            payees[i] = ILicenceRegistry.Payee({account: payeeNamed(i), shareBps: shares[i]});
        }
        sortPayees(payees);
    }

    /// @notice Sorts `payees` by account, ascending, in place (insertion sort), and returns it.
    function sortPayees(ILicenceRegistry.Payee[] memory payees)
        internal
        pure
        returns (ILicenceRegistry.Payee[] memory)
    {
        for (uint256 i = 1; i < payees.length; ++i) {
            ILicenceRegistry.Payee memory p = payees[i];
            uint256 j = i;
            while (j > 0 && payees[j - 1].account > p.account) {
                payees[j] = payees[j - 1];
                --j;
            }
            payees[j] = p;
        }
        return payees;
    }

    function sharesOf(ILicenceRegistry.Payee[] memory payees) internal pure returns (uint16[] memory shares) {
        shares = new uint16[](payees.length);
        for (uint256 i; i < payees.length; ++i) {
            shares[i] = payees[i].shareBps;
        }
    }

    /// @notice Reference model of RoyaltyMath.partOf, written independently: the parts of `total`
    /// for payees with `shares` (in list order). Halve [lo, hi) at mid = (lo + hi) / 2; the first
    /// half gets floor(amount * sharesOfFirstHalf / sharesOfBoth), the second the rest.
    function splitParts(uint256 total, uint16[] memory shares) internal pure returns (uint256[] memory parts) {
        parts = new uint256[](shares.length);
        _splitInto(parts, shares, total, 0, shares.length);
    }

    function _splitInto(uint256[] memory parts, uint16[] memory shares, uint256 amount, uint256 lo, uint256 hi)
        private
        pure
    {
        if (hi - lo == 1) {
            parts[lo] = amount;
            return;
        }
        uint256 mid = (lo + hi) / 2;
        uint256 first;
        uint256 both;
        for (uint256 i = lo; i < hi; ++i) {
            if (i < mid) first += shares[i];
            both += shares[i];
        }
        uint256 firstHalf = amount * first / both;
        _splitInto(parts, shares, firstHalf, lo, mid);
        _splitInto(parts, shares, amount - firstHalf, mid, hi);
    }

    // ------------------------------------------------------------------ signatures

    function sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @notice Both parties' RegisterLicence signatures (made with the default parties' keys).
    function consent(ILicenceRegistry.Terms memory t, uint64 deadline)
        internal
        view
        returns (bytes memory licensorSig, bytes memory licenseeSig)
    {
        bytes32 digest = registry.registerDigest(t, deadline);
        licensorSig = sign(licensorKey, digest);
        licenseeSig = sign(licenseeKey, digest);
    }

    function amendConsent(uint256 licenceId, ILicenceRegistry.Schedule memory schedule, uint64 newEnd, uint64 deadline)
        internal
        view
        returns (bytes memory licensorSig, bytes memory licenseeSig)
    {
        bytes32 digest = registry.amendDigest(licenceId, schedule, newEnd, deadline);
        licensorSig = sign(licensorKey, digest);
        licenseeSig = sign(licenseeKey, digest);
    }

    function terminateConsent(uint256 licenceId, uint64 deadline)
        internal
        view
        returns (bytes memory licensorSig, bytes memory licenseeSig)
    {
        bytes32 digest = registry.terminateDigest(licenceId, deadline);
        licensorSig = sign(licensorKey, digest);
        licenseeSig = sign(licenseeKey, digest);
    }

    function disputeDigest(uint256 settlementId, address party, uint64 deadline) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(ledger.DISPUTE_TYPEHASH(), settlementId, party, deadline));
        return MessageHashUtils.toTypedDataHash(ledger.domainSeparator(), structHash);
    }

    function resolveDigest(uint256 settlementId, uint128 finalAmount, uint64 deadline) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(ledger.RESOLVE_TYPEHASH(), settlementId, finalAmount, deadline));
        return MessageHashUtils.toTypedDataHash(ledger.domainSeparator(), structHash);
    }

    // ------------------------------------------------------------------ licences

    /// @notice Register `t` through the relayer with both parties' signatures; funds the advance.
    function register(ILicenceRegistry.Terms memory t) internal returns (uint256 licenceId) {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        if (t.advance > 0) token.mint(t.licensee, t.advance);
        vm.prank(relayer);
        licenceId = registry.register(t, deadline, licensorSig, licenseeSig);
    }

    /// @notice Publish a long payee list (registration publishes up to EAGER_PUBLISH_MAX_PAYEES
    /// itself) as anyone could: with the list of the terms, which the LicenceOpened event carries.
    function publishPayees(uint256 licenceId, ILicenceRegistry.Payee[] memory payees) internal {
        address[] memory accounts = new address[](payees.length);
        for (uint256 i; i < payees.length; ++i) {
            accounts[i] = payees[i].account;
        }
        vm.prank(stranger);
        ledger.publishPayees(licenceId, accounts, sharesOf(payees));
    }

    /// @notice Register the default terms; the salt keeps repeated registrations distinct.
    /// @notice Registration of `t` reverts with `expected` and registers nothing.
    function expectRegisterRevert(ILicenceRegistry.Terms memory t, bytes memory expected) internal {
        uint256 countBefore = registry.licenceCount();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.expectRevert(expected);
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
        assertEq(registry.licenceCount(), countBefore, "nothing registered");
    }

    /// @notice Registers `t` and deposits `escrow` into it.
    function registerFunded(ILicenceRegistry.Terms memory t, uint256 escrow) internal returns (uint256 licenceId) {
        licenceId = register(t);
        deposit(licenceId, escrow);
    }

    function registerDefault() internal returns (uint256) {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.salt = bytes32(registry.licenceCount());
        return register(t);
    }

    /// @notice Amend through the relayer with both parties' signatures.
    function amend(uint256 licenceId, ILicenceRegistry.Schedule memory schedule, uint64 newEnd) internal {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, schedule, newEnd, deadline);
        vm.prank(relayer);
        registry.amend(licenceId, schedule, newEnd, deadline, licensorSig, licenseeSig);
    }

    function terminateByConsent(uint256 licenceId) internal {
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = terminateConsent(licenceId, deadline);
        vm.prank(relayer);
        registry.terminateByConsent(licenceId, deadline, licensorSig, licenseeSig);
    }

    // ------------------------------------------------------------------ money

    /// @notice The licensee deposits `amount` freshly minted tokens.
    function deposit(uint256 licenceId, uint256 amount) internal {
        token.mint(licensee, amount);
        vm.prank(licensee);
        ledger.deposit(licenceId, amount);
    }

    // ------------------------------------------------------------------ time

    function periodStart(uint32 period) internal pure returns (uint64) {
        return START + uint64(period) * PERIOD;
    }

    function periodEnd(uint32 period) internal pure returns (uint64) {
        return START + uint64(period + 1) * PERIOD;
    }

    /// @notice Move time forward to the end of `period` (never backwards).
    function warpPastPeriod(uint32 period) internal {
        if (block.timestamp < periodEnd(period)) vm.warp(periodEnd(period));
    }

    /// @notice End of contract year `year` of a licence (its anniversary) and the due date of its guarantee.
    function yearEnd(uint256 licenceId, uint32 year) internal view returns (uint64 end, uint64 dueAt) {
        (, end, dueAt,) = registry.contractYearBounds(licenceId, year);
    }

    function one(uint256 value) internal pure returns (uint256[] memory values) {
        values = new uint256[](1);
        values[0] = value;
    }

    function signedOne(uint256 value) internal pure returns (int256[] memory values) {
        values = new int256[](1);
        values[0] = int256(value);
    }

    // ------------------------------------------------------------------ reports

    function bucket(uint8 territory, uint8 field, uint8 channel, uint128 units, uint128 gross, uint128 deductions)
        internal
        pure
        returns (IRoyaltyLedger.Bucket memory)
    {
        return IRoyaltyLedger.Bucket({
            year: AUTO_YEAR,
            territory: territory,
            field: field,
            channel: channel,
            units: units,
            gross: gross,
            deductions: deductions
        });
    }

    /// @notice A bucket of contract year `year`'s sales (territory 0, field 0, channel 0).
    function yearSales(uint16 year, uint128 gross) internal pure returns (IRoyaltyLedger.Bucket memory b) {
        b = bucket(0, 0, 0, 0, gross, 0);
        b.year = year;
    }

    /// @notice One in-scope bucket (territory 0, field 0, channel 0) with `gross` and no deductions.
    function salesOf(uint128 gross) internal pure returns (IRoyaltyLedger.Bucket[] memory buckets) {
        buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(0, 0, 0, 0, gross, 0);
    }

    function makeReport(uint256 licenceId, uint32 period, uint64 sequence, IRoyaltyLedger.Bucket[] memory buckets)
        internal
        view
        returns (IRoyaltyLedger.Report memory r)
    {
        r.licenceId = licenceId;
        r.period = period;
        r.sequence = sequence;
        r.deadline = uint64(block.timestamp + 30 days);
        r.linesRoot = keccak256(abi.encode("lines", licenceId, period, sequence));
        r.lineCount = uint32(buckets.length * 10);
        r.buckets = buckets;
        // Buckets built by `bucket` hold the sales of the contract year the period starts in.
        if (registry.status(licenceId) == ILicenceRegistry.Status.None) return r;
        (uint64 from,,) = registry.periodBounds(licenceId, period);
        uint16 year = uint16(registry.contractYearOf(licenceId, from));
        for (uint256 i; i < buckets.length; ++i) {
            if (buckets[i].year == AUTO_YEAR) r.buckets[i].year = year;
        }
    }

    /// @notice A report with the licence's next sequence number.
    function makeReport(uint256 licenceId, uint32 period, IRoyaltyLedger.Bucket[] memory buckets)
        internal
        view
        returns (IRoyaltyLedger.Report memory)
    {
        return makeReport(licenceId, period, ledger.lastSequence(licenceId) + 1, buckets);
    }

    /// @notice What these buckets price at for period 0: the registry's schedule and scope
    /// through RoyaltyMath, as the ledger prices them.
    function verifyPrice(uint256 licenceId, IRoyaltyLedger.Bucket[] memory buckets, uint256 tierBefore)
        internal
        returns (ILicenceRegistry.Priced memory)
    {
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 0, buckets);
        ILicenceRegistry.SettlementContext memory c = registry.settlementContext(licenceId);
        return new RoyaltyMathHarness().price(registry.scheduleAt(licenceId, c.start), c.scope, r, 0, one(tierBefore));
    }

    /// @notice Signatures of the first `k` oracles in ascending address order.
    function signReport(IRoyaltyLedger.Report memory r, uint256 k) internal view returns (bytes[] memory sigs) {
        bytes32 digest = registry.typedData().reportDigest(r);
        sigs = new bytes[](k);
        for (uint256 i; i < k; ++i) {
            sigs[i] = sign(sortedOracleKeys[i], digest);
        }
    }

    /// @notice Signatures of the first `k` oracles (ascending by address) over any digest: the
    /// evidence of the contracts beside the registry (escalation steps, review triggers).
    function signByOracles(bytes32 digest, uint256 k) internal view returns (bytes[] memory sigs) {
        sigs = new bytes[](k);
        for (uint256 i; i < k; ++i) {
            sigs[i] = sign(sortedOracleKeys[i], digest);
        }
    }

    /// @notice Who a 65-byte (r, s, v) signature over `digest` recovers to (a stranger when the
    /// digest is not the one signed).
    function recoverSigner(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    /// @notice Signatures made with `keys`, in the order given.
    function signReportWith(IRoyaltyLedger.Report memory r, uint256[] memory keys)
        internal
        view
        returns (bytes[] memory sigs)
    {
        bytes32 digest = registry.typedData().reportDigest(r);
        sigs = new bytes[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            sigs[i] = sign(keys[i], digest);
        }
    }

    function asBatch(IRoyaltyLedger.Report memory r) internal pure returns (IRoyaltyLedger.Report[] memory reports) {
        reports = new IRoyaltyLedger.Report[](1);
        reports[0] = r;
    }

    function asBatch(bytes[] memory sigs) internal pure returns (bytes[][] memory sets) {
        sets = new bytes[][](1);
        sets[0] = sigs;
    }

    /// @notice Settle one report signed by the first `THRESHOLD` oracles, through the relayer.
    function settle(IRoyaltyLedger.Report memory r) internal returns (uint256 settlementId) {
        bytes[] memory sigs = signReport(r, registry.settlementContext(r.licenceId).threshold);
        vm.prank(relayer);
        settlementId = ledger.settleReports(asBatch(r), asBatch(sigs))[0];
    }

    /// @notice Warp past `period` and settle a one-bucket report of `gross` net sales for it.
    function settlePeriod(uint256 licenceId, uint32 period, uint128 gross) internal returns (uint256) {
        warpPastPeriod(period);
        return settle(makeReport(licenceId, period, salesOf(gross)));
    }

    /// @notice Reverts with `expected` when settling `r` with the threshold's signatures.
    function expectSettleRevert(IRoyaltyLedger.Report memory r, bytes memory expected) internal {
        bytes[] memory sigs = signReport(r, registry.settlementContext(r.licenceId).threshold);
        IRoyaltyLedger.Report[] memory reports = asBatch(r);
        bytes[][] memory sets = asBatch(sigs);
        vm.expectRevert(expected);
        vm.prank(relayer);
        ledger.settleReports(reports, sets);
    }

    // ------------------------------------------------------------------ assertions

    function assertSettlement(
        uint256 settlementId,
        IRoyaltyLedger.State state,
        uint256 royalty,
        uint256 due,
        uint256 paid,
        uint256 released
    ) internal view {
        IRoyaltyLedger.Settlement memory s = ledger.settlement(settlementId);
        assertEq(uint8(s.state), uint8(state), "state");
        assertEq(s.royalty, royalty, "royalty");
        assertEq(s.due, due, "due");
        assertEq(s.paid, paid, "paid");
        assertEq(s.released, released, "released");
    }

    // ------------------------------------------------------------------ private

    function _sortOracles() private {
        sortedOracles = [oracle1, oracle2, oracle3];
        sortedOracleKeys = [oracle1Key, oracle2Key, oracle3Key];
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (sortedOracles[j] < sortedOracles[i]) {
                    (sortedOracles[i], sortedOracles[j]) = (sortedOracles[j], sortedOracles[i]);
                    (sortedOracleKeys[i], sortedOracleKeys[j]) = (sortedOracleKeys[j], sortedOracleKeys[i]);
                }
            }
        }
    }
}
