"""The one terms format: human and exact forms give the same Terms; bad values name their field.

Pure: a manifest built in memory, no chain. The API side is in tests/python/api/test_terms_api.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address
from pydantic import ValidationError

from intake import errors as intake_errors
from intake import money
from royalty_chain import units
from royalty_chain.codes import encode_scope, field_index
from royalty_chain.dev.keys import role
from royalty_chain.dev.licence_files import LicenceSpec, resolve_address, resolve_parties, to_units
from royalty_chain.manifest import Manifest, TokenInfo
from royalty_chain.spec import SpecError, TermsIn, to_terms
from royalty_chain.terms import DAY, Calendar, FieldRate, Payee, Schedule, Term, Terms, Tier

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "licences"
USDX = "0x" + "ab" * 20
MANIFEST = Manifest(
    chain_id=31337,
    genesis_hash="0x00",
    deploy_block=0,
    deployer="0x00",
    network="local",
    contracts={},
    tokens={"USDX": TokenInfo(address=USDX, symbol="USDX", decimals=6, currency="USD")},
)
JAN_2025 = 1_735_689_600  # 2025-01-01 00:00 UTC
JAN_2030 = 1_893_456_000
LEGAL = "Patent licence: cell separator. Marginal tiers; minimum annual royalty; advance."


def _address(name: str) -> str:
    return str(role(name).address)


def human() -> dict[str, Any]:
    """A patent licence as a person writes it: decimals, dates, days, the legal text, payees unsorted."""
    return {
        "amounts": "decimal",
        "licensor": _address("licensor_patent"),
        "licensee": _address("licensee_devices"),
        "legal_text": LEGAL,
        "asset_ids": [11222333],
        "scope": {"territories": ["us", "DE"], "fields": ["automotive"], "channels": ["oem"]},
        "term": {"start": "2025-01-01", "end": "2030-01-01", "sell_off_days": 180, "period_days": 90},
        "token": "USDX",
        "advance": "20000.00",
        "schedule": {
            "per_unit": "0.002",
            "minimum_guarantee": 150000,
            "tiers": [{"threshold": "0", "rate_bps": 300}, {"threshold": "1000000.5", "rate_bps": 450}],
            "field_rates": [{"field": "automotive", "rate_bps": 500}],
        },
        "payees": [
            {"account": _address("licensor_patent"), "share_bps": 6000},
            {"account": _address("co_inventor"), "share_bps": 4000},
        ],
        "oracles": [_address("oracle1"), _address("oracle2")],
        "threshold": 2,
        "dispute_window_days": 7,
        "arbiter": _address("arbiter"),
        "cure_days": 45,
    }


def exact() -> dict[str, Any]:
    """The same licence in the exact form: token units, unix seconds, seconds, the text's hash."""
    return {
        "licensor": _address("licensor_patent"),
        "licensee": _address("licensee_devices"),
        "legal_text_hash": "0x" + keccak(text=LEGAL).hex(),
        "asset_ids": ["11222333"],
        "scope": {"territories": ["US", "DE"], "fields": ["automotive"], "channels": ["oem"]},
        "term": {"start": JAN_2025, "end": JAN_2030, "sell_off_days": 180, "period_seconds": 7_776_000},
        "token": USDX,
        "advance": 20_000_000_000,
        "schedule": {
            "per_unit": "2000",
            "minimum_guarantee": "150000000000",
            "tiers": [{"threshold": 0, "rate_bps": 300}, {"threshold": "1000000500000", "rate_bps": 450}],
            "field_rates": [{"field": "automotive", "rate_bps": 500}],
        },
        "payees": [
            {"account": _address("co_inventor"), "share_bps": 4000},
            {"account": _address("licensor_patent"), "share_bps": 6000},
        ],
        "oracles": [_address("oracle1"), _address("oracle2")],
        "threshold": 2,
        "dispute_window": 7 * DAY,
        "arbiter": _address("arbiter"),
        "cure_period": 45 * DAY,
    }


def _terms(doc: dict[str, Any]) -> Terms:
    return to_terms(TermsIn.model_validate(doc), MANIFEST)


def test_human_and_exact_forms_give_identical_terms() -> None:
    from_human, from_exact = _terms(human()), _terms(exact())
    assert from_human == from_exact
    assert from_human.as_abi() == from_exact.as_abi()
    expected = Terms(
        licensor=_address("licensor_patent"),
        licensee=_address("licensee_devices"),
        legal_text_hash=keccak(text=LEGAL),
        asset_ids=(11_222_333,),
        scope=encode_scope(["US", "DE"], ["automotive"], ["oem"]),
        term=Term(start=JAN_2025, end=JAN_2030, sell_off_days=180, period_seconds=90 * DAY),
        token=to_checksum_address(USDX),
        schedule=Schedule(
            effective_from=0,
            per_unit=2_000,
            minimum_guarantee=150_000_000_000,
            tiers=(Tier(0, 300), Tier(1_000_000_500_000, 450)),
            field_rates=(FieldRate(field_index("automotive"), 500),),
        ),
        payees=(Payee(_address("licensor_patent"), 6000), Payee(_address("co_inventor"), 4000)),
        oracles=(_address("oracle1"), _address("oracle2")),
        threshold=2,
        arbiter=_address("arbiter"),
        advance=20_000_000_000,
        dispute_window=7 * DAY,
        cure_period=45 * DAY,
    )
    assert from_human == expected
    # Payees come out ascending by address, whatever order they were written in.
    assert [int(p.account, 16) for p in from_human.payees] == sorted(int(p.account, 16) for p in from_human.payees)


def test_forms_mix_field_by_field() -> None:
    doc = exact()
    doc["term"] = {"start": "2025-01-01", "end": JAN_2030, "sell_off_days": 180, "period_days": 90}
    doc["legal_text"], doc["cure_days"] = LEGAL, 45
    del doc["legal_text_hash"], doc["cure_period"]
    assert _terms(doc) == _terms(exact())


def test_defaults_of_the_exact_form_are_kept() -> None:
    doc = exact()
    del doc["dispute_window"], doc["cure_period"]
    terms = _terms(doc)
    assert (terms.dispute_window, terms.cure_period, terms.tax_bps, terms.salt) == (0, 30 * DAY, 0, b"\0" * 32)


def _error(doc: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        TermsIn.model_validate(doc)
    first = caught.value.errors()[0]
    return first["loc"], first["msg"]


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return doc


def test_too_many_decimals_for_the_token_names_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        _terms(_set(human(), "schedule.tiers.1.threshold", "1000000.0000005"))
    assert caught.value.field == "terms.schedule.tiers.1.threshold"
    assert caught.value.reason == "'1000000.0000005' has 7 decimals; at most 6 allowed (the token has 6)"
    # Trailing zeros beyond the token's decimals are exact, so they are accepted.
    assert _terms(_set(human(), "advance", "20000.00000000")).advance == 20_000_000_000


@pytest.mark.parametrize(
    ("doc", "loc", "message"),
    [
        (_set(human(), "advance", "-5"), ("advance",), "'-5' is negative"),
        (_set(human(), "schedule.per_unit", "1e3"), ("schedule", "per_unit"), "'1e3' is not a decimal number"),
        (_set(human(), "advance", 20000.5), ("advance",), "never a JSON float"),
        (_set(exact(), "advance", "-5"), ("advance",), "must be a non-negative integer"),
        (_set(exact(), "schedule.per_unit", "0.002"), ("schedule", "per_unit"), '"amounts": "decimal"'),
        (_set(human(), "scope.territories", ["US", "XX"]), ("scope", "territories"), "unknown territory code 'XX'"),
        (_set(human(), "payees.1.share_bps", 3000), ("payees",), "shares add up to 9000 basis points"),
        (_set(exact(), "legal_text", LEGAL), (), "give legal_text_hash or legal_text (exactly one)"),
        (_set(human(), "term.period_seconds", 86_400), ("term",), "give period_seconds or period_days, not both"),
        (_set(human(), "cure_days", 50_000), (), "50000 days do not fit uint32 seconds"),
        (_set(human(), "amounts", "cents"), ("amounts",), "'units' or 'decimal'"),
    ],
)
def test_bad_values_name_the_field(doc: dict[str, Any], loc: tuple[str, ...], message: str) -> None:
    where, msg = _error(doc)
    assert where == loc
    assert message in msg


def test_decimal_amounts_need_a_token_of_the_deployment() -> None:
    with pytest.raises(SpecError) as caught:
        _terms(_set(human(), "token", "0x" + "cd" * 20))
    assert caught.value.field == "terms.token"
    assert caught.value.reason == "is not a token of this deployment, so decimal amounts cannot be read"
    # Exact amounts do not: an unknown token is the contract's to refuse.
    assert _terms(_set(exact(), "token", "0x" + "cd" * 20)).advance == 20_000_000_000


def test_the_example_files_are_the_one_format() -> None:
    specs = {path.stem: LicenceSpec.load(path) for path in sorted(EXAMPLES.glob("*.json"))}
    assert set(specs) == {
        "acme-trademark",
        "atelier-design",
        "geodata-dataset",
        "lumen-model",
        "northwind-audio",
        "voltcell-patent",
    }
    acme = specs["acme-trademark"]
    terms = acme.to_terms(MANIFEST)
    assert terms.licensor == _address("licensor_brand")
    assert terms.schedule == Schedule(effective_from=JAN_2025, rate_bps=400)
    # Calendar quarters, contract years from 1 January, due 30 days after each quarter, 12% a year
    # on late payment (examples/licences/acme-trademark.json).
    assert terms.term == Term(
        start=JAN_2025,
        end=1_798_761_600,
        sell_off_days=180,
        period_seconds=0,
        calendar=Calendar(period_months=3, anniversary=False, year_month=1, year_day=1, due_days=30, interest_bps=1200),
    )
    assert terms.salt == keccak(text="Acme trademark licence|0")
    assert terms.oracles == (_address("oracle1"), _address("oracle2"), _address("oracle3"))
    assert to_units(acme.deposit, acme.decimals(MANIFEST), "deposit") == 5_000_000_000
    volt = specs["voltcell-patent"].to_terms(MANIFEST)
    assert volt.advance == 20_000_000_000
    assert volt.schedule.tiers == (Tier(0, 300), Tier(1_000_000_000_000, 450), Tier(3_000_000_000_000, 600))
    assert specs["lumen-model"].to_terms(MANIFEST).schedule.per_unit == 2_000
    # The same terms, with role names resolved, are what the API takes.
    raw = resolve_parties(specs["geodata-dataset"].terms, resolve_address)
    assert to_terms(TermsIn.model_validate(raw), MANIFEST).payees == specs["geodata-dataset"].to_terms(MANIFEST).payees


def test_one_decimal_parser_everywhere() -> None:
    # The demo's parser used to be Decimal(), which took exponents and signs the feeds refuse.
    with pytest.raises(SpecError, match=r"^deposit: '1e3' is not a decimal number$"):
        to_units("1e3", 6, "deposit")
    with pytest.raises(SpecError, match=r"^deposit: '\+5' is not a decimal number$"):
        to_units("+5", 6, "deposit")
    assert to_units("5000.00", 6, "deposit") == units.parse_amount("5000.00", 6) == 5_000_000_000
    # The intake keeps its own error type, with the same reason.
    with pytest.raises(intake_errors.AmountError) as caught:
        money.parse_amount("1.1234567", 6)
    assert caught.value.reason == "has 7 decimals; at most 6 allowed"
    with pytest.raises(units.AmountError) as same:
        units.parse_amount("1.1234567", 6)
    assert same.value.reason == caught.value.reason


def test_the_conversion_clause_is_part_of_the_calendar() -> None:
    """``term.fx`` names the rule and the source of the rates; absent (or rule none) converts nothing."""
    plain = _terms(human())
    assert (plain.term.calendar.fx_rule, plain.term.calendar.fx_source) == (0, "")
    assert plain.term.calendar.as_abi()[-2:] == (0, bytes(16))
    assert _terms(_set(human(), "term.fx", {"rule": "none"})) == plain
    assert _terms(_set(human(), "term.fx", {"rule": "none", "source": None})) == plain
    for number, rule in enumerate(("period-average", "period-end", "sale-date"), start=1):
        terms = _terms(_set(human(), "term.fx", {"rule": rule, "source": "ECB"}))
        assert (terms.term.calendar.fx_rule, terms.term.calendar.fx_source) == (number, "ECB")
        assert terms.term.calendar.as_abi()[-2:] == (number, b"ECB" + bytes(13))  # bytes16, right-padded
        assert terms != plain
    # Fixed contractual rates: rule 4, its source "contract" unless the terms name the agreement.
    fixed = _terms(_set(human(), "term.fx", {"rule": "fixed"}))
    assert fixed.term.calendar.as_abi()[-2:] == (4, b"contract" + bytes(8))
    named = _terms(_set(human(), "term.fx", {"rule": "fixed", "source": "SCHEDULE-B"}))
    assert named.term.calendar.as_abi()[-2:] == (4, b"SCHEDULE-B" + bytes(6))
    longest = _terms(_set(exact(), "term.fx", {"rule": "sale-date", "source": "A" * 15 + "~"}))
    assert longest.term.calendar.as_abi()[-1] == b"A" * 15 + b"~"


@pytest.mark.parametrize(
    ("fx", "loc", "message"),
    [
        ({"rule": "spot", "source": "ECB"}, ("term", "fx", "rule"), "'spot' is not a conversion rule: use \"none\""),
        ({"rule": "period-end"}, ("term", "fx", "source"), 'rule "period-end" needs a source'),
        ({"rule": "sale-date", "source": None}, ("term", "fx", "source"), 'rule "sale-date" needs a source'),
        ({"rule": "none", "source": "ECB"}, ("term", "fx", "source"), 'rule "none" converts nothing'),
        ({"rule": "period-average", "source": ""}, ("term", "fx", "source"), "source '' is empty"),
        ({"rule": "period-average", "source": "A" * 17}, ("term", "fx", "source"), "longer than 16 characters"),
        ({"rule": "period-average", "source": "E C B"}, ("term", "fx", "source"), "printable ASCII without spaces"),
        ({"rule": "period-average", "source": "EZB\u00e9"}, ("term", "fx", "source"), "printable ASCII"),
        ({"rule": "period-average", "source": "ECB", "rate": 1}, ("term", "fx", "rate"), "Extra inputs"),
        ({"source": "ECB"}, ("term", "fx", "rule"), "Field required"),
    ],
)
def test_a_bad_conversion_clause_names_its_field(fx: dict[str, Any], loc: tuple[str, ...], message: str) -> None:
    where, msg = _error(_set(human(), "term.fx", fx))
    assert where == loc
    assert message in msg
