"""The ISO 4217 currency table: active codes with their minor units (royalty_chain/codes/currencies.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from royalty_chain.codes import CURRENCIES, MAX_MINOR_UNITS, UnknownCodeError, currency_minor_units

ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_4217.json")  # Debian's iso-codes
# ISO 4217 codes without a minor unit: no sale is priced in them.
NO_MINOR_UNIT = {"XAG", "XAU", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD", "XTS", "XXX"}
# Replaced since Debian's iso-codes 4.15 was published (ANG by XCG, ZWL by ZWG, SLL by SLE, HRK by
# EUR) or withdrawn (CUC), and the codes that replaced them.
WITHDRAWN = {"ANG", "CUC", "HRK", "SLL", "ZWL"}
NEWER = {"XCG", "ZWG"}


def test_known_codes_have_their_iso_4217_minor_units() -> None:
    known = {
        "USD": 2, "EUR": 2, "JPY": 0, "GBP": 2, "CHF": 2, "KWD": 3, "BHD": 3, "CLF": 4, "UYW": 4,
        "ISK": 0, "KRW": 0, "VND": 0, "TND": 3, "XOF": 0, "CNY": 2, "INR": 2,
    }  # fmt: skip
    assert {code: CURRENCIES[code] for code in known} == known
    assert currency_minor_units("JPY") == 0 and currency_minor_units("KWD") == 3


def test_every_code_is_three_uppercase_letters_with_a_minor_unit_of_0_to_4() -> None:
    assert 150 <= len(CURRENCIES) <= 180
    assert list(CURRENCIES) == sorted(CURRENCIES)
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in CURRENCIES)
    assert all(type(units) is int and 0 <= units <= MAX_MINOR_UNITS == 4 for units in CURRENCIES.values())
    # Exactly these are counted in whole units (exponent 0)...
    assert sorted(c for c, u in CURRENCIES.items() if u == 0) == [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ]  # fmt: skip
    # ... and these in thousandths (3) or ten-thousandths (4: the Chilean and Uruguayan indexed units).
    assert sorted(c for c, u in CURRENCIES.items() if u > 2) == [
        "BHD", "CLF", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", "UYW",
    ]  # fmt: skip


def test_codes_without_a_minor_unit_and_withdrawn_ones_are_not_in_the_table() -> None:
    for code in (*NO_MINOR_UNIT, *WITHDRAWN, "usd", "EU", "EURO", "DEM", "VEF", "MRO"):
        assert code not in CURRENCIES
        with pytest.raises(UnknownCodeError, match=f"unknown currency code '{code}'"):
            currency_minor_units(code)


@pytest.mark.skipif(not ISO_CODES_JSON.exists(), reason="Debian iso-codes not installed")
def test_the_table_agrees_with_debian_iso_codes() -> None:
    debian = {entry["alpha_3"] for entry in json.loads(ISO_CODES_JSON.read_text(encoding="utf-8"))["4217"]}

    # Subsets, so that a newer iso-codes (with XCG and ZWG, without ANG...) passes too.
    assert set(CURRENCIES) - debian <= NEWER
    assert debian - set(CURRENCIES) - NO_MINOR_UNIT <= WITHDRAWN
