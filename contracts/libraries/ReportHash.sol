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
    bytes32 internal constant CONVERSION_TYPEHASH = keccak256(
        "Conversion(uint16 bucket,bytes3 currency,uint8 minorUnits,uint64 rateDay,uint128 rate,uint128 gross,uint128 deductions)"
    );
    bytes32 internal constant REPORT_TYPEHASH = keccak256(
        "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,uint32 lineCount,Bucket[] buckets,Bucket[] returned,uint256 corrects,bool audit,uint128 auditCost,Conversion[] fx)"
        "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)"
        "Conversion(uint16 bucket,bytes3 currency,uint8 minorUnits,uint64 rateDay,uint128 rate,uint128 gross,uint128 deductions)"
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
                report.auditCost,
                hashConversions(report.fx)
            )
        );
    }

    /// @dev EIP-712 hash of a Bucket[]: keccak256 of the concatenated struct hashes.
    function hashBuckets(IRoyaltyLedger.Bucket[] calldata buckets) internal pure returns (bytes32 result) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := buckets.offset
        }
        return hashSevenWordStructs(BUCKET_TYPEHASH, offset, buckets.length);
    }

    /// @dev EIP-712 hash of a Conversion[], the same way.
    function hashConversions(IRoyaltyLedger.Conversion[] calldata fx) internal pure returns (bytes32 result) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := fx.offset
        }
        return hashSevenWordStructs(CONVERSION_TYPEHASH, offset, fx.length);
    }

    /// @dev Bucket and Conversion are seven static members each: ABI-encoded in calldata they
    /// are the seven words EIP-712's encodeData gives (uints left-padded, bytes3 right-padded), so
    /// each struct hash is keccak256(typehash ++ its words), built in memory past the free
    /// pointer. The words are hashed as sent: settlement reads every member through Solidity's
    /// checked accessors (pricing, scope, conversion), which revert on a dirty word.
    function hashSevenWordStructs(bytes32 typehash, uint256 offset, uint256 length)
        internal
        pure
        returns (bytes32 result)
    {
        assembly ("memory-safe") {
            let out := mload(0x40)
            let scratch := add(out, shl(5, length))
            mstore(scratch, typehash)
            for { let i := 0 } lt(i, length) { i := add(i, 1) } {
                calldatacopy(add(scratch, 0x20), add(offset, mul(i, 0xe0)), 0xe0)
                mstore(add(out, shl(5, i)), keccak256(scratch, 0x100))
            }
            result := keccak256(out, shl(5, length))
        }
    }
}
