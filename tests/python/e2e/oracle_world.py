"""Helpers for oracle end-to-end tests: a licence on chain and a feed file for it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from royalty_chain.actions import register_licence
from royalty_chain.client import Chain
from royalty_chain.codes import encode_scope
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Payee, Schedule, Term, Terms

USDX = 10**6
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"


def chain_now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def register(chain: Chain, start: int, schedule: Schedule | None = None, threshold: int = 2, **extra: object) -> int:
    now = chain_now(chain)
    values: dict[str, object] = dict(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x42" * 32,
        asset_ids=(1,),
        scope=encode_scope(["US", "GB", "DE"], ["apparel", "toys"], ["retail", "online"]),
        term=Term(start=start, end=start + 2 * 365 * DAY, sell_off_days=180, period_seconds=30 * DAY),
        token=chain.manifest.token("USDX").address,
        schedule=schedule or Schedule(rate_bps=1000),
        payees=(Payee(role("licensor_brand").address, 10_000),),
        oracles=(role("oracle1").address, role("oracle2").address, role("oracle3").address),
        threshold=threshold,
        arbiter=role("arbiter").address,
        salt=time.time_ns().to_bytes(32, "big"),
    )
    values.update(extra)
    return register_licence(
        chain,
        Terms(**values),
        role("licensor_brand"),
        role("licensee_apparel"),
        role("relayer"),
        deadline=now + DAY,  # type: ignore[arg-type]
    )


def fund(chain: Chain, licence_id: int, amount: int) -> None:
    licensee = role("licensee_apparel")
    token = chain.token(chain.manifest.token("USDX").address)
    token.mint(licensee.address, amount, licensee)
    token.approve(chain.ledger.address, amount, licensee)
    chain.ledger.deposit(licence_id, amount, licensee)


def day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def write_feed(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path
