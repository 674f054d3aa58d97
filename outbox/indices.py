"""The outbox's index values: the values of loaded index files, each (index, month) once, and the
licences whose next escalation step waits for them (``escalation_holds``).

A stored value is never changed. Loading a file again is harmless (its values are already
known); a file that gives a stored value another one has that line rejected, naming the stored
value, because a step may already have been signed with it (and the escalator refuses a step
whose starting value differs from the previous step's end: IndexValueRevised). Insertion is one
``INSERT ... ON CONFLICT DO NOTHING ... RETURNING``, as for rates, so two loads at once still
store each value once and tell apart what each of them added.

A licence whose next step lacks a value is held (``hold_for_index``): the row says which step,
index and months; stepping the licence removes it. ``royalty-oracle status`` lists the holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from intake.feed import Rejection
from intake.indices import IndexFile, IndexValue, parse_index_value
from outbox.schema import escalation_holds_table, index_values_table
from royalty_chain.escalation import month_text


@dataclass(frozen=True, slots=True)
class StoredIndexValue:
    """A stored value: ``value`` is points times 1,000,000, ``text`` the value as published."""

    index: str
    month: int
    value: int
    text: str
    file_name: str
    loaded_at: int


@dataclass(frozen=True, slots=True)
class IndicesStored:
    """What storing an index file did: values ``loaded`` (new), ``known`` (stored before with the
    same value) and ``rejections`` (a stored value with another one), in line order."""

    loaded: int = 0
    known: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def kept(self, parsed: IndexFile) -> list[IndexValue]:
        """The file's values that are stored now (loaded or known): all but those rejected here."""
        refused = {r.line_number for r in self.rejections}
        return [v for v in parsed.values if v.line_number not in refused]

    def all_rejections(self, parsed: IndexFile) -> list[Rejection]:
        """The file's rejections and the store's, in line order (what its rejects file lists)."""
        return sorted([*parsed.rejections, *self.rejections], key=lambda r: r.line_number)


@dataclass(frozen=True, slots=True)
class EscalationHold:
    """A licence whose next step waits for index values: ``missing`` lists ``{"index", "months"}``
    (each index tried and its months without a value, YYYY-MM); ``reason`` says it in words."""

    licence_id: int
    step: int
    missing: list[dict[str, Any]]
    reason: str
    held_since: int
    checked_at: int


def _stored(row: Any) -> StoredIndexValue:
    m = row._mapping
    return StoredIndexValue(
        m["index"], int(m["month"]), parse_index_value(m["value"]), m["value"], m["file_name"], int(m["loaded_at"])
    )


class Indices:
    """The index-value half of ``Outbox`` (a base class of it)."""

    def store_indices(self, conn: Connection, values: IndexFile, file_name: str) -> IndicesStored:
        """Stores the values of a parsed index file, and commits.

        A value not stored yet is added; one stored with the same value (``315.301`` or
        ``315.3010``) is known; one stored with another value keeps the stored one and is a
        rejection naming it.
        """
        now = int(time.time())
        rows = [
            {"index": v.index, "month": v.month, "value": v.text, "file_name": file_name, "loaded_at": now}
            for v in values.values
        ]
        t = index_values_table
        insert = postgresql.insert(t) if conn.dialect.name == "postgresql" else sqlite.insert(t)
        stmt = insert.on_conflict_do_nothing().returning(t.c.index, t.c.month)
        added = {(str(row[0]), int(row[1])) for row in conn.execute(stmt, rows)} if rows else set()  # (index, month)
        others = [v for v in values.values if (v.index, v.month) not in added]
        rejections = []
        if others:
            stored = {(s.index, s.month): s for s in self.stored_indices(conn, indices=[v.index for v in others])}
            for v in others:
                before = stored[v.index, v.month]
                if before.value != v.value:
                    reason = (
                        f"differs from the value stored for {v.index} {month_text(v.month)}: {before.text}, "
                        f"loaded from {before.file_name}; the stored value stays"
                    )
                    rejections.append(Rejection(v.line_number, "value", v.text, reason))
        conn.commit()
        return IndicesStored(len(added), len(others) - len(rejections), rejections)

    def stored_indices(
        self, conn: Connection, *, indices: Iterable[str] | None = None, months: Iterable[int] | None = None
    ) -> list[StoredIndexValue]:
        """The stored values of ``indices`` (all if None) for ``months`` (all if None), by index and month."""
        t = index_values_table
        query = select(t)
        if indices is not None:
            query = query.where(t.c.index.in_(sorted(set(indices))))
        if months is not None:
            query = query.where(t.c.month.in_(sorted(set(months))))
        return [_stored(row) for row in conn.execute(query.order_by(t.c.index, t.c.month))]

    def index_values_of(self, conn: Connection, index: str, months: Sequence[int]) -> dict[int, int]:
        """The stored values of one index for ``months``, by month (a month without one is absent)."""
        return {s.month: s.value for s in self.stored_indices(conn, indices=[index], months=months)}

    # ------------------------------------------------------------ steps waiting for values

    def hold_for_index(
        self, conn: Connection, licence_id: int, step: int, missing: Sequence[dict[str, Any]], reason: str
    ) -> bool:
        """Holds the licence's next step (or updates what it waits for); True when the hold is new
        or says something else than before. Not committed: the stepper commits its round."""
        now = int(time.time())
        t = escalation_holds_table
        text = json.dumps(list(missing))
        before = conn.execute(select(t.c.step, t.c.missing, t.c.reason).where(t.c.licence_id == licence_id)).first()
        if before is None:
            conn.execute(
                t.insert().values(
                    licence_id=licence_id, step=step, missing=text, reason=reason, held_since=now, checked_at=now
                )
            )
        else:
            conn.execute(
                update(t).where(t.c.licence_id == licence_id).values(
                    step=step, missing=text, reason=reason, checked_at=now
                )
            )  # fmt: skip
        return before is None or tuple(before) != (step, text, reason)

    def release_index_hold(self, conn: Connection, licence_id: int) -> None:
        """The licence's next step no longer waits for index values (not committed)."""
        t = escalation_holds_table
        conn.execute(delete(t).where(t.c.licence_id == licence_id))

    def escalation_holds(self, conn: Connection) -> list[EscalationHold]:
        """Every held licence, by licence."""
        t = escalation_holds_table
        rows = conn.execute(select(t).order_by(t.c.licence_id))
        return [
            EscalationHold(
                int(m["licence_id"]), int(m["step"]), json.loads(m["missing"]), m["reason"], int(m["held_since"]),
                int(m["checked_at"]),
            )
            for m in (row._mapping for row in rows)
        ]  # fmt: skip
