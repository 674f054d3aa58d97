"""Canonical sales-line leaves and a Merkle tree that OpenZeppelin ``MerkleProof.verify`` accepts.

Leaf of one sales line (the contracts and the API depend on this exact encoding)::

    leaf = keccak256(keccak256(abi.encode(
        bytes32 lineIdHash,   // keccak256(utf8(line_id))
        uint256 licenceId,
        uint32  period,       // the period of saleDay by the licence's calendar rule
        uint64  saleDay,      // unix seconds of 00:00 UTC of the sale date
        uint8   territory,    // index in royalty_chain/codes/territories.json
        uint8   field,        // index in fields.json
        uint8   channel,      // index in channels.json
        uint128 units,
        uint128 gross,        // token units
        uint128 deductions))) // token units

The sale's contract year is not in the leaf: like the period, it follows from ``saleDay`` by the
licence's calendar rule, and leaving it out keeps every leaf stored before contract years valid.

Leaf of a return, a cancellation or a replacement (``leaf_entry``; every sale keeps the leaf above)::

    leaf = keccak256(keccak256(abi.encode(
        uint8   kind,         // 1 return (a credit note), 2 cancel, 3 replace (LINE_RETURN, ...)
        bytes32 lineIdHash,   // keccak256(utf8(line_id)); for a cancel or replace, the line's own id
        uint256 licenceId,
        uint32  period,
        uint64  saleDay,
        uint8   territory,
        uint8   field,
        uint8   channel,
        int256  units,        // signed: a return's amounts are <= 0; a cancel repeats the values
        int256  gross,        //   of the version it cancels, a replace carries the new values
        int256  deductions,
        bytes32 ref)))        // return: keccak256(utf8(returns_line_id)), or bytes32(0) for none;
                              // cancel, replace: the leaf of the version it cancels or replaces

Twelve words (384 bytes) where a sale's leaf hashes ten (320 bytes): the two preimages differ in
length, so no entry's leaf can equal a sale's without a keccak collision, and the kind word keeps
the three entry kinds apart. A cancellation's ``ref`` ties it to the exact version it removes,
so each version of a line has a leaf of its own. The amounts are int256 (not int128) so that a
cancel or replace can repeat any uint128 sale.

Leaf of a line in another currency than the licence's (``leaf_foreign``; a sale, return, cancel
or replace alike), whose amounts are in that currency's minor units (docs/currencies.md)::

    leaf = keccak256(keccak256(abi.encode(
        uint8   kind,         // 0 sale, 1 return, 2 cancel, 3 replace (LINE_SALE, ...)
        bytes32 lineIdHash,
        uint256 licenceId,
        uint32  period,
        uint64  saleDay,
        uint8   territory,
        uint8   field,
        uint8   channel,
        int256  units,
        int256  gross,        // in 10^-minorUnits of the currency (JPY: yen, EUR: cents, KWD: fils)
        int256  deductions,
        bytes32 ref,          // as in an entry's leaf; bytes32(0) for a sale
        bytes3  currency,     // the ISO 4217 code as ASCII, left-aligned in its word ("EUR")
        uint8   minorUnits))) // the currency's ISO 4217 exponent (0..4) the amounts are in

Fourteen words (448 bytes): no foreign line's leaf can equal a sale's (ten words) or an entry's
(twelve) without a keccak collision, and every leaf of a line in the licence's currency is the
one above, unchanged. The leaf commits to the currency and its exponent, so a proof of the line
proves which currency its amounts are in and at which scale; a cancel of a foreign line, which
names no currency of its own, has the currency of the version it cancels.

Hashing twice is OpenZeppelin's StandardMerkleTree convention: a 64-byte inner node can never
be mistaken for a leaf. The abi encoding of static types is ten 32-byte big-endian words, built
here by hand (``leaf_fast``) because eth_abi costs ~20 us a line.

Tree: leaves sorted ascending as bytes (so the root does not depend on line order); a parent is
``keccak256(min(a, b) ++ max(a, b))`` (OZ ``_hashPair``); an unpaired last node of a level is
carried up unchanged; one leaf is its own root; no leaves give ``bytes32(0)``.
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from operator import le
from typing import Final, Protocol, cast

from intake.errors import LeafNotFoundError


class _HashObject(Protocol):
    def digest(self) -> bytes: ...


def _pick_keccak() -> tuple[str, Callable[[bytes], _HashObject]]:
    # safe-pysha3 (a C extension, installed with the ape stack) hashes a 32-byte input in
    # ~0.7 us; pycryptodome (eth_hash's backend here) takes ~4 us. Leaf hashing and the tree
    # cost four hashes per sales line, so the faster one is worth the fallback. Hot loops call
    # the constructor and .digest() directly: a wrapper function would cost another 0.4 us.
    try:
        from sha3 import keccak_256
    except ImportError:  # pragma: no cover - depends on the environment
        from Crypto.Hash import keccak

        def keccak_cryptodome(data: bytes) -> _HashObject:
            return keccak.new(digest_bits=256, data=data)

        return "pycryptodome", keccak_cryptodome
    return "safe-pysha3", cast(Callable[[bytes], _HashObject], keccak_256)


KECCAK_BACKEND, _keccak = _pick_keccak()


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 (not NIST SHA3-256)."""
    return _keccak(data).digest()


ZERO_ROOT: Final = bytes(32)
# Words 3-7 of the leaf encoding: uint32 period, uint64 saleDay, uint8 x3, each left-padded.
_MIDDLE: Final = struct.Struct(">28xI24xQ31xB31xB31xB")


def leaf_fast(
    line_id: str,
    licence_word: bytes,
    period: int,
    sale_day: int,
    territory: int,
    field: int,
    channel: int,
    units: int,
    gross: int,
    deductions: int,
) -> bytes:
    """The canonical 32-byte leaf of one sales line (see the module docstring), the only one the
    services compute. Built for the hot path: the caller guarantees every range (the parser and
    the validator checked them) and passes the licence id already encoded as its 32-byte word.
    tests/python/oracle/test_merkle_tree.py checks it against a readable, range-checked encoding
    and against eth_abi."""
    k = _keccak
    inner = b"".join(
        (
            k(line_id.encode("utf-8")).digest(),
            licence_word,
            _MIDDLE.pack(period, sale_day, territory, field, channel),
            units.to_bytes(32, "big"),
            gross.to_bytes(32, "big"),
            deductions.to_bytes(32, "big"),
        )
    )
    return k(k(inner).digest()).digest()


# Kinds of line: a sale has the ten-word leaf; the others the twelve-word entry leaf.
LINE_SALE: Final = 0
LINE_RETURN: Final = 1
LINE_CANCEL: Final = 2
LINE_REPLACE: Final = 3
NO_REF: Final = bytes(32)


def leaf_entry(
    kind: int,
    line_id: str,
    licence_word: bytes,
    period: int,
    sale_day: int,
    territory: int,
    field: int,
    channel: int,
    units: int,
    gross: int,
    deductions: int,
    ref: bytes,
) -> bytes:
    """The leaf of a return, a cancellation or a replacement (see the module docstring). Off the
    hot path (few lines are entries), but built by hand like ``leaf_fast``; the caller
    guarantees the ranges, and ``ref`` is 32 bytes."""
    if kind not in (LINE_RETURN, LINE_CANCEL, LINE_REPLACE) or len(ref) != 32:
        raise ValueError(f"an entry leaf needs kind 1, 2 or 3 and a 32-byte ref, not {kind} and {len(ref)} bytes")
    k = _keccak
    inner = b"".join(
        (
            kind.to_bytes(32, "big"),
            k(line_id.encode("utf-8")).digest(),
            licence_word,
            _MIDDLE.pack(period, sale_day, territory, field, channel),
            units.to_bytes(32, "big", signed=True),
            gross.to_bytes(32, "big", signed=True),
            deductions.to_bytes(32, "big", signed=True),
            ref,
        )
    )
    return k(k(inner).digest()).digest()


def leaf_foreign(
    kind: int,
    line_id: str,
    licence_word: bytes,
    period: int,
    sale_day: int,
    territory: int,
    field: int,
    channel: int,
    units: int,
    gross: int,
    deductions: int,
    ref: bytes,
    currency: str,
    minor_units: int,
) -> bytes:
    """The leaf of a line in another currency than the licence's (see the module docstring):
    amounts in the currency's minor units. Built by hand like ``leaf_entry``; the caller
    guarantees the ranges; ``currency`` is three ASCII letters and ``ref`` 32 bytes."""
    code = currency.encode("ascii")
    if kind not in (LINE_SALE, LINE_RETURN, LINE_CANCEL, LINE_REPLACE) or len(ref) != 32 or len(code) != 3:
        raise ValueError(
            f"a foreign-currency leaf needs kind 0..3, a 32-byte ref and a 3-letter code, not {kind}, "
            f"{len(ref)} bytes and {currency!r}"
        )
    if not 0 <= minor_units <= 255:
        raise ValueError(f"minor units {minor_units} do not fit uint8")
    k = _keccak
    inner = b"".join(
        (
            kind.to_bytes(32, "big"),
            k(line_id.encode("utf-8")).digest(),
            licence_word,
            _MIDDLE.pack(period, sale_day, territory, field, channel),
            units.to_bytes(32, "big", signed=True),
            gross.to_bytes(32, "big", signed=True),
            deductions.to_bytes(32, "big", signed=True),
            ref,
            code.ljust(32, b"\0"),
            minor_units.to_bytes(32, "big"),
        )
    )
    return k(k(inner).digest()).digest()


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin ``_hashPair``: keccak256 of the two nodes, smaller first."""
    return keccak256(a + b if a < b else b + a)


def split_leaves(packed: bytes | bytearray | memoryview) -> list[bytes]:
    """Cut a buffer of concatenated 32-byte leaves into a list of leaves."""
    data = packed if isinstance(packed, bytes) else bytes(packed)
    if len(data) % 32:
        raise ValueError(f"packed leaves length {len(data)} is not a multiple of 32")
    return [data[i : i + 32] for i in range(0, len(data), 32)]


def _sorted_leaves(leaves: Iterable[bytes]) -> list[bytes]:
    level = list(leaves)
    if not set(map(type, level)) <= {bytes}:  # map() keeps the check in C for a million leaves
        level = [bytes(x) for x in level]
    if not set(map(len, level)) <= {32}:
        raise ValueError("every leaf must be 32 bytes")
    level.sort()
    return level


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    k = _keccak
    parents = [k(a + b).digest() if a < b else k(b + a).digest() for a, b in zip(level[::2], level[1::2], strict=False)]
    if len(level) & 1:
        parents.append(level[-1])
    return parents


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """Root over ``leaves`` in any order; ``bytes(32)`` for none.

    Keeps only one level at a time, so memory is about two lists of the leaves (for more leaves
    than memory holds, sort them outside and feed them to SortedLeavesRoot).
    """
    level = _sorted_leaves(leaves)
    if not level:
        return ZERO_ROOT
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


_BLOCK_HEIGHT: Final = 12  # SortedLeavesRoot folds 4096 leaves at a time with _next_level


class SortedLeavesRoot:
    """``merkle_root`` over leaves that arrive already sorted ascending, in O(log n) memory.

    Level by level, node ``i`` of level ``h`` covers leaves ``[i * 2**h, (i + 1) * 2**h)`` (an
    unpaired last node is carried up, so the alignment never shifts). The tree over n leaves is
    therefore the perfect subtrees of n's binary digits, largest first, folded from the right:
    ``root = hashPair(peak_1, hashPair(peak_2, ... hashPair(peak_k-1, peak_k)))``. This keeps
    one peak per binary digit, like a binary counter. Leaves are taken in blocks of 4096 whose
    perfect subtree is hashed a level at a time (a list comprehension, as merkle_root does),
    so the cost per leaf is merkle_root's.

    ``extend`` takes any number of sorted runs; each must start at or above the previous
    one's last leaf, else ValueError (as for a leaf that is not 32 bytes).
    """

    __slots__ = ("_blocks", "_count", "_last", "_peaks", "_rest")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []  # roots of full blocks' subtrees: one per set bit of _blocks
        self._blocks = 0
        self._rest: list[bytes] = []  # the leaves after the last full block (fewer than a block)
        self._count = 0
        self._last = b""

    def __len__(self) -> int:
        return self._count

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append sorted ``leaves`` (bytes of 32; an empty sequence is fine)."""
        if not leaves:
            return
        if not set(map(type, leaves)) <= {bytes}:
            leaves = [bytes(x) for x in leaves]
        if not set(map(len, leaves)) <= {32}:
            raise ValueError("every leaf must be 32 bytes")
        # C-level checks (map/all), not a Python loop: a sorted run is a million leaves.
        if leaves[0] < self._last or not all(map(le, leaves, islice(leaves, 1, None))):
            raise ValueError("leaves are not sorted ascending")
        self._last = leaves[-1]
        self._count += len(leaves)
        level = self._rest + list(leaves) if self._rest else leaves
        block = 1 << _BLOCK_HEIGHT
        full = len(level) - len(level) % block
        for start in range(0, full, block):
            self._push_block(_perfect_root(level[start : start + block]))
        self._rest = list(level[full:])

    def _push_block(self, node: bytes) -> None:
        k = _keccak
        peaks = self._peaks
        carry = self._blocks
        while carry & 1:  # merging equal heights, like a binary counter's carry
            other = peaks.pop()
            node = k(other + node).digest() if other < node else k(node + other).digest()
            carry >>= 1
        peaks.append(node)
        self._blocks += 1

    def root(self) -> bytes:
        """The root over every leaf so far (``bytes(32)`` for none); more may follow."""
        k = _keccak
        nodes = [*self._peaks, _perfect_root(self._rest)] if self._rest else self._peaks
        if not nodes:
            return ZERO_ROOT
        node = nodes[-1]
        for peak in reversed(nodes[:-1]):
            node = k(peak + node).digest() if peak < node else k(node + peak).digest()
        return node


def _perfect_root(level: Sequence[bytes]) -> bytes:
    """Root of a non-empty sorted level (carrying unpaired nodes up, as merkle_root does)."""
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


class MerkleTree:
    """All levels of the tree, for many proofs over the same leaves (one proof: merkle_proof)."""

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes]) -> None:
        levels = [_sorted_leaves(leaves)]
        while len(levels[-1]) > 1:
            levels.append(_next_level(levels[-1]))
        self._levels = levels

    @property
    def root(self) -> bytes:
        return self._levels[-1][0] if self._levels[0] else ZERO_ROOT

    def __len__(self) -> int:
        return len(self._levels[0])

    def proof(self, leaf: bytes) -> list[bytes]:
        """Sibling hashes from ``leaf`` up to the root; raises LeafNotFoundError."""
        leaves = self._levels[0]
        index = bisect_left(leaves, leaf)
        if index == len(leaves) or leaves[index] != leaf:
            raise LeafNotFoundError(bytes(leaf))
        proof = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # an unpaired last node adds nothing to the proof
                proof.append(level[sibling])
            index >>= 1
        return proof


def merkle_proof(leaves: Iterable[bytes], leaf: bytes) -> list[bytes]:
    """Proof that ``leaf`` is in the tree over ``leaves``; raises LeafNotFoundError."""
    return MerkleTree(leaves).proof(leaf)


def process_proof(proof: Iterable[bytes], leaf: bytes) -> bytes:
    """OpenZeppelin ``MerkleProof.processProof``: the root implied by ``leaf`` and ``proof``."""
    computed = bytes(leaf)
    for sibling in proof:
        computed = hash_pair(computed, bytes(sibling))
    return computed


def verify(proof: Iterable[bytes], root: bytes, leaf: bytes) -> bool:
    """OpenZeppelin ``MerkleProof.verify`` re-implemented for tests and auditors."""
    return process_proof(proof, leaf) == bytes(root)
