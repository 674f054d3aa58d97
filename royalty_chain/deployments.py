"""Deployments on record: one manifest per deployment, never overwritten, and a pointer to the current one.

The manifest path everybody loads (``data/deployments/31337.json``, or any ``--manifest`` path)
is the *pointer*: a symbolic link to the deployment's own file next to it,
``<pointer stem>-<deploy block>-<registry address>.json`` (``31337-12-0x5FbD....json``; a
development chain deployed again after a reset has the same block and address, and its file
gets ``-2``, ``-3``, ... after the address). A
deployment's file is created once (exclusively) and never written again; a new deployment gets a
new file and the pointer is moved to it, so every earlier manifest stays as it was. A manifest
written by an earlier release at the pointer's path (a regular file) is renamed to its
deployment's name and pointed at, not rewritten.

A deployment is recognised by the code at its addresses, not by the chain's genesis hash (Anvil
1.7 regenerates its genesis block on some restarts from a state file while keeping every other
block): each contract of the manifest must have code, and the keccak of that code must equal the
hash recorded when it was deployed (a manifest from before code hashes is checked for non-empty
code only).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from eth_utils import keccak

from royalty_chain.manifest import Manifest, ManifestError
from royalty_chain.transport import Transport

CodeReader = Callable[[Sequence[str]], list[bytes]]
"""The runtime code at each of the given addresses (empty bytes: none)."""


class DeploymentNotOnChain(ManifestError):
    """A deployment is on record for this pointer, but the chain does not hold it.

    Nothing is deployed in its place: the caller names the explicit command that deploys afresh."""

    def __init__(self, pointer: Path, record: Path, problems: Sequence[str]) -> None:
        self.pointer = pointer
        self.record = record
        self.problems = list(problems)
        super().__init__(f"the deployment recorded in {record} is not on this chain: {'; '.join(self.problems)}")


def code_hash(code: bytes) -> str:
    return "0x" + keccak(code).hex()


def transport_code_reader(transport: Transport) -> CodeReader:
    """Reads code with one JSON-RPC batch of eth_getCode."""

    def read(addresses: Sequence[str]) -> list[bytes]:
        answers = transport.batch([("eth_getCode", [address, "latest"]) for address in addresses])
        return [bytes.fromhex(str(answer or "0x")[2:]) for answer in answers]

    return read


def code_problems(manifest: Manifest, chain_id: int, read_code: CodeReader) -> list[str]:
    """Why the chain does not hold ``manifest``'s deployment; empty when it does."""
    if manifest.chain_id != chain_id:
        return [f"it is for chain {manifest.chain_id}, the node is chain {chain_id}"]
    names = sorted(manifest.contracts)
    codes = read_code([manifest.contracts[name].address for name in names])
    problems = []
    for name, code in zip(names, codes, strict=True):
        address = manifest.contracts[name].address
        recorded = manifest.code_hashes.get(name)
        if not code:
            problems.append(f"{name} at {address} has no code")
        elif recorded is not None and code_hash(code).lower() != recorded.lower():
            problems.append(f"{name} at {address} has code {code_hash(code)}, not the deployed {recorded}")
    return problems


class Deployments:
    """The deployments recorded next to one pointer path."""

    def __init__(self, pointer: Path) -> None:
        self.pointer = pointer

    def record_path(self, manifest: Manifest, copy: int = 1) -> Path:
        """The file of a deployment (the ``copy``-th with this block and address)."""
        suffix = f"-{copy}" if copy > 1 else ""
        name = f"{self.pointer.stem}-{manifest.deploy_block}-{manifest.registry.address}{suffix}.json"
        return self.pointer.with_name(name)

    def records(self) -> list[Path]:
        """Every deployment's own file, oldest first: by the time it was written (once), then by
        deploy block and copy number (file times are coarse)."""
        self._adopt_legacy()
        found = []
        for path in self.pointer.parent.glob(f"{self.pointer.stem}-*-0x*.json"):
            block, _, rest = path.stem[len(self.pointer.stem) + 1 :].partition("-")
            copy = rest.rpartition("-")[2] if rest.count("-") else "1"
            if block.isdigit() and copy.isdigit() and not path.is_symlink():
                found.append((path.stat().st_mtime_ns, int(block), int(copy), path))
        return [path for *_, path in sorted(found)]

    def current(self) -> Path | None:
        """The deployment file the pointer names (None: no pointer, or one to a missing file)."""
        self._adopt_legacy()
        if not self.pointer.is_symlink():
            return None
        target = self.pointer.parent / os.readlink(self.pointer)
        return target if target.exists() else None

    def on_chain(self, chain_id: int, read_code: CodeReader) -> Manifest | None:
        """The current deployment if the chain holds it; None if none is recorded at all.

        Without a pointer, the newest recorded deployment the chain holds becomes the current
        one. DeploymentNotOnChain when deployments are recorded but the chain holds none of them
        (the current one, or without a pointer any)."""
        current = self.current()
        candidates = [current] if current is not None else list(reversed(self.records()))
        if not candidates:
            return None
        first_problems: list[str] = []
        for record in candidates:
            manifest = Manifest.load(record)
            problems = code_problems(manifest, chain_id, read_code)
            if not problems:
                if current is None:
                    self.point_to(record)
                return manifest
            first_problems = first_problems or problems
        raise DeploymentNotOnChain(self.pointer, candidates[0], first_problems)

    def add(self, manifest: Manifest) -> Path:
        """Writes a new deployment's manifest to its own file (never over an existing one) and
        points the pointer at it."""
        self.pointer.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.pointer.with_name(f".{self.pointer.stem}-new.json.tmp")
        tmp.write_text(manifest.model_dump_json(indent=2))
        try:
            copy = 1
            while True:
                path = self.record_path(manifest, copy)
                try:
                    os.link(tmp, path)  # fails if the file exists: a manifest is never replaced
                    break
                except FileExistsError:
                    copy += 1
        finally:
            tmp.unlink()
        self.point_to(path)
        return path

    def point_to(self, record: Path) -> None:
        """Moves the pointer to ``record`` (atomically: a relative symbolic link renamed into place)."""
        link = self.pointer.with_name(f".{self.pointer.name}.link")
        link.unlink(missing_ok=True)
        link.symlink_to(record.name)
        link.replace(self.pointer)

    def _adopt_legacy(self) -> None:
        """A manifest an earlier release wrote at the pointer's path becomes a record of its own."""
        if self.pointer.is_symlink() or not self.pointer.is_file():
            return
        manifest = Manifest.load(self.pointer)
        copy = 1
        while (record := self.record_path(manifest, copy)).exists():
            copy += 1
        self.pointer.rename(record)
        self.point_to(record)


__all__ = [
    "CodeReader",
    "DeploymentNotOnChain",
    "Deployments",
    "code_hash",
    "code_problems",
    "transport_code_reader",
]
