"""The outbox's exchange rates: quotes of loaded rate files, each (source, base, day, currency) once.

A stored quote is never changed. Loading a file again is harmless (its quotes are already
known); a file that gives a stored quote another rate has that line rejected, naming the stored
rate, because a report may already have been signed with it. Insertion is one
``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` of the file's quotes, so two loads at once
still store each quote once and tell apart what each of them added.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from intake.feed import Rejection
from intake.fx import RateBook, RateFile, parse_rate
from outbox.schema import fx_rates_table


@dataclass(frozen=True, slots=True)
class StoredRate:
    """A stored quote: ``rate`` units of ``currency`` per unit of ``base``, scaled by 10^18, and
    ``text``, the rate as published."""

    source: str
    base: str
    day: date
    currency: str
    rate: int
    text: str
    file_name: str
    loaded_at: int


@dataclass(frozen=True, slots=True)
class RatesStored:
    """What storing a rate file did: quotes ``loaded`` (new), ``known`` (stored before with the
    same rate) and ``rejections`` (a stored quote with another rate), in line order."""

    loaded: int = 0
    known: int = 0
    rejections: list[Rejection] = field(default_factory=list)


def _stored(row: Any) -> StoredRate:
    m = row._mapping
    return StoredRate(
        m["source"], m["base"], m["day"], m["currency"], parse_rate(m["rate"]), m["rate"], m["file_name"],
        int(m["loaded_at"]),
    )  # fmt: skip


class Rates:
    """The exchange-rate half of ``Outbox`` (a base class of it)."""

    def store_rates(self, conn: Connection, source: str, rates: RateFile, file_name: str) -> RatesStored:
        """Stores the quotes of a parsed rate file under ``source`` and the file's base, and commits.

        A quote not stored yet is added; one stored with the same rate (``1.0856`` or ``1.08560``)
        is known; one stored with another rate keeps the stored rate and is a rejection naming it.
        """
        now = int(time.time())
        rows = [
            {"source": source, "base": rates.base, "day": q.day, "currency": q.currency, "rate": q.text,
             "file_name": file_name, "loaded_at": now}
            for q in rates.quotes
        ]  # fmt: skip
        t = fx_rates_table
        insert = postgresql.insert(t) if conn.dialect.name == "postgresql" else sqlite.insert(t)
        stmt = insert.on_conflict_do_nothing().returning(t.c.day, t.c.currency)
        # SQLAlchemy sends the rows as multi-row VALUES pages (its "insertmanyvalues"), each
        # returning the keys it inserted; a conflicting row is skipped and returns nothing.
        added = {(row.day, row.currency) for row in conn.execute(stmt, rows)} if rows else set()
        others = [q for q in rates.quotes if (q.day, q.currency) not in added]
        rejections = []
        if others:
            stored = {
                (s.day, s.currency): s
                for s in self.stored_rates(
                    conn, source, rates.base, min(q.day for q in others), max(q.day for q in others), inclusive=True
                )
            }
            for q in others:
                before = stored[q.day, q.currency]
                if before.rate != q.rate:
                    reason = (
                        f"differs from the rate stored for {q.currency} on {q.day.isoformat()} ({source}, base "
                        f"{rates.base}): {before.text}, loaded from {before.file_name}; the stored rate stays"
                    )
                    rejections.append(Rejection(q.line_number, "rate", q.text, reason))
        conn.commit()
        return RatesStored(len(added), len(others) - len(rejections), rejections)

    def stored_rates(
        self,
        conn: Connection,
        source: str,
        base: str,
        start: date | None = None,
        end: date | None = None,
        *,
        currencies: Iterable[str] | None = None,
        inclusive: bool = False,
    ) -> list[StoredRate]:
        """The source's stored quotes per unit of ``base`` for the days in [start, end) (``end``
        included with ``inclusive``; either bound may be None), of ``currencies`` if given, by day
        and currency."""
        t = fx_rates_table
        query = select(t).where(t.c.source == source, t.c.base == base)
        if start is not None:
            query = query.where(t.c.day >= start)
        if end is not None:
            query = query.where(t.c.day <= end if inclusive else t.c.day < end)
        if currencies is not None:
            query = query.where(t.c.currency.in_(sorted(set(currencies))))
        return [_stored(row) for row in conn.execute(query.order_by(t.c.day, t.c.currency))]

    def rate_book(self, conn: Connection, source: str, base: str, start: date, end: date) -> RateBook:
        """The source's quotes for [start, end) as a RateBook (what ``intake.fx.rate_for`` reads)."""
        book = RateBook()
        for s in self.stored_rates(conn, source, base, start, end):
            book.add(s.source, s.base, s.day, s.currency, s.rate)
        return book
