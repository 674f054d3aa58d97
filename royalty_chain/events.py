"""Decoding the contracts' event logs into plain, JSON-able values.

Shared by the API's indexer and the tests. A log as ``eth_getLogs`` returns it (hex strings) or as
web3 returns it (bytes/HexBytes) becomes a :class:`ChainEvent` whose ``args`` hold only ints,
bools, checksum address strings, ``0x`` hex strings for bytes, lists and dicts keyed by the ABI's
component names; ``json.dumps``/``json.loads`` round-trips them exactly (Python's json keeps big
integers exact). Decoding uses eth-abi directly with the types prepared once per event, which is
an order of magnitude faster than web3's event processing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from royalty_chain.abicodec import ContractABI, EventABI
from royalty_chain.codes import Scope
from royalty_chain.manifest import Manifest
from royalty_chain.terms import Calendar, FieldRate, Payee, Schedule, Term, Terms, Tier


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """One decoded log of a known contract."""

    name: str
    contract: str
    block_number: int
    block_hash: str
    block_timestamp: int | None
    log_index: int
    tx_hash: str
    args: dict[str, Any]


class EventDecodeError(ValueError):
    """A log of a watched contract whose data does not match the event's ABI."""


def _plain(item: Mapping[str, Any], value: Any) -> Any:
    """An eth-abi value as plain JSON-able data, named by the ABI item's components."""
    kind = str(item["type"])
    if kind.endswith("]"):
        element = dict(item)
        element["type"] = kind[: kind.rindex("[")]
        return [_plain(element, v) for v in value]
    if kind == "tuple":
        return {c["name"]: _plain(c, v) for c, v in zip(item["components"], value, strict=True)}
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    return bytes(value)


def _to_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(value, 16) if isinstance(value, str) else int.from_bytes(bytes(value), "big")


def _hex(value: Any) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


@dataclass(frozen=True, slots=True)
class _Watched:
    contract: str
    event: EventABI


class EventDecoder:
    """Decodes the events of the given contracts (name -> (address, parsed ABI))."""

    def __init__(self, contracts: Mapping[str, tuple[str, ContractABI]]) -> None:
        self._specs: dict[tuple[str, bytes], _Watched] = {}
        self.addresses: list[str] = []
        for name, (address, abi) in contracts.items():
            checksum = to_checksum_address(address)
            self.addresses.append(checksum)
            for event in abi.events.values():
                self._specs[(checksum.lower(), event.topic)] = _Watched(name, event)

    @classmethod
    def from_manifest(
        cls,
        manifest: Manifest,
        names: Iterable[str] = ("LicenceRegistry", "RoyaltyLedger", "LicenceEscalator", "LicenceReviews", "LicenceFx"),
    ) -> EventDecoder:
        """The events of the manifest's contracts, from the manifest's parsed ABIs (a contract the
        deployment does not have, like the escalator of an older one, is left out)."""
        return cls({n: (manifest.contracts[n].address, manifest.abis[n]) for n in names if n in manifest.contracts})

    def topic(self, name: str) -> str:
        """topic0 of the watched event called ``name``; raises KeyError."""
        for (_, topic), watched in self._specs.items():
            if watched.event.name == name:
                return "0x" + topic.hex()
        raise KeyError(f"no watched event {name!r}")

    def topics(self) -> list[str]:
        """topic0 of every event of the watched contracts."""
        return sorted({"0x" + topic.hex() for _, topic in self._specs})

    def decode(self, log: Mapping[str, Any]) -> ChainEvent | None:
        """The decoded event, or None for a log that is not an event of a watched contract."""
        topics = log.get("topics") or []
        if not topics:
            return None
        watched = self._specs.get((str(log["address"]).lower(), _to_bytes(topics[0])))
        if watched is None:
            return None
        spec = watched.event
        if len(topics) != len(spec.indexed) + 1:
            raise EventDecodeError(f"{spec.name}: {len(topics) - 1} indexed topics, expected {len(spec.indexed)}")
        args: dict[str, Any] = {}
        try:
            for (item, kind), topic in zip(spec.indexed, topics[1:], strict=True):
                (value,) = abi_decode([kind], _to_bytes(topic))
                args[item["name"]] = _plain(item, value)
            values = abi_decode(list(spec.data_types), _to_bytes(log.get("data") or b""))
        except Exception as err:  # eth-abi raises several unrelated types
            raise EventDecodeError(f"{spec.name}: {err}") from err
        for item, value in zip(spec.data, values, strict=True):
            args[item["name"]] = _plain(item, value)
        timestamp = log.get("blockTimestamp")
        return ChainEvent(
            name=spec.name,
            contract=watched.contract,
            block_number=_to_int(log["blockNumber"]),
            block_hash=_hex(log["blockHash"]),
            block_timestamp=None if timestamp is None else _to_int(timestamp),
            log_index=_to_int(log["logIndex"]),
            tx_hash=_hex(log["transactionHash"]),
            args={name: args[name] for name in spec.order},
        )


def schedule_from_event(value: Mapping[str, Any]) -> Schedule:
    """A Schedule from the plain form of an event's Schedule tuple."""
    return Schedule(
        effective_from=int(value["effectiveFrom"]),
        fixed_fee_per_period=int(value["fixedFeePerPeriod"]),
        rate_bps=int(value["rateBps"]),
        per_unit=int(value["perUnit"]),
        minimum_guarantee=int(value["minimumGuarantee"]),
        tiers=tuple(Tier(int(t["threshold"]), int(t["rateBps"])) for t in value["tiers"]),
        field_rates=tuple(FieldRate(int(f["field"]), int(f["rateBps"])) for f in value["fieldRates"]),
    )


def calendar_from_event(value: Mapping[str, Any]) -> Calendar:
    return Calendar.from_abi(value)


def terms_from_event(value: Mapping[str, Any]) -> Terms:
    """The Terms of a LicenceRegistered event (its plain form), as both parties signed them."""
    scope = value["scope"]
    term = value["term"]
    return Terms(
        licensor=value["licensor"],
        licensee=value["licensee"],
        legal_text_hash=_to_bytes(value["legalTextHash"]),
        asset_ids=tuple(int(a) for a in value["assetIds"]),
        scope=Scope(int(scope["territories"]), int(scope["fields"]), int(scope["channels"])),
        term=Term(
            int(term["start"]),
            int(term["end"]),
            int(term["sellOffDays"]),
            int(term["periodSeconds"]),
            calendar_from_event(term["calendar"]),
        ),
        token=value["token"],
        schedule=schedule_from_event(value["schedule"]),
        payees=tuple(Payee(p["account"], int(p["shareBps"])) for p in value["payees"]),
        oracles=tuple(value["oracles"]),
        threshold=int(value["threshold"]),
        arbiter=value["arbiter"],
        advance=int(value["advance"]),
        tax_bps=int(value["taxBps"]),
        tax_account=value["taxAccount"],
        dispute_window=int(value["disputeWindow"]),
        cure_period=int(value["curePeriod"]),
        salt=_to_bytes(value["salt"]),
    )


__all__ = ["ChainEvent", "EventDecodeError", "EventDecoder", "schedule_from_event", "terms_from_event"]
