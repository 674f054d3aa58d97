"""Deployments on record: one manifest file each, never overwritten, recognised by their code.

The chain is a dictionary of addresses to code here (royalty_chain.deployments reads code only
through a CodeReader), so every rule is checked without a node; tests/python/e2e/test_chain_history.py
does the same on real chains.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from royalty_chain.deployments import DeploymentNotOnChain, Deployments, code_hash
from royalty_chain.manifest import DeployedContract, Manifest, ManifestError

REGISTRY, LEDGER = "0x" + "11" * 20, "0x" + "22" * 20
CODE = {REGISTRY: b"\x60\x80registry", LEDGER: b"\x60\x80ledger"}


def _manifest(block: int = 5, registry: str = REGISTRY, genesis: str = "0x" + "aa" * 32, **extra: object) -> Manifest:
    contracts = {
        "LicenceRegistry": DeployedContract(address=registry, abi=[]),
        "RoyaltyLedger": DeployedContract(address=LEDGER, abi=[]),
    }
    values: dict[str, object] = dict(
        chain_id=31337,
        genesis_hash=genesis,
        deploy_block=block,
        deployer="0x" + "33" * 20,
        network="local",
        contracts=contracts,
        code_hashes={"LicenceRegistry": code_hash(CODE[REGISTRY]), "RoyaltyLedger": code_hash(CODE[LEDGER])},
    )
    values.update(extra)
    return Manifest.model_validate(values)


def _chain(code: dict[str, bytes]) -> object:
    def read(addresses: Sequence[str]) -> list[bytes]:
        return [code.get(address, b"") for address in addresses]

    return read


def test_a_deployment_is_recognised_by_the_code_at_its_addresses_whatever_the_genesis_hash(tmp_path: Path) -> None:
    pointer = tmp_path / "31337.json"
    deployments = Deployments(pointer)
    record = deployments.add(_manifest(genesis="0x" + "aa" * 32))

    # Anvil restarted from its state file with a regenerated block 0: the code is what counts.
    found = deployments.on_chain(31337, _chain(CODE))  # type: ignore[arg-type]

    assert found == Manifest.load(record)
    assert pointer.is_symlink() and pointer.resolve() == record
    assert record.name == f"31337-5-{REGISTRY}.json"


def test_a_manifest_is_never_overwritten_and_the_pointer_moves_to_the_newest(tmp_path: Path) -> None:
    pointer = tmp_path / "31337.json"
    deployments = Deployments(pointer)
    first = deployments.add(_manifest())
    content = first.read_bytes()

    # The same block and address again: a development chain reset and deployed again.
    second = deployments.add(_manifest(network="again"))
    third = deployments.add(_manifest(block=9))

    assert first.read_bytes() == content
    assert [p.name for p in deployments.records()] == [first.name, f"31337-5-{REGISTRY}-2.json", third.name]
    assert second.name == f"31337-5-{REGISTRY}-2.json"
    assert pointer.resolve() == third
    assert Manifest.load(pointer).deploy_block == 9


def test_a_deployment_the_chain_does_not_hold_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    deployments = Deployments(tmp_path / "31337.json")
    record = deployments.add(_manifest())
    other = {REGISTRY: CODE[REGISTRY]}  # the ledger's address holds nothing

    with pytest.raises(DeploymentNotOnChain) as refused:
        deployments.on_chain(31337, _chain(other))  # type: ignore[arg-type]
    assert refused.value.record == record
    assert refused.value.problems == [f"RoyaltyLedger at {LEDGER} has no code"]

    changed = {**CODE, REGISTRY: b"\x60\x80something else"}
    with pytest.raises(DeploymentNotOnChain) as refused:
        deployments.on_chain(31337, _chain(changed))  # type: ignore[arg-type]
    assert refused.value.problems == [
        f"LicenceRegistry at {REGISTRY} has code {code_hash(changed[REGISTRY])}, not the deployed "
        f"{code_hash(CODE[REGISTRY])}"
    ]
    with pytest.raises(DeploymentNotOnChain, match="it is for chain 31337, the node is chain 1337"):
        deployments.on_chain(1337, _chain(CODE))  # type: ignore[arg-type]


def test_no_deployment_on_record_is_none_and_a_record_without_a_pointer_is_found_again(tmp_path: Path) -> None:
    pointer = tmp_path / "31337.json"
    deployments = Deployments(pointer)
    assert deployments.on_chain(31337, _chain({})) is None  # type: ignore[arg-type]

    gone = deployments.add(_manifest(registry="0x" + "44" * 20))  # its code is not on the chain below
    live = deployments.add(_manifest(block=7))
    pointer.unlink()

    assert deployments.on_chain(31337, _chain(CODE)) == Manifest.load(live)  # type: ignore[arg-type]
    assert pointer.resolve() == live and gone.exists()


def test_a_manifest_written_by_an_earlier_release_becomes_a_record_unchanged(tmp_path: Path) -> None:
    pointer = tmp_path / "31337.json"
    legacy = _manifest(code_hashes={})  # before code hashes: non-empty code is what is checked
    legacy.save(pointer)
    content = pointer.read_bytes()

    found = Deployments(pointer).on_chain(31337, _chain(CODE))  # type: ignore[arg-type]

    record = tmp_path / f"31337-5-{REGISTRY}.json"
    assert found == legacy
    assert pointer.is_symlink() and os.readlink(pointer) == record.name
    assert record.read_bytes() == content
    with pytest.raises(DeploymentNotOnChain, match="has no code"):
        Deployments(pointer).on_chain(31337, _chain({REGISTRY: CODE[REGISTRY]}))  # type: ignore[arg-type]


def test_the_pointer_is_never_taken_for_a_record(tmp_path: Path) -> None:
    pointer = tmp_path / "31337.json"
    deployments = Deployments(pointer)
    deployments.add(_manifest())
    assert all(not path.is_symlink() for path in deployments.records())
    assert isinstance(DeploymentNotOnChain(pointer, pointer, ["x"]), ManifestError)
