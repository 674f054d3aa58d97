"""The outbox's benchmark values: the values of loaded benchmark files, each (benchmark, day)
once, and the review triggers of served licences that wait (``review_holds``).

A stored value is never changed. Loading a file again is harmless (its values are already
known); a file that gives a stored value another one has that line rejected, naming the stored
value, because review evidence may already have been signed with it. Insertion is one
``INSERT ... ON CONFLICT DO NOTHING ... RETURNING``, as for index values, so two loads at once
still store each value once and tell apart what each of them added.

A review trigger the oracle does not fire is held (``hold_review``): the row says what it waits
for (or the contract's refusal); firing it, or finding it fired, removes it. ``royalty-oracle
status`` lists the holds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from intake.benchmarks import BenchmarkFile, BenchmarkValue, parse_benchmark_value
from intake.feed import Rejection
from outbox.schema import benchmark_values_table, review_holds_table


@dataclass(frozen=True, slots=True)
class StoredBenchmarkValue:
    """A stored value: ``value`` is points times 1,000,000, ``text`` the value as published."""

    benchmark: str
    day: date
    value: int
    text: str
    file_name: str
    loaded_at: int


@dataclass(frozen=True, slots=True)
class BenchmarksStored:
    """What storing a benchmark file did: values ``loaded`` (new), ``known`` (stored before with
    the same value) and ``rejections`` (a stored value given another one), in line order."""

    loaded: int = 0
    known: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def kept(self, parsed: BenchmarkFile) -> list[BenchmarkValue]:
        """The file's values that are stored now (loaded or known): all but those rejected here."""
        refused = {r.line_number for r in self.rejections}
        return [v for v in parsed.values if v.line_number not in refused]

    def all_rejections(self, parsed: BenchmarkFile) -> list[Rejection]:
        """The file's rejections and the store's, in line order (what its rejects file lists)."""
        return sorted([*parsed.rejections, *self.rejections], key=lambda r: r.line_number)


@dataclass(frozen=True, slots=True)
class ReviewHold:
    """A review trigger of a served licence not fired: ``waits_for`` says what would fire it,
    ``reason`` why it has not, ``error`` the reviews contract's refusal ("" when none)."""

    licence_id: int
    trigger: str
    waits_for: str
    reason: str
    error: str
    held_since: int
    checked_at: int


class Benchmarks:
    """The benchmark half of ``Outbox`` (a base class of it)."""

    def store_benchmarks(self, conn: Connection, values: BenchmarkFile, file_name: str) -> BenchmarksStored:
        """Stores the values of a parsed benchmark file, and commits.

        A value not stored yet is added; one stored with the same value (``4.6`` or ``4.60``) is
        known; one stored with another value keeps the stored one and is a rejection naming it.
        """
        now = int(time.time())
        rows = [
            {"benchmark": v.benchmark, "day": v.day.isoformat(), "value": v.text, "file_name": file_name,
             "loaded_at": now}
            for v in values.values
        ]  # fmt: skip
        t = benchmark_values_table
        insert = postgresql.insert(t) if conn.dialect.name == "postgresql" else sqlite.insert(t)
        stmt = insert.on_conflict_do_nothing().returning(t.c.benchmark, t.c.day)
        added = {(str(row[0]), str(row[1])) for row in conn.execute(stmt, rows)} if rows else set()
        others = [v for v in values.values if (v.benchmark, v.day.isoformat()) not in added]
        rejections = []
        if others:
            stored = {
                (s.benchmark, s.day): s for s in self.stored_benchmarks(conn, benchmarks=[v.benchmark for v in others])
            }
            for v in others:
                before = stored[v.benchmark, v.day]
                if before.value != v.value:
                    reason = (
                        f"differs from the value stored for {v.benchmark} {v.day.isoformat()}: {before.text}, "
                        f"loaded from {before.file_name}; the stored value stays"
                    )
                    rejections.append(Rejection(v.line_number, "value", v.text, reason))
        conn.commit()
        return BenchmarksStored(len(added), len(others) - len(rejections), rejections)

    def stored_benchmarks(
        self, conn: Connection, *, benchmarks: Iterable[str] | None = None
    ) -> list[StoredBenchmarkValue]:
        """The stored values of ``benchmarks`` (all if None), by benchmark and day."""
        t = benchmark_values_table
        query = select(t)
        if benchmarks is not None:
            query = query.where(t.c.benchmark.in_(sorted(set(benchmarks))))
        return [
            StoredBenchmarkValue(
                m["benchmark"], date.fromisoformat(m["day"]), parse_benchmark_value(m["value"]), m["value"],
                m["file_name"], int(m["loaded_at"]),
            )
            for m in (row._mapping for row in conn.execute(query.order_by(t.c.benchmark, t.c.day)))
        ]  # fmt: skip

    def latest_benchmark(self, conn: Connection, benchmark: str) -> StoredBenchmarkValue | None:
        """The stored value of ``benchmark`` with the latest day, None when none is stored."""
        stored = self.stored_benchmarks(conn, benchmarks=[benchmark])
        return stored[-1] if stored else None

    # ------------------------------------------------------------ triggers waiting

    def hold_review(
        self, conn: Connection, licence_id: int, trigger: str, waits_for: str, reason: str, error: str = ""
    ) -> bool:
        """Holds the licence's trigger (or updates what it waits for); True when the hold is new or
        says something else than before. Not committed: the oracle commits its round."""
        now = int(time.time())
        t = review_holds_table
        key = (t.c.licence_id == licence_id) & (t.c.trigger == trigger)
        before = conn.execute(select(t.c.waits_for, t.c.reason, t.c.error).where(key)).first()
        if before is None:
            conn.execute(
                t.insert().values(
                    licence_id=licence_id, trigger=trigger, waits_for=waits_for, reason=reason, error=error,
                    held_since=now, checked_at=now,
                )
            )  # fmt: skip
        else:
            conn.execute(update(t).where(key).values(waits_for=waits_for, reason=reason, error=error, checked_at=now))
        return before is None or tuple(before) != (waits_for, reason, error)

    def release_review_hold(self, conn: Connection, licence_id: int, trigger: str) -> None:
        """The licence's trigger fired (or no longer waits); not committed."""
        t = review_holds_table
        conn.execute(delete(t).where((t.c.licence_id == licence_id) & (t.c.trigger == trigger)))

    def review_holds(self, conn: Connection) -> list[ReviewHold]:
        """Every held trigger, by licence and trigger."""
        t = review_holds_table
        rows = conn.execute(select(t).order_by(t.c.licence_id, t.c.trigger))
        return [
            ReviewHold(
                int(m["licence_id"]), m["trigger"], m["waits_for"], m["reason"], m["error"], int(m["held_since"]),
                int(m["checked_at"]),
            )
            for m in (row._mapping for row in rows)
        ]  # fmt: skip
