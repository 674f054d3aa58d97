"""Regenerates examples/demo-feeds/*.csv.tmpl, the sales feeds `make run` settles.

Deterministic (fixed seeds), so the committed files are reproducible. `{spec-name}` in the
licence_id column is replaced by the licence id the demo licence got on chain.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "examples" / "demo-feeds"
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
START = date(2025, 1, 1)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def feed(
    name: str,
    licence: str,
    seed: int,
    days: int,
    per_day: float,
    choices: dict[str, list[str]],
    price: tuple[int, int],
    units: tuple[int, int],
    deduction_pct: int,
    extra: list[str] | None = None,
    start: date = START,
    gap: tuple[date, date] | None = None,
) -> None:
    """``days`` days of sales from ``start``; none from ``gap[0]`` to ``gap[1]`` (inclusive), whose
    draws are still made so the other lines stay what they were."""
    rng = random.Random(seed)
    rows = []
    n = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        for _ in range(int(per_day) + (1 if rng.random() < per_day % 1 else 0)):
            count = rng.randint(*units)
            gross = count * rng.randint(*price)
            deductions = gross * rng.randint(0, deduction_pct) // 100
            territory, field, channel = (rng.choice(choices[k]) for k in ("territory", "field", "channel"))
            if gap is not None and gap[0] <= day <= gap[1]:
                continue
            n += 1
            rows.append(
                f"{name.upper()}-{n:05d},{{{licence}}},{day.isoformat()},{territory},{field},{channel},{count},"
                f"{money(gross)},{money(deductions)},USD"
            )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.csv.tmpl").write_text(HEADER + "\n".join(rows + (extra or [])) + "\n")


def main() -> None:
    # Acme apparel: 4% usage fee; a few sales in Japan (outside the licence) and some bad lines.
    feed(
        "acme",
        "acme-trademark",
        1,
        690,
        0.25,
        {
            "territory": ["US", "US", "CA", "GB", "JP"],
            "field": ["apparel", "merchandise"],
            "channel": ["retail", "online", "wholesale"],
        },
        (1500, 9000),
        (10, 400),
        8,
        extra=[
            "ACME-BAD-1,{acme-trademark},2025-13-01,US,apparel,retail,5,100.00,0,USD",
            "ACME-BAD-2,{acme-trademark},2025-03-02,US,apparel,retail,-5,100.00,0,USD",
            "ACME-BAD-3,{acme-trademark},2025-03-02,XX,apparel,retail,5,100.00,0,USD",
            "ACME-BAD-4,{acme-trademark},2025-03-02,US,apparel,retail,5,100.0000001,0,USD",
            "ACME-BAD-5,{acme-trademark},2025-03-02,US,apparel,retail,5,100.00,0,EUR",
            "ACME-BAD-6,{acme-trademark},2025-03-02,US,apparel,retail,5,100.00",
            "ACME-00001,{acme-trademark},2025-01-01,US,apparel,retail,999,1.00,0,USD",
        ],
    )
    # VoltCell: OEM battery sales, about 1.8M a year: tiers cross 1M within the first year.
    feed(
        "voltcell",
        "voltcell-patent",
        2,
        690,
        0.3,
        {
            "territory": ["US", "DE", "FR", "JP", "KR"],
            "field": ["automotive", "energy"],
            "channel": ["oem", "wholesale"],
        },
        (60_000, 90_000),
        (5, 40),
        3,
    )
    # GeoData: API and subscription revenue split across the three fields of use; nothing sold in
    # the third quarter of 2025 (the archive was offline), so that quarter gets a nil report.
    feed(
        "geodata",
        "geodata-dataset",
        3,
        690,
        0.4,
        {
            "territory": ["US", "GB", "DE", "FR", "JP", "SG", "CA", "AU"],
            "field": ["model-training", "analytics", "research"],
            "channel": ["api", "subscription"],
        },
        (20_000, 450_000),
        (1, 3),
        2,
        gap=(date(2025, 7, 1), date(2025, 9, 30)),
    )
    # Lumen: in-app subscriptions and API calls from the signing on 15 February 2025, running into
    # the sell-off after 1 July 2026.
    feed(
        "lumen",
        "lumen-model",
        4,
        560,
        0.5,
        {
            "territory": ["US", "GB", "DE", "FR", "ES", "IT", "NL"],
            "field": ["model-inference"],
            "channel": ["api", "subscription"],
        },
        (1, 3),
        (5_000, 80_000),
        1,
        start=date(2025, 2, 15),
    )


if __name__ == "__main__":
    main()
