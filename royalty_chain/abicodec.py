"""Contract calls and events encoded with eth_abi directly, for the oracle's hot paths.

web3.py's ``ContractFunction`` finds the ABI entry, validates and normalises every argument
against the whole contract ABI and runs the middleware stack for each call: about 3 ms of
Python per call here. The oracle reads several values for each of thousands of licences per
round, so it uses these codecs instead: the selector and
types of each function are worked out once, arguments go straight to ``eth_abi.encode``, and
results come back shaped as web3 returns them (tuples for structs, checksummed addresses).

Transactions (the typed clients' writes) still go through web3's contract objects, where a few
milliseconds do not matter. :class:`ContractABI` is the one parsed form of a contract's ABI:
functions, events and errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address


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


@dataclass(frozen=True, slots=True)
class ErrorABI:
    """A custom error: its name, argument types and argument names (``argN`` when unnamed)."""

    name: str
    selector: bytes
    types: tuple[str, ...]
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EventABI:
    """An event, prepared for decoding: topic0, the indexed and the data inputs and their types."""

    name: str
    topic: bytes
    indexed: tuple[tuple[Mapping[str, Any], str], ...]
    data: tuple[Mapping[str, Any], ...]
    data_types: tuple[str, ...]
    order: tuple[str, ...]


class ContractABI:
    """One contract's ABI, parsed once: its functions (by name; the contracts here overload
    none), its events (by name, each with its topic0) and its custom errors (by selector and by name;
    Solidity's built-in Error and Panic are the ErrorDecoder's).

    Every decoder in this package reads from these: :class:`royalty_chain.client.ErrorDecoder`,
    :class:`royalty_chain.events.EventDecoder`, the call codecs of :class:`royalty_chain.client.Chain`
    and the API's named error arguments. A :class:`royalty_chain.manifest.Manifest` parses each of
    its ABIs once (``manifest.abis``).
    """

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.abi = abi
        self.functions: dict[str, FunctionCodec] = {}
        self.events: dict[str, EventABI] = {}
        self.errors: dict[bytes, ErrorABI] = {}
        for item in abi:
            kind = item.get("type")
            if kind == "function":
                name = str(item["name"])
                if name in self.functions:
                    raise ValueError(f"{name} is overloaded; ContractABI looks functions up by name")
                self.functions[name] = FunctionCodec.from_abi(item)
            elif kind == "event" and not item.get("anonymous"):
                event = _event(item)
                self.events[event.name] = event
            elif kind == "error":
                error = error_abi(item)
                self.errors[error.selector] = error
        self._errors_by_name = {e.name: e for e in self.errors.values()}

    def fn(self, name: str) -> FunctionCodec:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"the ABI has no function {name}") from None

    def error(self, name: str) -> ErrorABI | None:
        """The custom error called ``name``, or None."""
        return self._errors_by_name.get(name)


def error_abi(item: Mapping[str, Any]) -> ErrorABI:
    """An ABI ``error`` entry, prepared."""
    inputs = item.get("inputs", [])
    types = tuple(abi_type(i) for i in inputs)
    names = tuple(str(i.get("name") or f"arg{n}") for n, i in enumerate(inputs))
    selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
    return ErrorABI(str(item["name"]), selector, types, names)


def _event(item: Mapping[str, Any]) -> EventABI:
    inputs = item.get("inputs", [])
    types = [abi_type(i) for i in inputs]
    data = tuple(i for i in inputs if not i.get("indexed"))
    return EventABI(
        name=str(item["name"]),
        topic=keccak(text=f"{item['name']}({','.join(types)})"),
        indexed=tuple((i, abi_type(i)) for i in inputs if i.get("indexed")),
        data=data,
        data_types=tuple(abi_type(i) for i in data),
        order=tuple(str(i["name"]) for i in inputs),
    )
