"""Plain-words rendering for the dashboard (amounts with the token's decimals only here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.money import format_units

EN_DASH = "\u2013"


def percent(bps: int) -> str:
    whole, rest = divmod(bps, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def day(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%-d %b %Y")


def moment(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%-d %b %Y %H:%M UTC")


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class Money:
    """Formats amounts of one token: 12345678 -> "12.345678 USDX"."""

    def __init__(self, decimals: int | None, symbol: str | None) -> None:
        self.decimals = decimals or 0
        self.symbol = symbol or "units"

    def __call__(self, amount: int | str | None) -> str:
        if amount is None:
            return ""
        return f"{format_units(int(amount), self.decimals)} {self.symbol}"


def rate_words(schedule: dict[str, Any], money: Money) -> list[str]:
    """The parts of a rate schedule in words, e.g. ["5% of net sales", "minimum guarantee ..."]."""
    parts = []
    tiers = schedule.get("tiers") or []
    if tiers:
        bands = []
        for i, tier in enumerate(tiers):
            upper = tiers[i + 1]["threshold"] if i + 1 < len(tiers) else None
            rate = percent(int(tier["rate_bps"]))
            if upper is None:
                bands.append(f"{rate} from {money(tier['threshold'])}" if int(tier["threshold"]) else rate)
            else:
                bands.append(f"{rate} up to {money(upper)}")
        parts.append("royalty on net sales in tiers per contract year: " + ", ".join(bands))
    elif int(schedule.get("rate_bps") or 0):
        parts.append(f"{percent(int(schedule['rate_bps']))} of net sales")
    for field_rate in schedule.get("field_rates") or []:
        parts.append(f"{percent(int(field_rate['rate_bps']))} of net sales in {field_rate['field']}")
    if int(schedule.get("per_unit") or 0):
        parts.append(f"{money(schedule['per_unit'])} per unit")
    if int(schedule.get("fixed_fee_per_period") or 0):
        parts.append(f"{money(schedule['fixed_fee_per_period'])} per reporting period")
    if int(schedule.get("minimum_guarantee") or 0):
        parts.append(f"minimum guarantee {money(schedule['minimum_guarantee'])} per contract year")
    return parts or ["no royalty"]


def terms_sentence(terms: dict[str, Any], schedule: dict[str, Any], end: int, money: Money) -> str:
    """e.g. "5% of net sales in US, CA; field: apparel; retail and online; 1 Jan 2026 to 31 Dec 2027
    plus 180 days sell-off" (with an en dash between the dates)."""
    scope = terms["scope"]
    rates = "; ".join(rate_words(schedule, money))
    fields = ", ".join(scope["fields"])
    sentence = (
        f"{rates} in {', '.join(scope['territories'])}; field: {fields}; {join_words(scope['channels'])}; "
        f"{day(terms['term']['start'])} {EN_DASH} {day(end - 1)}"
    )
    sell_off = int(terms["term"]["sell_off_days"])
    if sell_off:
        sentence += f" plus {sell_off} days sell-off"
    return sentence
