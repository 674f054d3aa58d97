"""The one intake of a feed: every line judged valid or rejected (line, field, value, reason),
by the same code for the oracle's inbox and for ``POST /feeds``, so the two can never judge one
line differently. A line of a period already reported is valid: it goes into an adjustment.

The rules themselves are the parser's (``intake.feed``) and the validator's
(``intake.validate``); this module fixes what the callers used to choose each for itself:
which day is "today" for the future-date check, and that the seen store and the reported
periods are asked by the validator, which keeps the counts.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from intake.feed import Rejection, SaleLine, parse_csv, parse_jsonl
from intake.twostage import validate_two_stage
from intake.validate import (
    LicenceInfo,
    PendingLines,
    ReportedPeriods,
    SeenLines,
    ValidationStats,
    Validator,
    ValidLine,
    validate,
)

# A feed file, read on two cores (intake.twostage), or the format and bytes of an upload.
Feed = Path | tuple[Literal["csv", "jsonl"], bytes]
# The licences lines are checked against: all of them, or (for an upload, which is parsed
# before it is validated) a function from the licence ids the lines name to those licences.
Licences = Mapping[int, LicenceInfo] | Callable[[set[int]], Mapping[int, LicenceInfo]]


def last_sale_date(chain_time: int, now: float | None = None) -> date:
    """The latest sale date a feed may carry: today in UTC by the chain's clock or by this
    machine's (``now``, unix seconds; the wall clock if None), whichever is later.

    Both clocks are read as UTC: a sale dated tomorrow in UTC is in the future wherever the
    oracle runs. The chain's clock counts because a chain may run ahead of the wall clock (a
    test chain that was moved forward), and its licences' periods follow it.
    """
    wall = time.time() if now is None else now
    return datetime.fromtimestamp(max(chain_time, int(wall)), UTC).date()


def judge(
    feed: Feed,
    licences: Licences,
    seen: SeenLines,
    reported: ReportedPeriods | None,
    *,
    chain_time: int,
    now: float | None = None,
    pending: PendingLines | None = None,
) -> tuple[Iterator[ValidLine | Rejection], ValidationStats]:
    """The verdicts of the feed's lines, in line order (duplicates are counted, not yielded),
    and the counts they add up to once the verdicts were read.

    Every line read lands in exactly one of ``stats.valid``, ``stats.rejected`` and
    ``stats.duplicates``. An upload may pass ``licences`` as a function: it is asked once, for
    the ids its lines name.

    ``pending`` holds the valid lines the caller read and did not store yet (the oracle's ingest
    passes its batch), so that a cancel, replace or return can name a line read just before; for
    an upload, and for a file without it, the verdicts themselves are kept for that.
    """
    today = last_sale_date(chain_time, now)
    if isinstance(feed, Path):
        if not isinstance(licences, Mapping):
            raise TypeError("a feed file is checked against every licence: pass them as a mapping")
        if pending is not None:
            validator = Validator(licences, seen, reported, pending)
            return validate_two_stage(feed, validator, today=today), validator.stats
        pending = PendingLines()
        validator = Validator(licences, seen, reported, pending)
        return _kept(validate_two_stage(feed, validator, today=today), pending), validator.stats
    fmt, data = feed
    parse = parse_csv if fmt == "csv" else parse_jsonl
    parsed = list(parse(io.BytesIO(data), today=today))
    if not isinstance(licences, Mapping):
        licences = licences({line.licence_id for line in parsed if type(line) is SaleLine})
    pending = pending if pending is not None else PendingLines()
    validator = Validator(licences, seen, reported, pending)
    return _kept(validate(parsed, validator), pending), validator.stats


def _kept(verdicts: Iterator[ValidLine | Rejection], pending: PendingLines) -> Iterator[ValidLine | Rejection]:
    """The verdicts, each valid line also kept in ``pending`` for the corrections after it."""
    keep = pending.lines.append
    for item in verdicts:
        if type(item) is not Rejection:
            keep(item)  # type: ignore[arg-type]
        yield item
