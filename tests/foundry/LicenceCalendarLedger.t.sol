// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ILicenceRegistry} from "../../contracts/interfaces/ILicenceRegistry.sol";
import {IRoyaltyLedger} from "../../contracts/interfaces/IRoyaltyLedger.sol";
import {Base} from "./Base.t.sol";

/// @notice The ledger and the registry under the calendar rules: calendar-quarter periods and
/// calendar contract years, sales priced in the contract year of their date, nil reports, due
/// dates and late-payment interest, and the registration checks of the date rule.
/// @dev Dates are written out with their unix times; a day is 86,400 s.
contract LicenceCalendarLedgerTest is Base {
    uint64 internal constant DAY = 1 days;
    /// @dev 9000-01-01 00:00 UTC, the registry's MAX_TIMESTAMP.
    uint64 internal constant YEAR_9000 = 221_845_392_000;

    // ------------------------------------------------------------------ signed bucket years

    /// @notice The oracles sign each bucket's contract year: a relayer that moves sales to another
    /// year of the period (another tier position, another guarantee year) breaks the signatures.
    /// Regression: the digest left `year` out although BUCKET_TYPEHASH names it, so a report's
    /// years could be changed after signing, and the digest was not the EIP-712 hash of the type
    /// the oracles are told to sign.
    function test_reportDigest_SignsBucketYear() public {
        uint256 licenceId = registerDefault();
        warpPastPeriod(4);
        IRoyaltyLedger.Report memory r = makeReport(licenceId, 4, salesOf(100_000 * USD));
        assertEq(r.buckets[0].year, 0);
        assertEq(registry.reportDigest(r), _eip712ReportDigest(r), "EIP-712 hash of SalesReport");

        bytes[] memory sigs = signReport(r, THRESHOLD);
        // Period 4 is days 360..450: it crosses year 0's end on day 366, so year 1 is a valid
        // bucket year of it, and the tampered report would otherwise settle.
        r.buckets[0].year = 1;
        bytes32 tampered = registry.reportDigest(r);
        assertTrue(tampered != _eip712ReportDigest(_withYear(r, 0)), "the year is in the digest");
        assertEq(tampered, _eip712ReportDigest(r));
        (uint8 v, bytes32 rr, bytes32 s) = _split(sigs[0]);
        address recovered = ecrecover(tampered, v, rr, s);
        vm.expectRevert(abi.encodeWithSelector(IRoyaltyLedger.UnknownSigner.selector, 0, recovered));
        vm.prank(relayer);
        ledger.settleReports(asBatch(r), asBatch(sigs));
    }

    // ------------------------------------------------------------------ registration of the date rule

    /// @dev Registration of `t` reverts with `expected` and registers nothing.
    function _expectRegisterRevert(ILicenceRegistry.Terms memory t, bytes memory expected) internal {
        uint256 countBefore = registry.licenceCount();
        uint64 deadline = uint64(block.timestamp + 1 days);
        (bytes memory licensorSig, bytes memory licenseeSig) = consent(t, deadline);
        vm.expectRevert(expected);
        vm.prank(relayer);
        registry.register(t, deadline, licensorSig, licenseeSig);
        assertEq(registry.licenceCount(), countBefore, "nothing registered");
    }

    /// @dev Default terms with calendar periods of `months` months and no periodSeconds.
    function _monthTerms(uint8 months, bool anniversary) internal view returns (ILicenceRegistry.Terms memory t) {
        t = defaultTerms();
        t.term.periodSeconds = 0;
        t.term.calendar.periodMonths = months;
        t.term.calendar.anniversary = anniversary;
    }

    function test_register_RevertWhen_PeriodSecondsWithMonths() public {
        ILicenceRegistry.Terms memory t = _monthTerms(3, false);
        t.term.periodSeconds = PERIOD;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.PeriodSecondsWithMonths.selector, PERIOD));
    }

    function test_register_RevertWhen_PeriodMonthsInvalid() public {
        // Calendar periods must tile the year: 5 does not divide 12.
        _expectRegisterRevert(
            _monthTerms(5, false), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 5, false)
        );
        _expectRegisterRevert(
            _monthTerms(7, false), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 7, false)
        );
        _expectRegisterRevert(
            _monthTerms(24, false), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 24, false)
        );
        // Anniversary periods: any 1..60 months.
        _expectRegisterRevert(
            _monthTerms(61, true), abi.encodeWithSelector(ILicenceRegistry.PeriodMonthsInvalid.selector, 61, true)
        );
        // 0 months is the fixed-seconds rule whatever `anniversary` says: it needs periodSeconds.
        ILicenceRegistry.Terms memory t = _monthTerms(0, true);
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.PeriodLengthZero.selector));

        // What is allowed registers.
        uint256 id = register(_monthTerms(5, true));
        (uint64 from, uint64 to,) = registry.periodBounds(id, 0);
        assertEq(from, START);
        assertEq(to, 1_713_139_200, "2024-04-15: 5 months after 2023-11-15");
        t = _monthTerms(60, true);
        t.salt = "60";
        id = register(t);
        (, to,) = registry.periodBounds(id, 0);
        assertEq(to, 1_857_859_200, "2028-11-15: 60 months after 2023-11-15");
        t = _monthTerms(0, true);
        t.term.periodSeconds = PERIOD;
        t.salt = "fixed";
        id = register(t);
        (from, to,) = registry.periodBounds(id, 1);
        assertEq(from, START + PERIOD, "0 months: fixed periods, anniversary ignored");
        assertEq(to, START + 2 * PERIOD);
        for (uint8 m = 1; m <= 12; ++m) {
            if (12 % m != 0) continue;
            t = _monthTerms(m, false);
            t.salt = bytes32(uint256(m));
            register(t);
        }
        assertEq(registry.licenceCount(), 3 + 6, "1, 2, 3, 4, 6 and 12 calendar months");
    }

    function test_register_RevertWhen_StartNotMidnight() public {
        ILicenceRegistry.Terms memory t = _monthTerms(3, false);
        t.term.start = START + 1;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.StartNotMidnight.selector, START + 1));
        t.term.start = START + 12 hours;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.StartNotMidnight.selector, START + 12 hours));
        // Fixed-seconds periods may start at any second.
        t = defaultTerms();
        t.term.start = START + 1;
        assertEq(register(t), 1);
    }

    function test_register_RevertWhen_InvalidYearStart() public {
        uint8[2][7] memory invalid = [[2, 30], [2, 31], [4, 31], [13, 1], [0, 5], [5, 0], [6, 31]];
        for (uint256 i; i < invalid.length; ++i) {
            ILicenceRegistry.Terms memory t = defaultTerms();
            t.term.calendar.yearMonth = invalid[i][0];
            t.term.calendar.yearDay = invalid[i][1];
            _expectRegisterRevert(
                t, abi.encodeWithSelector(ILicenceRegistry.InvalidYearStart.selector, invalid[i][0], invalid[i][1])
            );
        }
    }

    /// @notice 29 February is a valid year start: in common years the year begins on 28 February.
    function test_register_YearStartOn29February() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.yearMonth = 2;
        t.term.calendar.yearDay = 29;
        uint256 id = register(t);
        // Year 0: the grid year 2023-02-28..2024-02-29 (366 days), cut at START 2023-11-15.
        (uint64 from, uint64 to, uint64 dueAt, uint64 fullLength) = registry.contractYearBounds(id, 0);
        assertEq(from, START);
        assertEq(to, 1_709_164_800, "2024-02-29");
        assertEq(dueAt, 1_709_164_800 + 30 days);
        assertEq(fullLength, 366 days, "2023-02-28..2024-02-29");
        // Year 1: 2024-02-29..2025-02-28, 365 days.
        (from, to,, fullLength) = registry.contractYearBounds(id, 1);
        assertEq(from, 1_709_164_800);
        assertEq(to, 1_740_700_800, "2025-02-28");
        assertEq(fullLength, 365 days);
        // Year 2: 2025-02-28..2026-02-28.
        (from, to,,) = registry.contractYearBounds(id, 2);
        assertEq(from, 1_740_700_800);
        assertEq(to, 1_772_236_800, "2026-02-28");
        assertEq(registry.contractYearOf(id, 1_709_164_800 - 1), 0);
        assertEq(registry.contractYearOf(id, 1_709_164_800), 1);
        assertEq(registry.contractYearOf(id, 1_740_700_800 - 1), 1);
        assertEq(registry.contractYearOf(id, 1_740_700_800), 2);
    }

    function test_register_RevertWhen_DueDaysOutOfRange() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.dueDays = 0;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DueDaysOutOfRange.selector, 0));
        t.term.calendar.dueDays = 366;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.DueDaysOutOfRange.selector, 366));
        t.term.calendar.dueDays = 365;
        uint256 id = register(t);
        (, uint64 to, uint64 dueAt) = registry.periodBounds(id, 0);
        assertEq(dueAt, to + 365 days);
        t.term.calendar.dueDays = 1;
        t.salt = "1 day";
        id = register(t);
        (, to, dueAt) = registry.periodBounds(id, 0);
        assertEq(dueAt, to + 1 days);
    }

    function test_register_RevertWhen_InterestRateTooHigh() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.calendar.interestBps = 10_001;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.InterestRateTooHigh.selector, 10_001));
        t.term.calendar.interestBps = 10_000;
        assertEq(register(t), 1);
    }

    function test_register_RevertWhen_TermEndTooLate() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        t.term.end = YEAR_9000 + 1;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        t.term.end = type(uint64).max;
        _expectRegisterRevert(t, abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, type(uint64).max));
    }

    /// @notice The sell-off ends by 9000-01-01 too. Regression: only the term's end was bounded, so
    /// a sell-off of up to 2**32 days (11.7 million years) carried periods, contract years and due
    /// dates far beyond the calendar library's range (9999), and beyond the uint16 year and uint40
    /// due date a settlement stores.
    function test_register_RevertWhen_SellOffEndsAfterYear9000() public {
        ILicenceRegistry.Terms memory t = defaultTerms();
        // END is 2026-11-14 (START + 1,095 days); 9000-01-01 is 2,567,655 days after 1970-01-01.
        uint64 daysLeft = (YEAR_9000 - END) / 1 days;
        assertEq(daysLeft, 2_567_655 - (START / 1 days) - 1_095);
        t.term.sellOffDays = uint32(daysLeft + 1);
        _expectRegisterRevert(
            t, abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1 days)
        );
        t.term.sellOffDays = type(uint32).max;
        _expectRegisterRevert(
            t,
            abi.encodeWithSelector(
                ILicenceRegistry.TermEndTooLate.selector, END + uint64(type(uint32).max) * 1 days
            )
        );
        t.term.sellOffDays = uint32(daysLeft);
        uint256 id = register(t);
        assertEq(registry.settlementContext(id).sellOffEnd, YEAR_9000);
    }

    /// @notice A renewal is bounded like the original term. Regression: `amend` set any new end,
    /// so a renewal could carry the term (and its periods and years) past 9000-01-01.
    function test_amend_RevertWhen_NewEndTooLate() public {
        uint256 licenceId = registerDefault();
        ILicenceRegistry.Schedule memory s;
        s.effectiveFrom = uint64(block.timestamp + 1 days);
        s.rateBps = 600;
        uint64 deadline = uint64(block.timestamp + 1 days);
        // The sell-off of 180 days must end by 9000-01-01 as well.
        uint64 newEnd = YEAR_9000 - 180 days + 1;
        (bytes memory licensorSig, bytes memory licenseeSig) = amendConsent(licenceId, s, newEnd, deadline);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        vm.prank(relayer);
        registry.amend(licenceId, s, newEnd, deadline, licensorSig, licenseeSig);
        newEnd = YEAR_9000 + 1;
        (licensorSig, licenseeSig) = amendConsent(licenceId, s, newEnd, deadline);
        vm.expectRevert(abi.encodeWithSelector(ILicenceRegistry.TermEndTooLate.selector, YEAR_9000 + 1));
        vm.prank(relayer);
        registry.amend(licenceId, s, newEnd, deadline, licensorSig, licenseeSig);
        assertEq(registry.scheduleCount(licenceId), 1, "not amended");
        assertEq(registry.settlementContext(licenceId).effectiveEnd, END);

        amend(licenceId, s, YEAR_9000 - 180 days);
        assertEq(registry.settlementContext(licenceId).sellOffEnd, YEAR_9000);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev EIP-712 hash of a SalesReport, written from the type strings, not from the registry.
    function _eip712ReportDigest(IRoyaltyLedger.Report memory r) internal view returns (bytes32) {
        bytes memory bucketType =
            "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)";
        bytes32 reportTypeHash = keccak256(
            bytes.concat(
                "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,uint32 lineCount,Bucket[] buckets)",
                bucketType
            )
        );
        bytes32[] memory hashes = new bytes32[](r.buckets.length);
        for (uint256 i; i < r.buckets.length; ++i) {
            IRoyaltyLedger.Bucket memory b = r.buckets[i];
            hashes[i] = keccak256(
                abi.encode(keccak256(bucketType), b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions)
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(
                reportTypeHash,
                r.licenceId,
                r.period,
                r.sequence,
                r.deadline,
                r.linesRoot,
                r.lineCount,
                keccak256(abi.encodePacked(hashes))
            )
        );
        return MessageHashUtils.toTypedDataHash(registry.domainSeparator(), structHash);
    }

    function _withYear(IRoyaltyLedger.Report memory r, uint16 year) internal pure returns (IRoyaltyLedger.Report memory c) {
        c = IRoyaltyLedger.Report({
            licenceId: r.licenceId,
            period: r.period,
            sequence: r.sequence,
            deadline: r.deadline,
            linesRoot: r.linesRoot,
            lineCount: r.lineCount,
            buckets: new IRoyaltyLedger.Bucket[](0)
        });
        c.buckets = new IRoyaltyLedger.Bucket[](r.buckets.length);
        for (uint256 i; i < r.buckets.length; ++i) {
            IRoyaltyLedger.Bucket memory b = r.buckets[i];
            c.buckets[i] = IRoyaltyLedger.Bucket({
                year: year, territory: b.territory, field: b.field, channel: b.channel, units: b.units, gross: b.gross,
                deductions: b.deductions
            });
        }
    }

    function _split(bytes memory sig) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
    }
}
