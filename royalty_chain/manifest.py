"""The deployment manifest: which chain, which addresses, from which block, with which ABIs.

`ape run deploy` writes it; the oracle, the API, the scripts and the tests load it, so none of
them needs ape or the build folder at run time. Each deployment has a manifest of its own, never
rewritten, and is recognised on a chain by the code at its addresses (``code_hashes``; see
:mod:`royalty_chain.deployments`). The genesis hash is kept as information only: Anvil can
regenerate its genesis block on a restart that keeps every other block.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from royalty_chain.abicodec import ContractABI

DEFAULT_DATA_DIR = Path(os.environ.get("ROYALTY_DATA_DIR", "data"))


class ManifestError(Exception):
    """The manifest is missing, unreadable or does not match the chain."""


class DeployedContract(BaseModel):
    address: str
    abi: list[dict[str, Any]]


class TokenInfo(BaseModel):
    address: str
    symbol: str
    decimals: int
    currency: str = Field(description="ISO 4217 code of the currency the token stands for")


class Manifest(BaseModel):
    chain_id: int
    genesis_hash: str
    deploy_block: int
    deployer: str
    network: str
    contracts: dict[str, DeployedContract]
    tokens: dict[str, TokenInfo] = Field(default_factory=dict)
    code_hashes: dict[str, str] = Field(
        default_factory=dict, description="keccak of each contract's runtime code when it was deployed"
    )

    @cached_property
    def abis(self) -> dict[str, ContractABI]:
        """Each contract's ABI, parsed once for every decoder built on this manifest."""
        return {name: ContractABI(c.abi) for name, c in self.contracts.items()}

    @property
    def registry(self) -> DeployedContract:
        return self.contracts["LicenceRegistry"]

    @property
    def ledger(self) -> DeployedContract:
        return self.contracts["RoyaltyLedger"]

    def token(self, symbol: str) -> TokenInfo:
        try:
            return self.tokens[symbol]
        except KeyError as err:
            raise ManifestError(f"token {symbol!r} is not in the manifest") from err

    def token_by_address(self, address: str) -> TokenInfo | None:
        for info in self.tokens.values():
            if info.address.lower() == address.lower():
                return info
        return None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.model_dump(mode="json"), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            return cls.model_validate_json(path.read_text())
        except FileNotFoundError as err:
            raise ManifestError(
                f"no deployment manifest at {path}: deploy first (ape run deploy, or make run)"
            ) from err
        except ValueError as err:
            raise ManifestError(f"deployment manifest {path} is not valid: {err}") from err


def manifest_path(chain_id: int, data_dir: Path = DEFAULT_DATA_DIR) -> Path:
    return data_dir / "deployments" / f"{chain_id}.json"
