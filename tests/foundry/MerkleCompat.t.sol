// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Test} from "forge-std/Test.sol";

/// @notice The oracle's sales-line leaves and proofs (oracle/merkle.py) verify with OpenZeppelin's
/// MerkleProof against the root a report puts on chain. Vectors produced by:
///   leaves = [line_leaf(f"INV-{i}", 7, 3, 1736035200 + 86400*i, 232, 10, 1, i+1, 1000000*(i+1), 1000*i)
///             for i in range(5)]; MerkleTree(leaves).root / .proof(leaf)
contract MerkleCompatTest is Test {
    bytes32 internal constant ROOT = 0xc5e4eefb91a879306fbc5cc905f3815661ff76e4454fbbdf20526cb3b22f748a;

    function _leaf(uint256 i) internal pure returns (bytes32) {
        string memory lineId = string.concat("INV-", vm.toString(i));
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(
                        keccak256(bytes(lineId)),
                        uint256(7),
                        uint32(3),
                        uint64(1736035200 + 86400 * i),
                        uint8(232),
                        uint8(10),
                        uint8(1),
                        uint128(i + 1),
                        uint128(1000000 * (i + 1)),
                        uint128(1000 * i)
                    )
                )
            )
        );
    }

    function test_leaf_MatchesOracleEncoding() public pure {
        assertEq(_leaf(0), 0xbfbe4198c0d27d0cc5ff69ca0c75654c59c0039f2a3af37a987112b885e7e87b);
        assertEq(_leaf(1), 0xc5ad00bc9bf2091aeeba1b3ca726eab40ae2eb04e2eb8f80ea19357968b11067);
        assertEq(_leaf(2), 0x58c9ae7e2b421ef7521af2a1df8e821c6bcda25d1067d6adfc5e604be249be0a);
        assertEq(_leaf(3), 0x4922f4695170511d61169c15d0a9898798581595bbbe4adc2816dd061ed3d4d9);
        assertEq(_leaf(4), 0xa42f61415df5383090663c160efb7caf7f9a0e5934a2811dee07506bd64881b6);
    }

    function test_merkleProof_OracleProofsVerify() public pure {
        bytes32[] memory p0 = new bytes32[](3);
        p0[0] = 0xa42f61415df5383090663c160efb7caf7f9a0e5934a2811dee07506bd64881b6;
        p0[1] = 0xcb524f5a0dc2bd0df08b18d00f346ce5e53fe98045f56ce52dc1d8377a8fc451;
        p0[2] = 0xc5ad00bc9bf2091aeeba1b3ca726eab40ae2eb04e2eb8f80ea19357968b11067;
        assertTrue(MerkleProof.verify(p0, ROOT, _leaf(0)));

        bytes32[] memory p1 = new bytes32[](1);
        p1[0] = 0x614954a33c1bdd9c3fbe03b530dcc10e70b3e79daee344e25602d7b33eb94750;
        assertTrue(MerkleProof.verify(p1, ROOT, _leaf(1)));

        bytes32[] memory p2 = new bytes32[](3);
        p2[0] = 0x4922f4695170511d61169c15d0a9898798581595bbbe4adc2816dd061ed3d4d9;
        p2[1] = 0xb8ad2a9196b9cd2a1c8245973b374ce3c8e6041c25e8116584a1fb63a9e424c2;
        p2[2] = 0xc5ad00bc9bf2091aeeba1b3ca726eab40ae2eb04e2eb8f80ea19357968b11067;
        assertTrue(MerkleProof.verify(p2, ROOT, _leaf(2)));

        bytes32[] memory p3 = new bytes32[](3);
        p3[0] = 0x58c9ae7e2b421ef7521af2a1df8e821c6bcda25d1067d6adfc5e604be249be0a;
        p3[1] = p2[1];
        p3[2] = p2[2];
        assertTrue(MerkleProof.verify(p3, ROOT, _leaf(3)));

        bytes32[] memory p4 = new bytes32[](3);
        p4[0] = 0xbfbe4198c0d27d0cc5ff69ca0c75654c59c0039f2a3af37a987112b885e7e87b;
        p4[1] = p0[1];
        p4[2] = p0[2];
        assertTrue(MerkleProof.verify(p4, ROOT, _leaf(4)));
    }

    function test_merkleProof_TamperedLineFails() public pure {
        bytes32[] memory p1 = new bytes32[](1);
        p1[0] = 0x614954a33c1bdd9c3fbe03b530dcc10e70b3e79daee344e25602d7b33eb94750;
        // The same proof for a line whose gross was changed no longer reaches the root.
        bytes32 tampered = keccak256(bytes.concat(keccak256(abi.encode(keccak256("INV-1"), uint256(7), uint32(3),
            uint64(1736035200 + 86400), uint8(232), uint8(10), uint8(1), uint128(2), uint128(2000001), uint128(1000)))));
        assertFalse(MerkleProof.verify(p1, ROOT, tampered));
    }
}
