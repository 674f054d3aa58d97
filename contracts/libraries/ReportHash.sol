// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRoyaltyLedger} from "../interfaces/IRoyaltyLedger.sol";

/// @title ReportHash: the EIP-712 struct hash of a signed sales report
/// @notice One definition for the registry's `reportDigest` (what clients and oracles check) and
/// the ledger's settlement (which recovers the oracles' signatures itself, in the registry's
/// domain, so a report is not copied into a call to be checked).
library ReportHash {
    bytes32 internal constant BUCKET_TYPEHASH = keccak256(
        "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)"
    );
    bytes32 internal constant REPORT_TYPEHASH = keccak256(
        "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,uint32 lineCount,Bucket[] buckets,Bucket[] returned,uint256 corrects,bool audit,uint128 auditCost)"
        "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)"
    );

    function structHash(IRoyaltyLedger.Report calldata report) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REPORT_TYPEHASH,
                report.licenceId,
                report.period,
                report.sequence,
                report.deadline,
                report.linesRoot,
                report.lineCount,
                hashBuckets(report.buckets),
                hashBuckets(report.returned),
                report.corrects,
                report.audit,
                report.auditCost
            )
        );
    }

    /// @dev EIP-712 hash of a Bucket[]: keccak256 of the concatenated struct hashes.
    function hashBuckets(IRoyaltyLedger.Bucket[] calldata buckets) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](buckets.length);
        for (uint256 i; i < buckets.length; ++i) {
            IRoyaltyLedger.Bucket calldata b = buckets[i];
            hashes[i] = keccak256(
                abi.encode(BUCKET_TYPEHASH, b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions)
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
