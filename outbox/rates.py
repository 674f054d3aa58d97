"""The outbox's exchange rates: quotes of loaded rate files, each (source, base, day, currency) once,
and the periods whose reports wait for rates (``rate_holds``).

A stored quote is never changed. Loading a file again is harmless (its quotes are already
known); a file that gives a stored quote another rate has that line rejected, naming the stored
rate, because a report may already have been signed with it. Insertion is one
``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` of the file's quotes, so two loads at once
still store each quote once and tell apart what each of them added.

A period whose report needs a rate that is not stored is held (``hold_for_rates``): its lines
keep waiting, the row says which currencies and days lack a rate, and the report's signing
(``add_report``) removes it. ``royalty-oracle status`` lists the held periods.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from intake.feed import Rejection
from intake.fx import Quote, RateBook, RateFile, parse_rate
from outbox.schema import fx_rates_table, rate_holds_table


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

    def kept(self, parsed: RateFile) -> list[Quote]:
        """The file's quotes that are stored now (loaded or known): all but those rejected here."""
        refused = {r.line_number for r in self.rejections}
        return [q for q in parsed.quotes if q.line_number not in refused]

    def all_rejections(self, parsed: RateFile) -> list[Rejection]:
        """The file's rejections and the store's, in line order (what its rejects file lists)."""
        return sorted([*parsed.rejections, *self.rejections], key=lambda r: r.line_number)


@dataclass(frozen=True, slots=True)
class RateHold:
    """A period whose report waits for exchange rates: ``missing`` lists ``{"currency", "days"}``
    (each currency without a rate, and its days without one); ``reason`` says it in words."""

    licence_id: int
    period: int
    source: str
    missing: list[dict[str, Any]]
    reason: str
    held_since: int
    checked_at: int


def _as_date(value: Any) -> date:
    """A stored day as a date (SQLite may hand back an aggregate's ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


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
        """The source's quotes for [start, end) as a RateBook (what ``intake.fx.rate_for`` reads),
        knowing the last day the source has quotes stored for (``RateBook.published_through``),
        which may be after ``end``: a period is complete once its quotes reach its last day."""
        book = RateBook()
        for s in self.stored_rates(conn, source, base, start, end):
            book.add(s.source, s.base, s.day, s.currency, s.rate)
        last = self.last_rate_day(conn, source, base)
        if last is not None:
            book.note_published_through(source, base, last)
        return book

    def last_rate_day(self, conn: Connection, source: str, base: str) -> date | None:
        """The last day the source has a quote (base ``base``) stored for, of any currency; None: none."""
        t = fx_rates_table
        day = conn.execute(select(func.max(t.c.day)).where(t.c.source == source, t.c.base == base)).scalar()
        return None if day is None else _as_date(day)

    def source_bases(self, conn: Connection, source: str) -> list[str]:
        """The bases the source's stored quotes are per one unit of, sorted (one, for a source
        whose files were all loaded with the same ``--base``)."""
        t = fx_rates_table
        query = select(t.c.base).where(t.c.source == source).distinct().order_by(t.c.base)
        return [str(row[0]) for row in conn.execute(query)]

    # ------------------------------------------------------------ reports waiting for rates

    def hold_for_rates(
        self,
        conn: Connection,
        licence_id: int,
        period: int,
        source: str,
        missing: Sequence[dict[str, Any]],
        reason: str,
    ) -> bool:
        """Holds the period's report (or updates the hold's missing rates); True when the hold is
        new or says something else than before. Not committed: the round commits."""
        now = int(time.time())
        t = rate_holds_table
        text = json.dumps(list(missing))
        where = (t.c.licence_id == licence_id, t.c.period == period)
        before = conn.execute(select(t.c.missing, t.c.reason, t.c.source).where(*where)).first()
        if before is None:
            conn.execute(
                t.insert().values(
                    licence_id=licence_id, period=period, source=source, missing=text, reason=reason,
                    held_since=now, checked_at=now,
                )
            )  # fmt: skip
            return True
        conn.execute(update(t).where(*where).values(source=source, missing=text, reason=reason, checked_at=now))
        return tuple(before) != (text, reason, source)

    def release_hold(self, conn: Connection, licence_id: int, period: int) -> None:
        """The period's report no longer waits for rates (``add_report`` does this itself)."""
        t = rate_holds_table
        conn.execute(delete(t).where(t.c.licence_id == licence_id, t.c.period == period))

    def rate_holds(self, conn: Connection) -> list[RateHold]:
        """Every held period, by (licence, period)."""
        t = rate_holds_table
        rows = conn.execute(select(t).order_by(t.c.licence_id, t.c.period))
        return [
            RateHold(
                int(m["licence_id"]), int(m["period"]), m["source"], json.loads(m["missing"]), m["reason"],
                int(m["held_since"]), int(m["checked_at"]),
            )
            for m in (row._mapping for row in rows)
        ]  # fmt: skip
