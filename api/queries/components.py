"""A report's royalty by component, per contract year, as a licensor checks it against the licence.

RoyaltyMath.price adds, per contract year j of a report, the exact numerators (amounts times
10,000) of its per-unit amounts, its per-field rates and its base-rate or tiered percentage, plus
the fixed fee times 10,000 in year 0 of an original report, minus the same of its returns, and
rounds (plus - minus) / 10,000 down once, towards minus infinity. The fixed fee and the per-unit
amounts are whole token units, so rounding only ever touches the percentage part. Hence, from
the stored facts and with exact integers:

- ``fixed_fee``: the schedule's fixed fee per period in the period's first contract year of an
  original report (nil reports included), 0 in its other years and in every adjustment's;
- ``per_unit``: (in-scope units sold - in-scope units returned) in the year, times the schedule's
  per-unit amount (out of scope, a sale earns nothing and its return takes nothing back);
- ``percentage``: the chain's royalty of the year - fixed_fee - per_unit: the base rate or tiers
  and the per-field rates, including the rounding of the year's percentage numerator.

The three add up to the chain's per-year figure (ReportAccepted.yearRoyalty) exactly.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.indexer.models import BucketRow, ReturnRow, ScheduleVersionRow, SettlementRow, SettlementYearRow
from royalty_chain.events import schedule_from_event
from royalty_chain.terms import Schedule

PRICED_KINDS = ("report", "adjustment", "audit")


@dataclass(frozen=True)
class Components:
    """One contract year's royalty of a report (or an adjustment's difference), by component."""

    fixed_fee: int
    per_unit: int
    percentage: int

    @property
    def royalty(self) -> int:
        return self.fixed_fee + self.per_unit + self.percentage

    def __add__(self, other: Components) -> Components:
        return Components(
            self.fixed_fee + other.fixed_fee, self.per_unit + other.per_unit, self.percentage + other.percentage
        )

    def fields(self) -> dict[str, int]:
        """The API's field names."""
        return {
            "royalty_fixed_fee": self.fixed_fee,
            "royalty_per_unit": self.per_unit,
            "royalty_percentage": self.percentage,
        }


NONE = Components(0, 0, 0)


def year_components(
    schedule: Schedule, original: bool, first_year: int, royalties: dict[int, int], net_units: dict[int, int]
) -> dict[int, Components]:
    """Per contract year: ``royalties`` the chain's signed figure of the year, ``net_units`` the
    year's in-scope units sold minus those returned."""
    out = {}
    for year, royalty in royalties.items():
        fixed = schedule.fixed_fee_per_period if original and year == first_year else 0
        per_unit = net_units.get(year, 0) * schedule.per_unit
        out[year] = Components(fixed, per_unit, royalty - fixed - per_unit)
    return out


def settlement_components(session: Session, settlements: Sequence[SettlementRow]) -> dict[int, dict[int, Components]]:
    """Per settlement id (reports and adjustments only), per contract year of its period."""
    priced = [s for s in settlements if s.kind in PRICED_KINDS]
    if not priced:
        return {}
    ids = [s.id for s in priced]
    royalties: dict[int, dict[int, int]] = defaultdict(dict)
    for settlement_id, year, royalty in session.execute(
        select(SettlementYearRow.settlement_id, SettlementYearRow.year, SettlementYearRow.royalty).where(
            SettlementYearRow.settlement_id.in_(ids)
        )
    ):
        royalties[settlement_id][year] = int(royalty)
    units: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for table, sign in ((BucketRow, 1), (ReturnRow, -1)):
        for settlement_id, year, count in session.execute(
            select(table.settlement_id, table.year, table.units).where(
                table.settlement_id.in_(ids), table.in_scope.is_(True)
            )
        ):
            units[settlement_id][year] += sign * int(count)
    schedules = _schedules(session, priced)
    out = {}
    for s in priced:
        schedule = schedules.get((s.licence_id, s.schedule_version), Schedule())
        # A report indexed before per-year figures existed: its priced total in its first year.
        years = royalties.get(s.id) or {s.year: s.priced if s.priced is not None else s.royalty - s.credit_carried}
        out[s.id] = year_components(schedule, s.kind == "report", s.year, years, units.get(s.id, {}))
    return out


def _schedules(session: Session, rows: Sequence[SettlementRow]) -> dict[tuple[int, int | None], Schedule]:
    """The schedule version each settlement was priced under (the one in force at its period's start)."""
    wanted = {(s.licence_id, s.schedule_version) for s in rows if s.schedule_version is not None}
    licences = {licence for licence, _ in wanted}
    out: dict[tuple[int, int | None], Schedule] = {}
    if not licences:
        return out
    for version in session.scalars(select(ScheduleVersionRow).where(ScheduleVersionRow.licence_id.in_(licences))):
        if (version.licence_id, version.version) in wanted:
            out[(version.licence_id, version.version)] = schedule_from_event(json.loads(version.schedule))
    return out
