"""A Bloom filter of (licensee, line id) keys: the cheap first check of a seen-lines store
(the outbox's ``OutboxSeenLines``). Pure Python over one array, so the intake's users load it
without the outbox's SQL stack."""

from __future__ import annotations

from array import array
from random import Random
from typing import Final

DEFAULT_BLOOM_BITS: Final = 1 << 26  # 8 MiB: ~4 million keys at 0.5% false positives
PATTERN_BITS: Final = 12  # the filter's bit patterns: 4096 of them, 6 bits set in each


def _bit_patterns() -> array[int]:
    """4096 64-bit words with 6 distinct bits set, the same in every process (fixed seed)."""
    stream = Random(0x5EED5).randbytes(12 << PATTERN_BITS)
    patterns, pos = array("Q"), 0
    for _ in range(1 << PATTERN_BITS):
        pattern = 0
        while pattern.bit_count() < 6:
            pattern |= 1 << (stream[pos] & 63)
            pos += 1
        patterns.append(pattern)
    return patterns


PATTERNS: Final = _bit_patterns()


class LineIdBloom:
    """Blocked Bloom filter of (licensee, line id) keys: a key sets 6 bits of one 64-bit word.

    One word per key makes a check one array read. With ``bits`` of filter for n keys the false
    positive rate is ~0.005% at 64 bits a key, ~0.05% at 32, ~0.5% at 16 and ~4% at 8. The size
    is fixed: more keys only raise the rate. Keys are hashed with Python's ``hash()``, salted
    per process, so a filter is rebuilt from the stored ids in every process that needs one.
    """

    __slots__ = ("word_mask", "words")

    def __init__(self, bits: int = DEFAULT_BLOOM_BITS) -> None:
        self.words = array("Q", bytes(self.checked_bits(bits) >> 3))
        self.word_mask = (bits >> 6) - 1

    @staticmethod
    def checked_bits(bits: int) -> int:
        """``bits`` if it is a filter size (a power of two, at least 64), else ValueError."""
        if bits < 64 or bits & (bits - 1):
            raise ValueError(f"bloom_bits must be a power of two of at least 64, not {bits}")
        return bits

    def add(self, licensee: str, line_id: str) -> bool:
        """Add the key; False if it was certainly not in the filter, True if it may have been."""
        h = hash(line_id) ^ hash(licensee)
        pattern = PATTERNS[h & 0xFFF]
        index = h >> PATTERN_BITS & self.word_mask
        word = self.words[index]
        if word & pattern == pattern:
            return True
        self.words[index] = word | pattern
        return False
