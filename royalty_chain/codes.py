"""Published code tables for licence scope: territories, fields of use, channels.

The contracts store a licence's scope as three bitmaps (bit i of ``Scope.territories`` is
territory number i, and so on) and every sales bucket names its territory, field and channel
by index as a ``uint8``. The index of a code is its position in the JSON list under
``royalty_chain/codes/``. Licences already on chain depend on those positions, so the tables
are **append-only**: never reorder, remove or rename an entry; a new code goes at the end,
even where that breaks alphabetical order (territories are alphabetical today only because
they were all added at once, from the 249 officially assigned ISO 3166-1 alpha-2 codes).

Capacity is fixed by the bitmap widths: 256 territories (``uint256``), 64 fields of use
(``uint64``), 32 channels (``uint32``).

Currencies are a table of another kind: a sale's currency goes on chain as its code (``bytes3``)
with its ISO 4217 minor unit (the exponent of its smallest unit, 0..4) in each conversion, never
as an index, so ``currencies.json`` maps code -> minor unit and follows ISO 4217 as it changes.
It holds the active codes of ISO 4217 list one that have a minor unit: funds codes such as CLF
and UYW are in, codes without one (precious metals XAU.., XDR, bond units, XTS, XXX) are out, and
so are withdrawn currencies (ANG for XCG, CUC, HRK, SLL for SLE, ZWL for ZWG).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Final


class UnknownCodeError(ValueError):
    """A code (or index) that is not in a published table.

    Attributes:
        table: which table was asked: "territory", "field", "channel" or "currency".
        code: the code or index that was not found.
    """

    def __init__(self, table: str, code: str | int) -> None:
        self.table = table
        self.code = code
        what = f"index {code}" if isinstance(code, int) else f"code {code!r}"
        super().__init__(f"unknown {table} {what}")


class CodeTable:
    """One published table: code <-> index, with a bitmap width it must fit into."""

    __slots__ = ("by_code", "codes", "name", "width")

    def __init__(self, name: str, codes: Iterable[str], width: int) -> None:
        self.name: Final = name
        self.codes: Final[tuple[str, ...]] = tuple(codes)
        self.width: Final = width
        if len(self.codes) > width:
            raise ValueError(f"{name} table has {len(self.codes)} codes; the bitmap holds {width}")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"{name} table has duplicate codes")
        # A plain dict (read as a Mapping) so hot loops can bind ``by_code.get`` directly.
        self.by_code: Final[Mapping[str, int]] = {c: i for i, c in enumerate(self.codes)}

    def index(self, code: str) -> int:
        """Index of ``code``; raises UnknownCodeError."""
        try:
            return self.by_code[code]
        except KeyError:
            raise UnknownCodeError(self.name, code) from None

    def code(self, index: int) -> str:
        """Code at ``index``; raises UnknownCodeError."""
        if isinstance(index, bool) or not 0 <= index < len(self.codes):
            raise UnknownCodeError(self.name, index)
        return self.codes[index]

    def bitmap(self, codes: Iterable[str]) -> int:
        """Bitmap with the bit of every code in ``codes`` set."""
        bits = 0
        for c in codes:
            bits |= 1 << self.index(c)
        return bits

    def decode(self, bitmap: int) -> list[str]:
        """Codes whose bits are set in ``bitmap``, in index order."""
        if bitmap < 0 or bitmap >> self.width:
            raise ValueError(f"{self.name} bitmap does not fit uint{self.width}")
        out = []
        for i in range(bitmap.bit_length()):
            if bitmap >> i & 1:
                out.append(self.code(i))
        return out

    def __len__(self) -> int:
        return len(self.codes)


def _load(name: str) -> list[str]:
    data = json.loads((files("royalty_chain") / "codes" / name).read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(c, str) for c in data):
        raise ValueError(f"royalty_chain/codes/{name} must be a JSON list of strings")
    return data


# The largest ISO 4217 minor unit (CLF, UYW); a conversion on chain carries it as a uint8.
MAX_MINOR_UNITS: Final = 4


def _load_currencies(name: str) -> dict[str, int]:
    data = json.loads((files("royalty_chain") / "codes" / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"royalty_chain/codes/{name} must be a JSON object of code: minor unit")
    for code, minor_units in data.items():
        if not (len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()):
            raise ValueError(f"royalty_chain/codes/{name}: {code!r} is not 3 uppercase ASCII letters")
        if type(minor_units) is not int or not 0 <= minor_units <= MAX_MINOR_UNITS:
            raise ValueError(f"royalty_chain/codes/{name}: {code} has minor unit {minor_units!r}, not 0..4")
    return data


TERRITORIES: Final = CodeTable("territory", _load("territories.json"), 256)
FIELDS: Final = CodeTable("field", _load("fields.json"), 64)
CHANNELS: Final = CodeTable("channel", _load("channels.json"), 32)
# ISO 4217 code -> minor unit (the exponent of the currency's smallest unit: USD 2, JPY 0, KWD 3).
CURRENCIES: Final[Mapping[str, int]] = _load_currencies("currencies.json")


def territory_index(code: str) -> int:
    """Index of an ISO 3166-1 alpha-2 code (uppercase), e.g. ``territory_index("US")``."""
    return TERRITORIES.index(code)


def field_index(code: str) -> int:
    """Index of a field-of-use code, e.g. ``field_index("model-training")``."""
    return FIELDS.index(code)


def channel_index(code: str) -> int:
    """Index of a channel code, e.g. ``channel_index("online")``."""
    return CHANNELS.index(code)


def currency_minor_units(code: str) -> int:
    """ISO 4217 minor unit of an active currency code (uppercase), e.g. ``currency_minor_units("JPY") == 0``;
    raises UnknownCodeError for any other code."""
    try:
        return CURRENCIES[code]
    except KeyError:
        raise UnknownCodeError("currency", code) from None


def territory_code(index: int) -> str:
    """Territory code at ``index``."""
    return TERRITORIES.code(index)


def field_code(index: int) -> str:
    """Field-of-use code at ``index``."""
    return FIELDS.code(index)


def channel_code(index: int) -> str:
    """Channel code at ``index``."""
    return CHANNELS.code(index)


@dataclass(frozen=True, slots=True)
class Scope:
    """A licence's scope as the contracts store it: one bitmap per table."""

    territories: int
    fields: int
    channels: int

    def __post_init__(self) -> None:
        for name, value, width in (
            ("territories", self.territories, 256),
            ("fields", self.fields, 64),
            ("channels", self.channels, 32),
        ):
            if value < 0 or value >> width:
                raise ValueError(f"scope {name} bitmap does not fit uint{width}")

    def codes(self) -> tuple[list[str], list[str], list[str]]:
        """The (territories, fields, channels) codes this scope covers, for display."""
        return (
            TERRITORIES.decode(self.territories),
            FIELDS.decode(self.fields),
            CHANNELS.decode(self.channels),
        )


def encode_scope(territories: Iterable[str], fields: Iterable[str], channels: Iterable[str]) -> Scope:
    """Scope bitmaps for the given codes; raises UnknownCodeError on any unknown code."""
    return Scope(TERRITORIES.bitmap(territories), FIELDS.bitmap(fields), CHANNELS.bitmap(channels))


def _bit(table: CodeTable, ref: str | int) -> int:
    if isinstance(ref, str):
        return table.index(ref)
    table.code(ref)  # range check: raises UnknownCodeError
    return ref


def scope_contains(scope: Scope, territory: str | int, field: str | int, channel: str | int) -> bool:
    """Whether a sale in (territory, field, channel) is inside ``scope``.

    Each argument is a code (``"US"``) or an index; unknown codes raise UnknownCodeError.
    Mirrors the contract's check: all three bits must be set.
    """
    t = _bit(TERRITORIES, territory)
    f = _bit(FIELDS, field)
    c = _bit(CHANNELS, channel)
    return bool(scope.territories >> t & scope.fields >> f & scope.channels >> c & 1)
