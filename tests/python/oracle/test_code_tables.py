"""The published code tables: exact contents, append-only indexes, scope bitmaps."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from royalty_chain.codes import (
    CHANNELS,
    FIELDS,
    TERRITORIES,
    Scope,
    UnknownCodeError,
    channel_code,
    channel_index,
    encode_scope,
    field_code,
    field_index,
    scope_contains,
    territory_code,
    territory_index,
)

ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_3166-1.json")  # Debian's iso-codes


def _digest(codes: tuple[str, ...]) -> str:
    return hashlib.sha256(json.dumps(list(codes)).encode()).hexdigest()


def test_territories_are_the_249_officially_assigned_iso_3166_1_codes() -> None:
    codes = TERRITORIES.codes

    assert len(codes) == 249
    assert list(codes) == sorted(codes)
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in codes)
    for code in ("US", "GB", "DE", "FR", "JP", "CN", "BR", "IN", "AQ", "SS", "BQ", "CW", "SX"):
        assert code in codes
    for code in ("XK", "UK", "EU", "EL", "AN", "YU"):  # user-assigned, reserved or withdrawn
        assert code not in codes


@pytest.mark.skipif(not ISO_CODES_JSON.exists(), reason="Debian iso-codes not installed")
def test_territories_match_debian_iso_codes() -> None:
    data = json.loads(ISO_CODES_JSON.read_text(encoding="utf-8"))["3166-1"]

    assert set(TERRITORIES.codes) == {entry["alpha_2"] for entry in data}


def test_fields_and_channels_are_the_published_lists() -> None:
    assert FIELDS.codes[:5] == ("general", "consumer-products", "apparel", "toys", "food-beverage")
    assert FIELDS.codes[-1] == "retail-display"
    assert len(FIELDS) == 30
    assert CHANNELS.codes == (
        "retail",
        "online",
        "wholesale",
        "direct",
        "subscription",
        "api",
        "oem",
        "distributor",
        "broadcast",
        "streaming",
        "licensing-out",
    )
    for code in FIELDS.codes + CHANNELS.codes:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code), code


def test_indexes_are_pinned() -> None:
    # Positions licences on chain rely on: changing any of these is a breaking change.
    assert (territory_index("AD"), territory_index("US"), territory_index("ZW")) == (0, 232, 248)
    assert (territory_index("GB"), territory_index("DE")) == (76, 56)
    assert (field_index("general"), field_index("software"), field_index("model-training")) == (
        0,
        10,
        12,
    )
    assert (channel_index("retail"), channel_index("online"), channel_index("api")) == (0, 1, 5)


def test_published_prefixes_never_change() -> None:
    # Licences on chain depend on these positions. Appending a code keeps each digest (it
    # covers only the codes published so far); any other edit changes it and fails on purpose.
    assert _digest(TERRITORIES.codes[:249]) == ("a4153443b0b3507bb8ac7eccf443dd635be6ba20bb80b3f1a0fc84c2b66d9b42")
    assert _digest(FIELDS.codes[:30]) == ("30369f2e828789ff1e88e8b5ddf743b9a659e730319ffd0909d4278154bd1f42")
    assert _digest(CHANNELS.codes[:11]) == ("ee72c4e31a0037eb288aece4f7e9bc1d03b014cb00d32024f46471667f9cddaf")


def test_tables_fit_their_bitmaps() -> None:
    assert (TERRITORIES.width, FIELDS.width, CHANNELS.width) == (256, 64, 32)
    assert len(TERRITORIES) <= 256 and len(FIELDS) <= 64 and len(CHANNELS) <= 32


def test_codes_and_indexes_round_trip() -> None:
    for table in (TERRITORIES, FIELDS, CHANNELS):
        for i, code in enumerate(table.codes):
            assert table.index(code) == i and table.code(i) == code
    assert territory_code(232) == "US"
    assert field_code(12) == "model-training"
    assert channel_code(5) == "api"


@pytest.mark.parametrize(
    ("call", "table", "code", "message"),
    [
        (lambda: territory_index("XK"), "territory", "XK", "unknown territory code 'XK'"),
        (lambda: territory_index("us"), "territory", "us", "unknown territory code 'us'"),
        (lambda: field_index("cooking"), "field", "cooking", "unknown field code 'cooking'"),
        (lambda: channel_index("drone"), "channel", "drone", "unknown channel code 'drone'"),
        (lambda: territory_code(249), "territory", 249, "unknown territory index 249"),
        (lambda: field_code(-1), "field", -1, "unknown field index -1"),
        (lambda: channel_code(11), "channel", 11, "unknown channel index 11"),
    ],
)
def test_unknown_code_or_index_raises_a_specific_error(call: object, table: str, code: str | int, message: str) -> None:
    with pytest.raises(UnknownCodeError) as caught:
        call()  # type: ignore[operator]

    assert (caught.value.table, caught.value.code, str(caught.value)) == (table, code, message)


def test_encode_scope_sets_one_bit_per_code() -> None:
    scope = encode_scope(["AD", "US"], ["general", "software"], ["online"])

    assert scope == Scope(territories=1 | 1 << 232, fields=1 | 1 << 10, channels=1 << 1)
    assert scope.codes() == (["AD", "US"], ["general", "software"], ["online"])
    assert encode_scope([], [], []) == Scope(0, 0, 0)


def test_scope_contains_needs_all_three_bits() -> None:
    scope = encode_scope(["US", "GB"], ["software"], ["online", "api"])

    assert scope_contains(scope, "US", "software", "api")
    assert scope_contains(scope, 232, 10, 5)  # indexes work too
    assert not scope_contains(scope, "DE", "software", "api")
    assert not scope_contains(scope, "US", "games", "api")
    assert not scope_contains(scope, "US", "software", "retail")
    with pytest.raises(UnknownCodeError):
        scope_contains(scope, "XK", "software", "api")
    with pytest.raises(UnknownCodeError):
        scope_contains(scope, 300, 10, 5)


def test_encode_scope_refuses_unknown_codes() -> None:
    with pytest.raises(UnknownCodeError, match="unknown field code 'Software'"):
        encode_scope(["US"], ["Software"], ["online"])


def test_scope_bitmaps_must_fit_their_widths() -> None:
    with pytest.raises(ValueError, match="scope fields bitmap does not fit uint64"):
        Scope(territories=0, fields=1 << 64, channels=0)
    with pytest.raises(ValueError, match="scope channels bitmap does not fit uint32"):
        Scope(territories=0, fields=0, channels=-1)
