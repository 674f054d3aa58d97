"""Example licence files (``examples/licences/*.json``) as the demo and the tests read them.

A file is the one terms format (:class:`royalty_chain.spec.TermsIn`) plus what the demo shows
and does (name, kind, summary, a deposit), with development role names ("licensor_brand")
allowed wherever a party is named. Role names resolve to the Anvil development accounts, so this
module belongs to the development tooling, not to the runtime package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_utils import is_address, keccak, to_checksum_address
from pydantic import BaseModel, Field, model_validator

from royalty_chain import units
from royalty_chain.dev.keys import ROLES, role
from royalty_chain.manifest import Manifest
from royalty_chain.spec import EscalationIn, SpecError, TermsIn, _Model, to_terms, token_of
from royalty_chain.terms import Terms


def resolve_address(value: str, where: str) -> str:
    """An address, or the address of a development role (local chains only)."""
    if is_address(value):
        return str(to_checksum_address(value))
    if value in ROLES:
        return str(role(value).address)
    raise SpecError(where, f"{value!r} is neither an address nor a development role")


def resolve_parties(terms: dict[str, Any], resolve: Callable[[str, str], str]) -> dict[str, Any]:
    """A copy of raw terms with every party (licensor, licensee, arbiter, tax account, payees,
    oracles) passed through ``resolve(value, field)``; values that are not strings are kept."""

    def one(value: Any, where: str) -> Any:
        return resolve(value, where) if isinstance(value, str) else value

    out = dict(terms)
    for key in ("licensor", "licensee", "arbiter", "tax_account"):
        if key in out and out[key] is not None:
            out[key] = one(out[key], key)
    if isinstance(out.get("oracles"), list):
        out["oracles"] = [one(o, f"oracles.{i}") for i, o in enumerate(out["oracles"])]
    if isinstance(out.get("payees"), list):
        out["payees"] = [
            {**p, "account": one(p["account"], f"payees.{i}.account")} if isinstance(p, dict) and "account" in p else p
            for i, p in enumerate(out["payees"])
        ]
    return out


def to_units(amount: str, decimals: int, where: str) -> int:
    """Exact decimal string -> integer token units (the one parser); SpecError names ``where``."""
    try:
        return units.parse_amount(amount, decimals)
    except units.AmountError as err:
        raise SpecError(where, f"{amount!r} {err.reason}") from None


class SpecPayee(BaseModel):
    """A payee as an examples file writes it: the account may be a role name."""

    account: str
    share_bps: int


class LicenceSpec(_Model):
    """An examples/licences/*.json file: what the demo shows and does, plus the licence's terms.

    ``terms`` is the one terms format with role names allowed for parties. Two demo defaults
    keep each example one licence, signed as it always was: ``salt`` (when the terms give none)
    derives the terms' salt from the name, and the schedule is effective from the term start.
    """

    name: str
    kind: str = Field(description="trademark, patent, copyright, data set, AI model, ...")
    summary: str = ""
    deposit: str = Field("0", description="demo only: what the licensee deposits into escrow at start")
    salt: str = "0"
    terms: dict[str, Any]
    escalation: EscalationIn | None = Field(
        None, description="an index-linked escalation clause both parties sign after registering (docs/escalation.md)"
    )

    @model_validator(mode="after")
    def _terms_valid(self) -> LicenceSpec:
        self.terms_in()
        return self

    def terms_in(self) -> TermsIn:
        raw = resolve_parties(self.terms, resolve_address)
        raw.setdefault("salt", "0x" + keccak(text=f"{self.name}|{self.salt}").hex())
        # The demo signs its schedules as effective from the term start (the contract's reading).
        schedule, term = raw.get("schedule"), raw.get("term")
        if isinstance(schedule, dict) and isinstance(term, dict) and "start" in term:
            raw["schedule"] = {"effective_from": term["start"], **schedule}
        return TermsIn.model_validate(raw)

    @property
    def licensor(self) -> str:
        return str(self.terms["licensor"])

    @property
    def licensee(self) -> str:
        return str(self.terms["licensee"])

    @property
    def payees(self) -> list[SpecPayee]:
        return [SpecPayee.model_validate(p) for p in self.terms["payees"]]

    def decimals(self, manifest: Manifest) -> int:
        _, decimals = token_of(self.terms_in().token, manifest, "terms.token")
        if decimals is None:
            raise SpecError("terms.token", f"{self.terms_in().token} is not a token of this deployment")
        return decimals

    def to_terms(self, manifest: Manifest) -> Terms:
        return to_terms(self.terms_in(), manifest)

    @classmethod
    def load(cls, path: Path) -> LicenceSpec:
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError) as err:
            raise SpecError(str(path), str(err)) from err
