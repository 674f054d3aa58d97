// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Base} from "./Base.t.sol";
import {ILicenceFx} from "../../contracts/interfaces/ILicenceFx.sol";
import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {LicenceFx} from "../../contracts/LicenceFx.sol";
import {SettlementModule} from "../../contracts/ledger/SettlementModule.sol";

/// @notice Fixed contractual exchange rates (conversion rule 4, docs/currencies.md): tables both
/// parties sign, versioned by the period they take effect at; the ledger settles a fixed-rate
/// licence's conversions only at the table's rate in force at the period's start.
contract FixedRatesTest is Base {
    bytes16 internal constant CONTRACT = "contract";
    /// @dev The agreed rates: 1 EUR = 1.08 USD, 1 JPY = 0.0065 USD (times 10^18).
    uint128 internal constant EUR_FIXED = 1.08e18;
    uint128 internal constant JPY_FIXED = 0.0065e18;

    LicenceFx internal fx;

    function setUp() public override {
        super.setUp();
        fx = LicenceFx(address(SettlementModule(ledger.settlementModule()).fx()));
    }

    function fixedTerms() internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.calendar.fxRule = 4;
        t.term.calendar.fxSource = CONTRACT;
    }

    function rate(bytes3 currency, uint128 value) internal pure returns (ILicenceFx.FixedRate memory) {
        return ILicenceFx.FixedRate({currency: currency, rate: value});
    }

    /// @dev EUR 1.08 and JPY 0.0065, ascending by code.
    function eurJpy() internal pure returns (ILicenceFx.FixedRate[] memory rates) {
        rates = new ILicenceFx.FixedRate[](2);
        rates[0] = rate("EUR", EUR_FIXED);
        rates[1] = rate("JPY", JPY_FIXED);
    }

    function one(bytes3 currency, uint128 value) internal pure returns (ILicenceFx.FixedRate[] memory rates) {
        rates = new ILicenceFx.FixedRate[](1);
        rates[0] = rate(currency, value);
    }

    /// @dev The digest written out apart from the contract: EIP-712 with the array of structs
    /// hashed as the concatenation of its elements' struct hashes.
    function modelDigest(uint256 licenceId, uint32 version, uint64 effectiveFrom, ILicenceFx.FixedRate[] memory rates, uint64 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 rateType = keccak256("FixedRate(bytes3 currency,uint128 rate)");
        bytes memory packed;
        for (uint256 i; i < rates.length; ++i) {
            packed = bytes.concat(packed, keccak256(abi.encode(rateType, rates[i].currency, rates[i].rate)));
        }
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "AgreeFixedRates(uint256 licenceId,uint32 version,uint64 effectiveFrom,FixedRate[] rates,uint64 deadline)"
                    "FixedRate(bytes3 currency,uint128 rate)"
                ),
                licenceId,
                version,
                effectiveFrom,
                keccak256(packed),
                deadline
            )
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("LicenceFx"),
                keccak256("1"),
                block.chainid,
                address(fx)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function agree(uint256 licenceId, uint64 effectiveFrom, ILicenceFx.FixedRate[] memory rates) internal returns (uint32) {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = modelDigest(licenceId, fx.tableCount(licenceId), effectiveFrom, rates, deadline);
        vm.prank(relayer);
        return fx.agree(licenceId, effectiveFrom, rates, deadline, sign(licensorKey, digest), sign(licenseeKey, digest));
    }

    function expectAgreeRevert(uint256 licenceId, uint64 effectiveFrom, ILicenceFx.FixedRate[] memory rates, bytes memory expected)
        internal
    {
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = modelDigest(licenceId, fx.tableCount(licenceId), effectiveFrom, rates, deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory licenseeSig = sign(licenseeKey, digest);
        vm.prank(relayer);
        vm.expectRevert(expected);
        fx.agree(licenceId, effectiveFrom, rates, deadline, licensorSig, licenseeSig);
    }

    /// @dev Period `period`'s report of one bucket holding 200.00 USD of its own and 1,000.00 EUR
    /// (50.00 EUR deductions) at `eurRate`:
    /// at 1.08, 100,000 cents x 1.08 x 10^6 / 10^2 = 1,080,000,000 units; 5,000 cents -> 54,000,000.
    function eurReport(uint256 licenceId, uint32 period, uint128 eurRate) internal view returns (IRoyaltyLedger.Report memory r) {
        uint128 converted = uint128(uint256(100_000) * eurRate * 1e6 / 1e20);
        uint128 deducted = uint128(uint256(5_000) * eurRate * 1e6 / 1e20);
        IRoyaltyLedger.Bucket[] memory buckets = new IRoyaltyLedger.Bucket[](1);
        buckets[0] = bucket(2, 0, 0, 10, 200 * USD + converted, deducted);
        r = makeReport(licenceId, period, buckets);
        r.fx = new IRoyaltyLedger.Conversion[](1);
        r.fx[0] = IRoyaltyLedger.Conversion({
            bucket: 0,
            currency: "EUR",
            minorUnits: 2,
            rateDay: periodStart(period),
            rate: eurRate,
            gross: 100_000,
            deductions: 5_000
        });
    }

    // ------------------------------------------------------------------ agreeing a table

    function test_agree_FirstTableFromTheStart() public {
        uint256 id = register(fixedTerms());
        assertEq(fx.tableCount(id), 0);
        vm.expectEmit(true, true, false, true, address(fx));
        emit ILicenceFx.FixedRatesAgreed(id, 0, START, eurJpy());
        assertEq(agree(id, START, eurJpy()), 0);
        assertEq(fx.tableCount(id), 1);
        (uint64 from, ILicenceFx.FixedRate[] memory rates) = fx.table(id, 0);
        assertEq(from, START);
        assertEq(rates.length, 2);
        assertEq(rates[0].currency, bytes3("EUR"));
        assertEq(rates[0].rate, EUR_FIXED);
        assertEq(rates[1].currency, bytes3("JPY"));
        assertEq(rates[1].rate, JPY_FIXED);
        (uint128 eur, uint32 version) = fx.rateOf(id, "EUR", periodStart(3));
        assertEq(eur, EUR_FIXED);
        assertEq(version, 0);
        (uint128 gbp,) = fx.rateOf(id, "GBP", periodStart(3));
        assertEq(gbp, 0, "a currency the table does not list has no rate");
    }

    function test_agreeDigest_MatchesModel() public {
        uint256 id = register(fixedTerms());
        assertEq(fx.agreeDigest(id, 0, START, eurJpy(), 123), modelDigest(id, 0, START, eurJpy(), 123));
        assertTrue(fx.agreeDigest(id, 1, START, eurJpy(), 123) != fx.agreeDigest(id, 0, START, eurJpy(), 123));
    }

    function test_agree_RejectsTablesThatAreNotTables() public {
        uint256 id = register(fixedTerms());
        expectAgreeRevert(id, START, new ILicenceFx.FixedRate[](0), abi.encodeWithSelector(ILicenceFx.FixedRatesEmpty.selector));
        ILicenceFx.FixedRate[] memory many = new ILicenceFx.FixedRate[](33);
        expectAgreeRevert(id, START, many, abi.encodeWithSelector(ILicenceFx.TooManyFixedRates.selector, 33, 32));
        expectAgreeRevert(
            id, START, one("eur", EUR_FIXED), abi.encodeWithSelector(ILicenceFx.FixedRateCurrencyInvalid.selector, 0, bytes3("eur"))
        );
        ILicenceFx.FixedRate[] memory twice = eurJpy();
        twice[1].currency = "EUR";
        expectAgreeRevert(id, START, twice, abi.encodeWithSelector(ILicenceFx.FixedRatesNotOrdered.selector, 1, bytes3("EUR")));
        ILicenceFx.FixedRate[] memory descending = eurJpy();
        (descending[0], descending[1]) = (descending[1], descending[0]);
        expectAgreeRevert(
            id, START, descending, abi.encodeWithSelector(ILicenceFx.FixedRatesNotOrdered.selector, 1, bytes3("EUR"))
        );
        expectAgreeRevert(
            id, START, one("EUR", 0), abi.encodeWithSelector(ILicenceFx.FixedRateOutOfBounds.selector, 0, 0, 1e9, 1e27)
        );
        expectAgreeRevert(
            id,
            START,
            one("EUR", 1e27 + 1),
            abi.encodeWithSelector(ILicenceFx.FixedRateOutOfBounds.selector, 0, 1e27 + 1, 1e9, 1e27)
        );
        assertEq(fx.tableCount(id), 0, "nothing recorded");
    }

    function test_agree_OnlyForAFixedRateLicenceThatIsActive() public {
        ILicenceRegistry.Terms memory ecb = defaultTerms();
        ecb.term.calendar.fxRule = 1;
        ecb.term.calendar.fxSource = "ECB";
        uint256 averaged = register(ecb);
        expectAgreeRevert(
            averaged, START, eurJpy(), abi.encodeWithSelector(ILicenceFx.NotFixedRateLicence.selector, averaged, uint8(1))
        );
        uint256 id = register(fixedTerms());
        terminateByConsent(id);
        expectAgreeRevert(id, START, eurJpy(), abi.encodeWithSelector(ILicenceFx.LicenceNotActive.selector, id));
    }

    function test_agree_NeedsBothPartiesForThisVersion() public {
        uint256 id = register(fixedTerms());
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = modelDigest(id, 0, START, eurJpy(), deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ILicenceFx.ConsentMissing.selector, licensee));
        fx.agree(id, START, eurJpy(), deadline, licensorSig, sign(strangerKey, digest));
        // Other rates than the ones signed: neither party consented to them.
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ILicenceFx.ConsentMissing.selector, licensor));
        fx.agree(id, START, one("EUR", EUR_FIXED + 1), deadline, licensorSig, sign(licenseeKey, digest));
        // Expired.
        vm.warp(deadline + 1);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ILicenceFx.ConsentExpired.selector, deadline, deadline + 1));
        fx.agree(id, START, eurJpy(), deadline, licensorSig, sign(licenseeKey, digest));
    }

    /// @dev The licensee sending the table itself needs no signature of its own.
    function test_agree_APartyCallingItselfNeedsNoSignature() public {
        uint256 id = register(fixedTerms());
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes memory licensorSig = sign(licensorKey, modelDigest(id, 0, START, eurJpy(), deadline));
        vm.prank(licensee);
        fx.agree(id, START, eurJpy(), deadline, licensorSig, "");
        assertEq(fx.tableCount(id), 1);
    }

    /// @dev Signatures on table 0 do not agree table 1: the version is in the digest.
    function test_agree_SignedTableUsableOnce() public {
        uint256 id = register(fixedTerms());
        uint64 deadline = uint64(block.timestamp + 30 days);
        bytes32 digest = modelDigest(id, 0, START, eurJpy(), deadline);
        bytes memory licensorSig = sign(licensorKey, digest);
        bytes memory licenseeSig = sign(licenseeKey, digest);
        vm.prank(relayer);
        fx.agree(id, START, eurJpy(), deadline, licensorSig, licenseeSig);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ILicenceFx.ConsentMissing.selector, licensor));
        fx.agree(id, START, eurJpy(), deadline, licensorSig, licenseeSig);
        assertEq(fx.tableCount(id), 1);
    }

    function test_agree_WhenEachTableTakesEffect() public {
        uint256 id = register(fixedTerms());
        expectAgreeRevert(
            id, periodStart(1), eurJpy(), abi.encodeWithSelector(ILicenceFx.FixedRatesEffectiveInvalid.selector, periodStart(1), START)
        );
        agree(id, START, eurJpy());
        assertEq(agree(id, periodStart(2), one("EUR", 1.1e18)), 1);
        expectAgreeRevert(
            id,
            periodStart(1),
            one("EUR", 1.2e18),
            abi.encodeWithSelector(ILicenceFx.FixedRatesEffectiveInvalid.selector, periodStart(1), periodStart(2))
        );
        expectAgreeRevert(
            id,
            periodStart(3) + 1,
            one("EUR", 1.2e18),
            abi.encodeWithSelector(ILicenceFx.FixedRatesNotAtPeriodStart.selector, periodStart(3) + 1, periodStart(3))
        );
        expectAgreeRevert(id, END, one("EUR", 1.2e18), abi.encodeWithSelector(ILicenceFx.FixedRatesAfterTerm.selector, END, END));
        (uint128 r1, uint32 v1) = fx.rateOf(id, "EUR", periodStart(1));
        (uint128 r2, uint32 v2) = fx.rateOf(id, "EUR", periodStart(2));
        (uint128 jpy2,) = fx.rateOf(id, "JPY", periodStart(2));
        assertEq(r1, EUR_FIXED);
        assertEq(v1, 0);
        assertEq(r2, 1.1e18);
        assertEq(v2, 1);
        assertEq(jpy2, 0, "table 1 lists EUR only");
        // A table from the same start replaces the one before it there.
        assertEq(agree(id, periodStart(2), eurJpy()), 2);
        (uint128 r3, uint32 v3) = fx.rateOf(id, "JPY", periodStart(2));
        assertEq(r3, JPY_FIXED);
        assertEq(v3, 2);
    }

    /// @dev Rates of periods not settled yet can be corrected, even once they have begun or
    /// ended; a settled period's royalty never is repriced.
    function test_agree_NeverRepricesASettledPeriod() public {
        uint256 id = registerFunded(fixedTerms(), 1_000 * USD);
        agree(id, START, one("JPY", JPY_FIXED)); // EUR left out by mistake
        warpPastPeriod(1);
        expectSettleRevert(
            eurReport(id, 0, EUR_FIXED),
            abi.encodeWithSelector(IRoyaltyLedger.FixedRateMismatch.selector, 0, bytes3("EUR"), EUR_FIXED, uint128(0))
        );
        // Periods 0 and 1 have ended unsettled: a table from the start corrects them.
        assertEq(agree(id, START, eurJpy()), 1);
        settle(eurReport(id, 0, EUR_FIXED));
        // Period 0 is settled now: no table from its start (or before it) any more.
        expectAgreeRevert(
            id, START, one("EUR", 1.2e18), abi.encodeWithSelector(ILicenceFx.FixedRatesRepriceSettled.selector, START, uint32(0))
        );
        // From period 1 on nothing is settled: allowed, and period 0 keeps its rate.
        assertEq(agree(id, periodStart(1), one("EUR", 1.2e18)), 2);
        (uint128 r0,) = fx.rateOf(id, "EUR", periodStart(0));
        assertEq(r0, EUR_FIXED);
        settle(eurReport(id, 1, 1.2e18));
    }

    // ------------------------------------------------------------------ settling at the table's rates

    function test_settle_AtTheAgreedRate() public {
        uint256 id = registerFunded(fixedTerms(), 1_000 * USD);
        agree(id, START, eurJpy());
        warpPastPeriod(0);
        IRoyaltyLedger.Report memory r = eurReport(id, 0, EUR_FIXED);
        vm.expectEmit(true, false, false, true, address(ledger));
        emit IRoyaltyLedger.CurrencyConverted(1, 0, "EUR", 2, START, EUR_FIXED, 100_000, 5_000, 1_080_000_000, 54_000_000);
        uint256 sid = settle(r);
        // Net (200,000,000 + 1,080,000,000) - 54,000,000 = 1,226,000,000 units at 5% = 61,300,000 (61.30 USD).
        assertEq(ledger.settlement(sid).royalty, 61_300_000);
    }

    function test_settle_RefusesAnyOtherRate() public {
        uint256 id = registerFunded(fixedTerms(), 1_000 * USD);
        agree(id, START, eurJpy());
        warpPastPeriod(0);
        expectSettleRevert(
            eurReport(id, 0, 1.0856e18),
            abi.encodeWithSelector(IRoyaltyLedger.FixedRateMismatch.selector, 0, bytes3("EUR"), uint128(1.0856e18), EUR_FIXED)
        );
    }

    function test_settle_RefusesConversionWithoutAgreedRate() public {
        uint256 id = registerFunded(fixedTerms(), 1_000 * USD);
        warpPastPeriod(0);
        expectSettleRevert(
            eurReport(id, 0, EUR_FIXED),
            abi.encodeWithSelector(IRoyaltyLedger.FixedRateMismatch.selector, 0, bytes3("EUR"), EUR_FIXED, uint128(0))
        );
        agree(id, START, one("JPY", JPY_FIXED));
        expectSettleRevert(
            eurReport(id, 0, EUR_FIXED),
            abi.encodeWithSelector(IRoyaltyLedger.FixedRateMismatch.selector, 0, bytes3("EUR"), EUR_FIXED, uint128(0))
        );
    }

    /// @dev A period is converted by the table in force at its start: a revision agreed during
    /// period 1 from period 2 leaves period 1 at the first table's rate.
    function test_settle_EachPeriodByTheTableInForceAtItsStart() public {
        uint256 id = registerFunded(fixedTerms(), 1_000 * USD);
        agree(id, START, eurJpy());
        vm.warp(periodStart(1) + 1 days);
        agree(id, periodStart(2), one("EUR", 1.1e18));
        warpPastPeriod(2);
        settle(eurReport(id, 0, EUR_FIXED));
        expectSettleRevert(
            eurReport(id, 1, 1.1e18),
            abi.encodeWithSelector(IRoyaltyLedger.FixedRateMismatch.selector, 0, bytes3("EUR"), uint128(1.1e18), EUR_FIXED)
        );
        settle(eurReport(id, 1, EUR_FIXED));
        // 100,000 cents x 1.1 = 1,100,000,000 units; 5,000 -> 55,000,000; net 1,245,000,000 at 5%.
        uint256 sid = settle(eurReport(id, 2, 1.1e18));
        assertEq(ledger.settlement(sid).royalty, 62_250_000);
    }

    /// @dev Any rate but the agreed one is refused, whatever it is; the agreed one converts as the model says.
    function testFuzz_settle_OnlyTheAgreedRate(uint128 agreed, uint128 used) public {
        agreed = uint128(bound(agreed, 0.5e18, 2e18));
        used = uint128(bound(used, 0.5e18, 2e18));
        uint256 id = registerFunded(fixedTerms(), 1_000 * USD);
        agree(id, START, one("EUR", agreed));
        warpPastPeriod(0);
        if (used != agreed) {
            expectSettleRevert(
                eurReport(id, 0, used),
                abi.encodeWithSelector(IRoyaltyLedger.FixedRateMismatch.selector, 0, bytes3("EUR"), used, agreed)
            );
            return;
        }
        uint256 sid = settle(eurReport(id, 0, used));
        // Model: floor(100,000 x rate / 10^14) and floor(5,000 x rate / 10^14) units; 5% of the net, down.
        uint256 net = 200 * uint256(USD) + uint256(100_000) * agreed / 1e14 - uint256(5_000) * agreed / 1e14;
        assertEq(ledger.settlement(sid).royalty, net * 500 / 10_000);
    }
}
