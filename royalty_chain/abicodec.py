"""Contract calls and events encoded with eth_abi directly, for the oracle's hot paths.

web3.py's ``ContractFunction`` finds the ABI entry, validates and normalises every argument
against the whole contract ABI and runs the middleware stack for each call: about 3 ms of
Python per call here. The oracle reads several values for each of thousands of licences per
round, so it uses these codecs instead: the selector and
types of each function are worked out once, arguments go straight to ``eth_abi.encode``, and
results come back shaped as web3 returns them (tuples for structs, checksummed addresses).

Everything else (the API, scripts, tests) keeps using web3's contract objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address


def abi_type(item: Mapping[str, Any]) -> str:
    """The canonical type string of an ABI input or output (``(uint8,address)[]`` for structs)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){kind[5:]}"
    return kind


def _normaliser(item: dict[str, Any]) -> Any:
    """A function that turns eth_abi's value for ``item`` into web3's (checksummed addresses),
    or None when the value needs nothing (the common case, kept free)."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = _normaliser({**item, "type": kind[: kind.rindex("[")]})
        return None if inner is None else (lambda values: tuple(inner(v) for v in values))
    if kind == "address":
        return to_checksum_address
    if kind == "tuple":
        parts = [_normaliser(c) for c in item["components"]]
        if all(p is None for p in parts):
            return None
        return lambda value: tuple(v if p is None else p(v) for p, v in zip(parts, value, strict=True))
    return None


@dataclass(frozen=True, slots=True)
class FunctionCodec:
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    _normalisers: tuple[Any, ...]

    @classmethod
    def from_abi(cls, item: dict[str, Any]) -> FunctionCodec:
        inputs = tuple(abi_type(i) for i in item.get("inputs", []))
        outputs = tuple(abi_type(o) for o in item.get("outputs", []))
        selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(inputs)})")
        normalisers = tuple(_normaliser(o) for o in item.get("outputs", []))
        return cls(item["name"], selector, inputs, outputs, normalisers)

    def encode(self, *args: Any) -> bytes:
        """Calldata: selector and arguments (structs as tuples, in ABI order)."""
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name} takes {len(self.inputs)} arguments, got {len(args)}")
        return self.selector + abi_encode(self.inputs, args)

    def decode(self, data: bytes) -> Any:
        """The return value as web3 gives it: one value alone, several as a tuple."""
        values = abi_decode(self.outputs, data)
        values = tuple(v if n is None else n(v) for n, v in zip(self._normalisers, values, strict=True))
        return values[0] if len(values) == 1 else values


class ContractCodec:
    """The functions of one contract ABI, by name (the contracts here overload none). Events are
    decoded by :class:`royalty_chain.events.EventDecoder`."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[str, FunctionCodec] = {}
        for item in abi:
            if item.get("type") != "function":
                continue
            name = str(item["name"])
            if name in self.functions:
                raise ValueError(f"{name} is overloaded; ContractCodec looks functions up by name")
            self.functions[name] = FunctionCodec.from_abi(item)

    def fn(self, name: str) -> FunctionCodec:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"the ABI has no function {name}") from None
