"""Schemathesis over the OpenAPI schema: positive data and every check, in process (ASGI) against
an index seeded with a licence, a settlement and a dispute-capable report (finding F7).

What "the schema and the validators agree" means here, exactly:

- every check schemathesis has runs on every answer (no 5xx, documented status codes, content
  types and headers, responses matching their schemas, ...), including ``positive_data_acceptance``:
  a request the schema calls valid is answered 2xx (or 404 for an id that is not there);
- except where the answer depends on what the schema cannot know, which ``CONFIG`` lists per
  operation: a relayed action needs the parties' real signatures and the contract's consent, a
  dispute needs the licence's licensor or licensee, a statement needs a contract year of the
  licence, a draft a token of this deployment. Those may also answer 422, naming that rule;
- and there, :func:`validators_accept_schema_valid_input` still fails any 422 raised by the
  request validators themselves (a field of ``body``, ``query`` or ``path``): that is the schema
  and the validators disagreeing.

Rules between fields, which the schema states in words but not in JSON Schema (payee shares add
up to 10,000; one of two spellings of a duration; decimal amounts only in "decimal" terms), are
made to hold by :func:`satisfy_cross_field_rules` before sending, each named there (schemathesis
revalidates the edited case, so it is still checked as positive data).

Bounded (``MAX_EXAMPLES`` per operation, fixed seed) to stay well under 90 s.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from apikit import OPERATOR_TOKEN, RELAY_HEADERS, USDX, bucket, chain_time, fund, register, settle, terms_json
from conftest import api_settings
from eth_utils import to_checksum_address
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st

from api.app import create_app
from api.services import Services, build_services
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.soltypes import ADDRESS_FORMAT
from royalty_chain.terms import DAY

# Examples per operation; a deeper run: API_SCHEMA_EXAMPLES=500 API_SCHEMA_SEED=7 pytest this file.
MAX_EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "25"))
SEED = os.environ.get("API_SCHEMA_SEED")  # unset: derandomized (the same cases every run)
AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}", **RELAY_HEADERS}


@st.composite
def _addresses(draw: st.DrawFn) -> str:
    """The ``evm-address`` format: 20 bytes, never all zero, as EIP-55, all lower or all upper case."""
    raw = draw(st.binary(min_size=20, max_size=20).filter(any))
    checksummed = str(to_checksum_address("0x" + raw.hex()))
    return draw(st.sampled_from([checksummed, checksummed.lower(), "0x" + checksummed[2:].upper()]))


schemathesis.openapi.format(ADDRESS_FORMAT, _addresses())


# 422 answers that depend on data the schema cannot know, per operation (see the module docstring).
CONFIG = schemathesis.config.SchemathesisConfig.from_str(
    """
generation.mode = "positive"

[[operations]]
include-name-regex = "^POST /licences(/\\\\{licence_id\\\\}/(amendments|termination|escalation|fixed-rates))?$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # signatures, the contract's rules

[[operations]]
include-name-regex = "^POST /licences/\\\\{licence_id\\\\}/reviews/\\\\{review_id\\\\}/(decline|accept)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # the review's state, signatures

[[operations]]
include-name-regex = "^POST /settlements/\\\\{settlement_id\\\\}/(disputes|resolution)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # signatures, the contract's rules

[[operations]]
include-name-regex = "^POST .*/drafts$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # the deployment's tokens, the parties

[[operations]]
include-name-regex = "^POST /licences/\\\\{licence_id\\\\}/(withdrawals|tax-withdrawals|distributions|deposits/permit)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # nothing to pay, signatures

[[operations]]
include-name-regex = "^POST /claims$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # nothing to pay, signatures

[[operations]]
include-path-regex = "/deposits/transactions$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # the depositor's balance

[[operations]]
include-path-regex = "/statement$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]  # the licence's contract years

[[operations]]
include-path-regex = "^/feeds/uploads"
# The size limit is a setting (413); a chunk must start at the upload's offset (409) and be as long
# as its Content-Range says (400); the SHA-256 must be the feed's (422).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404", "409", "413", "422"]

[[operations]]
include-path-regex = "^/rates$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]  # GET: a currency that is the base has no quotes

[[operations]]
include-path-regex = "^/indices$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]  # POST: a body past its header may be no CSV

[[operations]]
include-path-regex = "^/benchmarks$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]  # POST: a body past its header may be no CSV
"""
)


class SeededApp:
    """The ASGI app the schema is loaded with (so every request of the run, the checks' own probes
    too, goes in process); the ``seeded_app`` fixture plugs in the app it runs against."""

    target: FastAPI | None = None
    licence_id = 0  # the seeded licence

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert self.target is not None, "the seeded_app fixture is not active"
        await self.target(scope, receive, send)


SEEDED = SeededApp()
schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)
schema.app = SEEDED
PERMISSIONLESS = (
    "/licences/{licence_id}/withdrawals",
    "/licences/{licence_id}/tax-withdrawals",
    "/licences/{licence_id}/distributions",
)
VALIDATION_LOCATIONS = re.compile(r"^(body|query|path|header)(\.|$)")


def _whole_units(value: Any) -> Any:
    return value.split(".")[0] if isinstance(value, str) else value


def _schedule_in_units(schedule: Any) -> None:
    if not isinstance(schedule, dict):
        return
    for key in ("fixed_fee_per_period", "per_unit", "minimum_guarantee"):
        if key in schedule:
            schedule[key] = _whole_units(schedule[key])
    for tier in schedule.get("tiers") or []:
        if isinstance(tier, dict) and "threshold" in tier:
            tier["threshold"] = _whole_units(tier["threshold"])


def _one_of(body: dict[str, Any], keep: str, *others: str) -> None:
    """Keep ``keep`` when it is given, else the first given of ``others``; drop the rest."""
    given = [k for k in (keep, *others) if body.get(k) is not None]
    for key in given[1:]:
        body.pop(key)


def _terms_rules(terms: Any) -> None:
    if not isinstance(terms, dict):
        return
    terms["token"] = "USDX"  # "a token symbol of this deployment": which ones is the deployment's
    payees = terms.get("payees")
    if isinstance(payees, list) and payees:  # "shares add up to 10,000"
        for i, payee in enumerate(payees):
            payee["share_bps"] = 10_000 // len(payees) + (10_000 % len(payees) if i == 0 else 0)
    _one_of(terms, "legal_text_hash", "legal_text")  # "exactly one"
    if terms.get("legal_text_hash") is None and terms.get("legal_text") is None:
        terms["legal_text_hash"] = "0x" + "01" * 32
    _one_of(terms, "dispute_window", "dispute_window_days")  # "in seconds or in days, not both"
    _one_of(terms, "cure_period", "cure_days")
    term = terms.get("term")
    if isinstance(term, dict):
        _one_of(term, "period", "period_seconds", "period_days")  # "one of the three"
        period = term.get("period")
        if isinstance(period, dict) and period.get("anniversary") is False and 12 % period.get("months", 1):
            period["anniversary"] = True  # "calendar periods (from 1 January) divide the year"
        if all(term.get(k) is None for k in ("period", "period_seconds", "period_days")):
            term["period_days"] = 30
        if term.get("period") is not None:  # "month-based periods start at 00:00 UTC"
            term["start"] = "2026-01-01"
        reserve, periods = term.get("reserve_bps") or 0, term.get("reserve_periods") or 0
        if reserve == 0 and periods != 0:  # "reserve_periods needs a reserve"
            term["reserve_periods"] = 0
        elif reserve != 0 and periods == 0:  # "a reserve is released after 1..24 periods"
            term["reserve_periods"] = 1
        fx = term.get("fx")
        if isinstance(fx, dict):  # "a source is required unless the rule is none, and absent then"
            if fx.get("rule") == "none":
                fx.pop("source", None)
            elif fx.get("source") is None:
                fx["source"] = "ECB"
    if terms.get("amounts") != "decimal":  # "decimals only in terms that say amounts: decimal"
        terms["advance"] = _whole_units(terms.get("advance", 0))
        _schedule_in_units(terms.get("schedule"))


def satisfy_cross_field_rules(body: Any) -> None:
    """Makes the rules between fields that JSON Schema does not state hold (each one named beside
    it), in every phase (schemathesis' body hooks reach only the generated phase)."""
    if isinstance(body, dict):
        _terms_rules(body.get("terms"))
        if body.get("amounts") != "decimal":
            _schedule_in_units(body.get("schedule"))


def validators_accept_schema_valid_input(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """A 422 raised by the request validators for data the schema calls valid is a disagreement,
    wherever a 422 may otherwise be expected."""
    if response.status_code != 422 or case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    problem = response.json()
    fields = [e.get("field", "") for e in problem.get("errors") or []]
    disagreeing = [f for f in fields if VALIDATION_LOCATIONS.match(f)]
    if problem.get("type") == "/problems/invalid-input" and disagreeing:
        raise AssertionError(f"the validators refuse what the schema allows: {problem['detail']}")
    return None


@pytest.fixture(scope="module")
def seeded_app(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app on an index of its own, with a licence (7-day dispute window), its funding and a
    settled report, indexed before the run (no indexer running during it)."""
    tmp: Path = tmp_path_factory.mktemp("conformance")
    (tmp / "inbox").mkdir()
    Outbox(tmp / "outbox.sqlite").close()  # the oracle's outbox: lines and rates go there
    services: Services = build_services(
        api_settings(chain, tmp, run_indexer=False, oracle_inbox=tmp / "inbox", oracle_outbox=tmp / "outbox.sqlite")
    )
    with TestClient(create_app(services=services), headers=RELAY_HEADERS) as client:
        licence_id = register(client, terms_json(chain, chain_time(chain) - 60 * DAY, dispute_window_days=7))
        fund(chain, licence_id, 1_000 * USDX)
        settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 10, 1_000 * USDX)])
        services.indexer.sync()
    SEEDED.target, SEEDED.licence_id = create_app(services=services), licence_id
    yield SEEDED.target
    SEEDED.target = None
    services.close()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@seed(int(SEED or 0))
def test_api_conforms_to_its_schema(case: schemathesis.Case, seeded_app: FastAPI) -> None:
    satisfy_cross_field_rules(case.body)
    if case.operation.path in PERMISSIONLESS and case.path_parameters:
        # Anyone may withdraw or distribute, so a generated id could pay out another test's licence on the
        # shared chain: these go to the seeded licence, whose settlement is still pending.
        case.path_parameters["licence_id"] = SEEDED.licence_id
    case.call_and_validate(headers=AUTH, additional_checks=[validators_accept_schema_valid_input])


def _expected_statuses() -> dict[str, list[str]]:
    return {
        op.label: schema.config.operations.get_for_operation(op).checks.positive_data_acceptance.expected_statuses
        for op in (result.ok() for result in schema.get_all_operations())
    }


def test_each_exception_applies_to_the_operations_it_names_only() -> None:
    """An ``[[operations]]`` entry's filters are ORed by schemathesis: an entry once naming a path
    regex and ``include-method = "POST"`` gave its statuses to every POST (and the first such entry
    won), so ``POST /feeds`` could answer 422 to valid data unseen and ``POST /feeds/uploads`` lost
    its 413. Each entry now names method and path in one ``include-name-regex``."""
    expected = _expected_statuses()
    default = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
    assert expected["POST /feeds"] == default  # no exception: a valid feed is accepted
    assert expected["GET /licences/{licence_id}"] == default
    assert expected["POST /licences/{licence_id}/fixed-rates"] == ["2xx", "404", "422"]
    assert expected["POST /licences/{licence_id}/distributions"] == ["2xx", "404", "422"]
    assert expected["POST /claims"] == ["2xx", "404", "422"]
    assert expected["POST /feeds/uploads"] == ["2xx", "400", "404", "409", "413", "422"]
    assert expected["POST /rates"] == ["2xx", "422"]
    assert expected["GET /licences/{licence_id}/fixed-rates"] == default
