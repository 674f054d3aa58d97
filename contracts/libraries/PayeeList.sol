// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PayeeList: a licence's payees as one packed blob, published as contract code
/// @notice Layout of the blob (and of the code of the contract that holds it, SSTORE2-style):
/// byte 0 is 0x00 (STOP, so calling the holder does nothing), bytes 1..20 the payment token,
/// then one 22-byte entry per payee in ascending address order: the address (20 bytes) and the
/// running sum of the shares up to and including that payee (uint16, big-endian; the last is
/// 10,000). Reading it back is one EXTCODECOPY; a payee is found by binary search and its part
/// computed by the same halving as RoyaltyMath.partOf, so the split is exact in sum and a part
/// never decreases as the total grows.
/// @dev The holder is deployed CREATE3-style (a fixed proxy by CREATE2 with the licence id as
/// salt, which CREATEs the holder), so its address follows from (ledger, licence id) alone and
/// costs no storage read.
library PayeeList {
    uint256 internal constant HEADER = 21;
    uint256 internal constant ENTRY = 22;

    /// @dev The proxy's creation code: it returns the runtime 0x363d3d37363d34f0, which CREATEs
    /// a contract from its calldata.
    bytes internal constant PROXY_CODE = hex"67363d3d37363d34f03d5260086018f3";
    bytes32 internal constant PROXY_CODE_HASH = keccak256(PROXY_CODE);

    /// @notice The blob for `payToken` and `payees` with `sharesBps` (validated by the registry).
    function pack(address payToken, address[] calldata payees, uint16[] calldata sharesBps)
        internal
        pure
        returns (bytes memory blob)
    {
        uint256 count = payees.length;
        uint256 size = HEADER + ENTRY * count;
        // One spare word: each entry is written as a whole word, the last one past the end.
        blob = new bytes(size + 32);
        uint256 sum = 0;
        assembly ("memory-safe") {
            mstore(blob, size)
            let out := add(blob, 32)
            // byte 0 stays 0x00 (STOP); the token at bytes 1..20
            mstore(out, shl(88, payToken))
            let p := add(out, HEADER)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let account := calldataload(add(payees.offset, shl(5, i)))
                sum := add(sum, calldataload(add(sharesBps.offset, shl(5, i))))
                // 20 address bytes, then 2 bytes of the running sum; the next entry overwrites the rest
                mstore(p, or(shl(96, account), shl(80, and(sum, 0xffff))))
                p := add(p, ENTRY)
            }
        }
    }

    /// @notice Creation code that deploys `blob` as a contract's code.
    function creationCode(bytes memory blob) internal pure returns (bytes memory) {
        // PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN, then the blob
        return abi.encodePacked(hex"61", uint16(blob.length), hex"80600a3d393df3", blob);
    }

    /// @notice Where the holder of `licenceId`'s list is (or will be) when `deployer` publishes it.
    function holderOf(address deployer, uint256 licenceId) internal pure returns (address holder) {
        bytes32 proxyCodeHash = PROXY_CODE_HASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, deployer)
            mstore8(add(m, 11), 0xff)
            mstore(add(m, 32), licenceId)
            mstore(add(m, 64), proxyCodeHash)
            let proxy := and(keccak256(add(m, 11), 85), 0xffffffffffffffffffffffffffffffffffffffff)
            // rlp([proxy, 1]): 0xd6 0x94 proxy 0x01
            mstore(m, 0)
            mstore8(add(m, 10), 0xd6)
            mstore8(add(m, 11), 0x94)
            mstore(add(m, 12), shl(96, proxy))
            mstore8(add(m, 32), 0x01)
            holder := and(keccak256(add(m, 10), 23), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @notice Copies the list of `count` payees from its holder into memory.
    /// @return list memory address of the blob's first byte
    function load(address holder, uint256 count) internal view returns (uint256 list) {
        uint256 size = HEADER + ENTRY * count;
        assembly ("memory-safe") {
            list := mload(0x40)
            extcodecopy(holder, list, 0, size)
            // one spare word: reading the last entry's word reads 10 bytes past the end
            mstore(0x40, add(list, and(add(size, 63), not(31))))
        }
    }

    /// @notice The payment token recorded in the list.
    function tokenOf(uint256 list) internal pure returns (address t) {
        assembly ("memory-safe") {
            t := shr(96, mload(add(list, 1)))
        }
    }

    /// @notice Payee `index`'s address.
    function accountAt(uint256 list, uint256 index) internal pure returns (address a) {
        assembly ("memory-safe") {
            a := shr(96, mload(add(list, add(HEADER, mul(ENTRY, index)))))
        }
    }

    /// @notice Sum of the shares of payees 0..index-1 (0 for index 0, 10,000 for index = count).
    function prefixAt(uint256 list, uint256 index) internal pure returns (uint256 p) {
        assembly ("memory-safe") {
            if index {
                p := and(shr(80, mload(add(list, add(HEADER, mul(ENTRY, sub(index, 1)))))), 0xffff)
            }
        }
    }

    /// @notice Binary search for `payee` among `count` ascending entries.
    function indexOf(uint256 list, uint256 count, address payee) internal pure returns (bool found, uint256 index) {
        uint256 lo = 0;
        uint256 hi = count;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            address candidate = accountAt(list, mid);
            if (candidate == payee) return (true, mid);
            if (candidate < payee) lo = mid + 1;
            else hi = mid;
        }
        return (false, 0);
    }

    /// @notice Payee `index`'s part of `total`: halve [lo, hi) at mid; the first half gets
    /// floor(amount * its shares / both halves' shares), the second the rest (as RoyaltyMath.partOf).
    function partOf(uint256 list, uint256 count, uint256 total, uint256 index) internal pure returns (uint256 part) {
        (part,) = partsOf(list, count, total, 0, index);
    }

    /// @notice Payee `index`'s parts of two totals at once (the path down the halving is the same).
    /// @dev Unchecked: totals are at most 2**128 (they are uint128 balances) and shares at most
    /// 10,000, so no product overflows; every half's shares are non-zero (the registry requires
    /// non-zero shares), so no division is by zero.
    function partsOf(uint256 list, uint256 count, uint256 totalA, uint256 totalB, uint256 index)
        internal
        pure
        returns (uint256 a, uint256 b)
    {
        assembly ("memory-safe") {
            let entries := add(list, HEADER)
            let lo := 0
            let hi := count
            let pLo := 0
            let pHi := and(shr(80, mload(add(entries, mul(ENTRY, sub(hi, 1))))), 0xffff)
            a := totalA
            b := totalB
            for {} gt(sub(hi, lo), 1) {} {
                let mid := shr(1, add(lo, hi))
                let pMid := and(shr(80, mload(add(entries, mul(ENTRY, sub(mid, 1))))), 0xffff)
                let span := sub(pHi, pLo)
                let first := sub(pMid, pLo)
                let firstA := div(mul(a, first), span)
                let firstB := div(mul(b, first), span)
                switch lt(index, mid)
                case 1 {
                    a := firstA
                    b := firstB
                    hi := mid
                    pHi := pMid
                }
                default {
                    a := sub(a, firstA)
                    b := sub(b, firstB)
                    lo := mid
                    pLo := pMid
                }
            }
        }
    }

    /// @notice Every payee's part of `total`, in list order: one pass over the halving tree, so
    /// parts[i] == partOf(list, count, total, i) for every i and the parts add up to `total`.
    function parts(uint256 list, uint256 count, uint256 total) internal pure returns (uint256[] memory all) {
        all = new uint256[](count);
        if (count != 0) _split(list, all, total, 0, count);
    }

    function _split(uint256 list, uint256[] memory all, uint256 amount, uint256 lo, uint256 hi) private pure {
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) >> 1;
            uint256 base = prefixAt(list, lo);
            uint256 firstHalf = amount * (prefixAt(list, mid) - base) / (prefixAt(list, hi) - base);
            _split(list, all, firstHalf, lo, mid);
            amount -= firstHalf;
            lo = mid;
        }
        all[lo] = amount;
    }
}
