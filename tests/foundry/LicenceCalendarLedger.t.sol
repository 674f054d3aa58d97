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
