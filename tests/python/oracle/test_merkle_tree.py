"""Leaf encoding equals abi.encode; the tree's proofs pass OpenZeppelin's MerkleProof.verify."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterable
from itertools import islice

import pytest
from eth_abi import encode
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle_testkit import encode_line, line_id_hash, line_leaf

from intake.errors import LeafNotFoundError
from intake.merkle import (
    ZERO_ROOT,
    MerkleTree,
    SortedLeavesRoot,
    hash_pair,
    keccak256,
    leaf_fast,
    merkle_proof,
    merkle_root,
    process_proof,
    split_leaves,
    verify,
)

LEAF_TYPES = [
    "bytes32",
    "uint256",
    "uint32",
    "uint64",
    "uint8",
    "uint8",
    "uint8",
    "uint128",
    "uint128",
    "uint128",
]

uint = st.integers
line_values = st.tuples(
    st.text(min_size=1, max_size=128),
    uint(1, 2**256 - 1),
    uint(0, 2**32 - 1),
    uint(0, 2**64 - 1),
    uint(0, 255),
    uint(0, 63),
    uint(0, 31),
    uint(0, 2**128 - 1),
    uint(0, 2**128 - 1),
    uint(0, 2**128 - 1),
)


def reference_leaf(line_id: str, *rest: int) -> bytes:
    """The leaf as the contracts compute it, through eth_abi and eth_hash (no shared code)."""
    return keccak(keccak(encode(LEAF_TYPES, [keccak(line_id.encode("utf-8")), *rest])))


def test_keccak_is_ethereum_keccak_not_sha3() -> None:
    assert keccak256(b"").hex() == ("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def test_known_leaf_vector() -> None:
    # INV-1, licence 1, period 0, 2025-01-05, US/software/online, 2 units, 199.98 USD, 0
    leaf = line_leaf("INV-1", 1, 0, 1736035200, 232, 10, 1, 2, 199_980_000, 0)

    assert leaf.hex() == "072c7908d5388cb1921c81bcc911eee7bbd9098eb209ef9563d2769c75976b7b"
    assert leaf == reference_leaf("INV-1", 1, 0, 1736035200, 232, 10, 1, 2, 199_980_000, 0)
    assert leaf_fast("INV-1", (1).to_bytes(32, "big"), 0, 1736035200, 232, 10, 1, 2, 199_980_000, 0) == leaf


@settings(max_examples=200)
@given(line_values)
def test_leaf_encoding_equals_eth_abi_encode(values: tuple) -> None:
    line_id, *rest = values
    words = [line_id_hash(line_id), *rest]

    assert encode_line(*words) == encode(LEAF_TYPES, words)
    assert line_leaf(line_id, *rest) == reference_leaf(line_id, *rest)
    licence_id, *tail = rest
    assert leaf_fast(line_id, licence_id.to_bytes(32, "big"), *tail) == line_leaf(line_id, *rest)


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [
        (1, 2**256, "licence id .* does not fit uint256"),
        (2, 2**32, "period, saleDay or a code index out of range"),
        (4, 256, "period, saleDay or a code index out of range"),
        (8, 2**128, "gross .* does not fit uint128"),
        (7, -1, "units -1 does not fit uint128"),
    ],
)
def test_encode_line_refuses_values_that_do_not_fit(index: int, value: int, message: str) -> None:
    words: list = [bytes(32), 1, 0, 0, 0, 0, 0, 0, 0, 0]
    words[index] = value

    with pytest.raises(ValueError, match=message):
        encode_line(*words)


def leaves_of(count: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(32) for _ in range(count)]


def test_empty_tree_has_the_zero_root() -> None:
    assert merkle_root([]) == ZERO_ROOT == bytes(32)
    assert MerkleTree([]).root == ZERO_ROOT


def test_one_leaf_is_its_own_root_with_an_empty_proof() -> None:
    [leaf] = leaves_of(1)

    assert merkle_root([leaf]) == leaf
    assert merkle_proof([leaf], leaf) == []
    assert verify([], leaf, leaf)


def test_five_leaves_match_a_hand_built_tree() -> None:
    leaves = [keccak(bytes([i])) for i in range(5)]
    s = sorted(leaves)

    def pair(a: bytes, b: bytes) -> bytes:
        return keccak(min(a, b) + max(a, b))

    # level 1: (s0,s1) (s2,s3) s4 carried up; level 2: (h01,h23) s4 carried up; root.
    expected = pair(pair(pair(s[0], s[1]), pair(s[2], s[3])), s[4])
    assert merkle_root(leaves) == expected
    assert expected.hex() == "34458c5792036827218d08a967c43ecb1a46beb2a3da9293e9abaa3188c868b9"
    assert merkle_proof(leaves, s[4]) == [pair(pair(s[0], s[1]), pair(s[2], s[3]))]


@pytest.mark.parametrize("size", range(1, 21))
def test_every_leaf_proof_verifies(size: int) -> None:
    leaves = leaves_of(size, seed=size)
    tree = MerkleTree(leaves)

    assert tree.root == merkle_root(leaves)
    for leaf in leaves:
        proof = tree.proof(leaf)
        assert verify(proof, tree.root, leaf)
        assert proof == merkle_proof(leaves, leaf)
        assert len(proof) <= (size - 1).bit_length()


def test_every_proof_of_a_random_1000_leaf_tree_verifies() -> None:
    leaves = leaves_of(1000, seed=1000)
    tree = MerkleTree(leaves)

    assert all(verify(tree.proof(leaf), tree.root, leaf) for leaf in leaves)


def test_tampered_proof_or_foreign_leaf_does_not_verify() -> None:
    leaves = leaves_of(7)
    tree = MerkleTree(leaves)
    proof = tree.proof(leaves[3])

    assert not verify(proof, tree.root, leaves_of(1, seed=99)[0])
    assert not verify([*proof[:-1], bytes(32)], tree.root, leaves[3])
    assert not verify(proof[:-1], tree.root, leaves[3])


def test_proof_for_a_leaf_not_in_the_tree_raises() -> None:
    foreign = bytes(32)

    with pytest.raises(LeafNotFoundError, match="is not in the tree"):
        merkle_proof(leaves_of(4), foreign)


def test_hash_pair_is_commutative_like_openzeppelin() -> None:
    a, b = leaves_of(2)

    assert hash_pair(a, b) == hash_pair(b, a) == keccak(min(a, b) + max(a, b))
    assert process_proof([b], a) == hash_pair(a, b)


def test_leaves_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="every leaf must be 32 bytes"):
        merkle_root([bytes(31)])
    with pytest.raises(ValueError, match="not a multiple of 32"):
        split_leaves(bytes(33))


def test_split_leaves_inverts_concatenation() -> None:
    leaves = leaves_of(3)

    assert split_leaves(b"".join(leaves)) == leaves
    assert split_leaves(bytearray(b"".join(leaves))) == leaves


@settings(max_examples=50)
@given(
    st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=64, unique=True),
    st.randoms(),
)
def test_root_ignores_order_and_all_proofs_verify(leaves: list[bytes], rng: random.Random) -> None:
    shuffled = leaves[:]
    rng.shuffle(shuffled)
    tree = MerkleTree(leaves)

    assert merkle_root(shuffled) == tree.root
    for leaf in leaves:
        assert verify(tree.proof(leaf), tree.root, leaf)


def test_fallback_keccak_without_pysha3_gives_the_same_leaf() -> None:
    # safe-pysha3 comes in with the ape stack; without it merkle.py falls back to pycryptodome.
    script = (
        "import sys; sys.modules['sha3'] = None\n"
        "from intake.merkle import KECCAK_BACKEND, leaf_fast, merkle_root\n"
        "leaf = leaf_fast('INV-1', (1).to_bytes(32, 'big'), 0, 1736035200, 232, 10, 1, 2, 199980000, 0)\n"
        "print(KECCAK_BACKEND, leaf.hex(), merkle_root([leaf, bytes(32)]).hex())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    leaf = line_leaf("INV-1", 1, 0, 1736035200, 232, 10, 1, 2, 199_980_000, 0)

    assert result.stdout.split() == [
        "pycryptodome",
        leaf.hex(),
        merkle_root([leaf, bytes(32)]).hex(),
    ]


def sorted_merkle_root(leaves: Iterable[bytes], chunk: int = 1 << 16) -> bytes:
    """``merkle_root`` of ``leaves`` given in ascending order, holding ``chunk`` of them at a time."""
    builder = SortedLeavesRoot()
    iterator = iter(leaves)
    while part := list(islice(iterator, chunk)):
        builder.extend(part)
    return builder.root()


def fed_in_runs(leaves: list[bytes], longest: int, seed: int) -> SortedLeavesRoot:
    """A SortedLeavesRoot fed ``leaves`` in runs of random length (empty runs included)."""
    rng = random.Random(seed)
    builder = SortedLeavesRoot()
    start = 0
    while start < len(leaves):
        end = min(len(leaves), start + rng.randint(0, longest))
        builder.extend(leaves[start:end])
        start = end
    return builder


@pytest.mark.parametrize("size", range(71))
def test_streaming_root_equals_merkle_root(size: int) -> None:
    leaves = sorted(leaves_of(size, seed=size))

    assert fed_in_runs(leaves, longest=9, seed=size).root() == merkle_root(leaves)
    assert sorted_merkle_root(iter(leaves), chunk=3) == merkle_root(leaves)


@pytest.mark.parametrize("size", [4095, 4096, 4097, 8191, 8192, 3 * 4096 + 1, 20_011])
def test_streaming_root_equals_merkle_root_across_blocks(size: int) -> None:
    leaves = sorted(leaves_of(size, seed=size))

    builder = fed_in_runs(leaves, longest=6000, seed=size)

    assert len(builder) == size
    assert builder.root() == merkle_root(leaves)


def test_streaming_root_of_the_leaves_so_far_and_then_more() -> None:
    leaves = sorted(leaves_of(5000, seed=5))
    builder = SortedLeavesRoot()

    assert builder.root() == ZERO_ROOT
    builder.extend(leaves[:4100])
    assert builder.root() == merkle_root(leaves[:4100])
    builder.extend(leaves[4100:])
    assert builder.root() == merkle_root(leaves)


def test_streaming_root_matches_the_hand_built_five_leaf_tree() -> None:
    leaves = sorted(keccak(bytes([i])) for i in range(5))

    assert sorted_merkle_root(leaves).hex() == "34458c5792036827218d08a967c43ecb1a46beb2a3da9293e9abaa3188c868b9"


@settings(max_examples=50)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=80), st.integers(1, 10))
def test_streaming_root_takes_equal_leaves_and_any_chunking(leaves: list[bytes], chunk: int) -> None:
    doubled = sorted(leaves + leaves[: len(leaves) // 2])

    assert sorted_merkle_root(doubled, chunk=chunk) == merkle_root(doubled)


def test_streaming_root_refuses_unsorted_leaves_and_leaves_not_32_bytes() -> None:
    low, high = sorted(leaves_of(2))

    with pytest.raises(ValueError, match="not sorted ascending"):
        SortedLeavesRoot().extend([high, low])
    builder = SortedLeavesRoot()
    builder.extend([high])
    with pytest.raises(ValueError, match="not sorted ascending"):
        builder.extend([low])  # below the previous run's last leaf
    with pytest.raises(ValueError, match="every leaf must be 32 bytes"):
        SortedLeavesRoot().extend([low, high + b"x"])
    with pytest.raises(ValueError, match="every leaf must be 32 bytes"):
        sorted_merkle_root([bytes(31)])
