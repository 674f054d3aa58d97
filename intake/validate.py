"""Check parsed sales lines against the licences they claim, and give each its leaf.

A line is rejected when it cannot belong to its licence at all: unknown licence, another
currency, a sale day outside the term (plus sell-off), amounts finer than the token can pay.
A line *outside the licence's scope* is not rejected: it is reported with ``in_scope=False``
because the contract records it as a scope breach the licensor should see.

Lines are identified per licensee by ``line_id``. The first content seen for an id wins: the
same id with the same content again is a duplicate (skipped, counted, not an error); the same id
with other content is rejected, naming the leaf that was accepted first. Content identity is the
line's canonical Merkle leaf, so "same content" means exactly "would settle the same".

A line's reporting period and contract year come from its licence's calendar rule
(:class:`royalty_chain.calendar.LicenceCalendar`, the chain's own arithmetic), memoised per sale
day: a feed has few distinct days, so the hot path is one dict lookup a line.

A line whose period was already reported is accepted like any other: the oracle reports it in
an adjustment of that period (oracle.reports), which settles only the difference.

Returns, cancels and replaces (``SaleLine.kind``) are judged against the latest version of the
line they name, from the lines of this run not stored yet (``PendingLines``) or the seen store
(``SeenLines.latest``):

- a return (amounts <= 0) is a new line with its own id; naming a known sale in
  ``returns_line_id``, it may not take back more units or gross than that sale has; naming none,
  or a line this oracle does not know, it is a credit note and nets in the period of its date;
- a cancel names an accepted line (its id and licence) and removes it: a cancel of an unknown
  line, or of one already cancelled, is rejected;
- a replace gives an accepted line new values in the same period (a move to another period is
  a cancel and a new line). The same values again are a duplicate.

Each cancel or replace is the line's next version (``revision``), with a leaf of its own
(intake.merkle ``leaf_entry``) that names the version it removes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, NamedTuple, Protocol

from intake.errors import AmountError, LicenceInfoError
from intake.feed import Rejection, SaleLine
from intake.merkle import LINE_CANCEL, LINE_RETURN, NO_REF, keccak256, leaf_entry, leaf_fast
from intake.money import format_amount, rescale
from royalty_chain.calendar import LicenceCalendar
from royalty_chain.codes import Scope
from royalty_chain.terms import Calendar

SECONDS_PER_DAY: Final = 86400
_UINT32_MAX: Final = (1 << 32) - 1
_UINT64_MAX: Final = (1 << 64) - 1
# The Calendar of a licence with fixed periods of ``period_seconds`` (contract years from its start).
FIXED_PERIODS: Final = Calendar()


@dataclass(frozen=True, slots=True)
class LicenceInfo:
    """What the oracle needs to know about one licence (read from the registry on chain).

    Times are unix seconds. ``terminated_at`` is set once the licence was terminated early.
    ``licensee`` is the licensee's address; line ids are unique per licensee. ``calendar`` is
    the licence's Calendar (the default: fixed periods of ``period_seconds`` from the start,
    contract years from the start date); ``rule`` is the calendar rule built from it and the
    term, one per LicenceInfo so that its per-day memo is shared by every validator using it.
    """

    licence_id: int
    licensee: str
    currency: str
    decimals: int
    scope: Scope
    term_start: int
    term_end: int
    sell_off_days: int
    period_seconds: int
    terminated_at: int | None = None
    calendar: Calendar = FIXED_PERIODS
    rule: LicenceCalendar = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.licence_id <= 0:
            raise LicenceInfoError(f"licence id {self.licence_id} must be positive")
        if not 0 <= self.decimals <= 77:
            raise LicenceInfoError(f"licence {self.licence_id}: decimals {self.decimals} out of range")
        if self.period_seconds < 0 or (self.period_seconds == 0 and self.calendar.period_months == 0):
            raise LicenceInfoError(f"licence {self.licence_id}: period_seconds must be positive")
        if not 0 <= self.term_start < self.term_end <= _UINT64_MAX:
            raise LicenceInfoError(f"licence {self.licence_id}: term {self.term_start}..{self.term_end} is empty")
        if self.sell_off_days < 0:
            raise LicenceInfoError(f"licence {self.licence_id}: sell_off_days must not be negative")
        try:
            rule = LicenceCalendar.from_abi(
                self.calendar.as_abi(), start=self.term_start, period_seconds=self.period_seconds
            )
        except ValueError as err:
            raise LicenceInfoError(f"licence {self.licence_id}: {err}") from None
        object.__setattr__(self, "rule", rule)

    @property
    def effective_end(self) -> int:
        """First second after the licence ended: the term end or an earlier termination."""
        if self.terminated_at is None:
            return self.term_end
        return min(self.term_end, self.terminated_at)

    @property
    def sell_off_end(self) -> int:
        """First second after which no sale earns royalties any more."""
        return self.effective_end + self.sell_off_days * SECONDS_PER_DAY


# What Validator.prepare passes to Validator.admit: (line number, line id, licence id, period,
# contract year, sale day, territory, field, channel, units, gross, deductions, kind, ref),
# amounts in the licence's decimals (a cancel's are all zero: it takes its line's).
Prepared = tuple[int, str, int, int, int, int, int, int, int, int, int, int, int, str]

_new_valid_line: Final = tuple.__new__  # skips NamedTuple's Python-level __new__ (0.1 us a line)


class ValidLine(NamedTuple):
    """A line that will be reported: amounts in the licence token's units, with its leaf.

    ``period`` and ``year`` are the reporting period and the contract year of ``sale_day`` by the
    licence's calendar rule. The year is not in the leaf: it follows from the sale day (which
    is) by the rule every party reads from the chain, exactly as the period does.
    A NamedTuple for construction speed (see SaleLine).

    ``kind`` is intake.merkle's LINE_SALE (the default), LINE_RETURN (amounts <= 0),
    LINE_CANCEL (the amounts of the version it cancels) or LINE_REPLACE (the new amounts);
    ``revision`` counts the line's versions (0: as first accepted, then one per cancel or
    replace); ``returns_line_id`` is the sale a return names ("" for none); ``previous`` is, for
    a replace, the replaced version as (year, territory, field, channel, units, gross,
    deductions), which it takes away.
    """

    line_number: int
    line_id: str
    licence_id: int
    period: int
    year: int
    sale_day: int
    territory: int
    field: int
    channel: int
    units: int
    gross: int
    deductions: int
    leaf: bytes
    in_scope: bool
    kind: int = 0
    revision: int = 0
    returns_line_id: str = ""
    previous: tuple[int, int, int, int, int, int, int] | None = None


class PendingLines:
    """The lines accepted in this run that the seen store cannot show yet (not stored), so that a
    cancel, a replace or a return can name a line read a moment before it.

    The owner appends every ValidLine it keeps to ``lines`` and calls ``cleared()`` once it stored
    and emptied them. Lines are indexed only when a correction asks, so plain sales pay nothing.
    """

    __slots__ = ("_index", "_indexed", "lines")

    def __init__(self, lines: list[ValidLine] | None = None) -> None:
        self.lines: list[ValidLine] = [] if lines is None else lines
        self._index: dict[tuple[int, str], ValidLine] = {}
        self._indexed = 0

    def latest(self, licence_id: int, line_id: str) -> ValidLine | None:
        """The last version of the licence's line in ``lines``, or None."""
        lines, index = self.lines, self._index
        for line in lines[self._indexed :]:
            index[line.licence_id, line.line_id] = line
        self._indexed = len(lines)
        return index.get((licence_id, line_id))

    def cleared(self) -> None:
        self._index.clear()
        self._indexed = 0


class SeenLines(ABC):
    """Store of the line ids already accepted, per licensee, with the leaf first accepted.

    An implementation backed by a database makes re-running a feed safe across restarts.
    """

    @abstractmethod
    def claim(self, licensee: str, line_id: str, leaf: bytes) -> bytes | None:
        """Record ``leaf`` for the id unless the id is known; return the known leaf, else None.

        ``licensee`` is the licensee's address in lowercase (the Validator normalises it, so
        one licensee is one namespace whatever the checksum case). Must be atomic per
        (licensee, line_id): two claims of a new id never both return None.
        """

    def release(self, licensee: str, line_id: str) -> None:
        """Forget the claim just made for the id (its line was refused after all), so a later
        line with the id is judged as new."""
        raise NotImplementedError(f"{type(self).__name__} cannot release a claim")

    def latest(self, licensee: str, line_id: str) -> ValidLine | None:
        """The latest stored version of the licensee's line (``year`` -1: the validator derives
        it), or None. A store that keeps only leaves knows none, and every cancel or replace of
        a line not read in the same run is then refused as unknown."""
        return None


class ReportedPeriods(Protocol):
    """Which (licence, period) already went into a report (the oracle's outbox knows). Lines of
    such a period go into an adjustment of it; the validator no longer asks."""

    def report_of(self, licence_id: int, period: int) -> int | None:
        """The id of the report that covers the licence's period, or None while it is open."""
        ...


class InMemorySeenLines(SeenLines):
    """SeenLines in a dict, for one process (tests, a one-shot CLI run). Versions of lines (its
    cancels and replaces) are the validator's PendingLines' to know."""

    def __init__(self) -> None:
        self._by_licensee: dict[str, dict[str, bytes]] = {}

    def claim(self, licensee: str, line_id: str, leaf: bytes) -> bytes | None:
        ids = self._by_licensee.get(licensee)
        if ids is None:
            ids = self._by_licensee[licensee] = {}
        known = ids.get(line_id)
        if known is None:
            ids[line_id] = leaf
        return known

    def release(self, licensee: str, line_id: str) -> None:
        self._by_licensee[licensee].pop(line_id, None)

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._by_licensee.values())


@dataclass(slots=True)
class ValidationStats:
    """Counts of one validation run.

    Every input record lands in exactly one of ``valid``, ``rejected`` and ``duplicates``;
    ``out_of_scope`` counts the valid lines reported as scope breaches.
    """

    valid: int = 0
    rejected: int = 0
    duplicates: int = 0
    out_of_scope: int = 0
    rejected_by_field: dict[str, int] = field(default_factory=dict)


class _Licence:
    """LicenceInfo plus the values the hot path needs, precomputed."""

    __slots__ = (
        "channels",
        "currency",
        "days",
        "decimals",
        "fields",
        "info",
        "licence_word",
        "licensee",
        "period_and_year_of_day",
        "sell_off_end",
        "term_start",
        "territories",
    )

    def __init__(self, info: LicenceInfo) -> None:
        self.info = info
        self.licensee = info.licensee.lower()
        self.licence_word = info.licence_id.to_bytes(32, "big")
        self.currency = info.currency
        self.decimals = info.decimals
        self.term_start = info.term_start
        # sale day -> (period, contract year): this validator's own memo in front of the rule's,
        # so that a day seen before costs one dict lookup and no method call.
        self.days: dict[int, tuple[int, int]] = {}
        self.period_and_year_of_day = info.rule.period_and_year_of_day
        self.sell_off_end = info.sell_off_end
        self.territories = info.scope.territories
        self.fields = info.scope.fields
        self.channels = info.scope.channels


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(sale_day: int) -> str:
    return datetime.fromtimestamp(sale_day, UTC).date().isoformat()


class Validator:
    """Validates parsed lines against ``licences``, remembering ids in ``seen``.

    ``stats`` counts every line checked (and every parser rejection passed to
    ``count_rejection``), so a run can show that nothing was lost. ``reported`` is kept for the
    callers that pass it: a line of a reported period is no longer late (it goes into an
    adjustment). ``pending`` shows cancels, replaces and returns the lines accepted in this run
    that ``seen`` has not stored yet.
    """

    def __init__(
        self,
        licences: Mapping[int, LicenceInfo],
        seen: SeenLines,
        reported: ReportedPeriods | None = None,
        pending: PendingLines | None = None,
    ) -> None:
        self._licences = {lid: _Licence(info) for lid, info in licences.items()}
        self._claim = seen.claim
        self._release = seen.release
        self._seen = seen
        self._pending = pending
        self.stats = ValidationStats()

    def count_rejection(self, rejection: Rejection) -> Rejection:
        """Count a rejection (the validator's own, or one the parser made) in ``stats``."""
        stats = self.stats
        stats.rejected += 1
        by_field = stats.rejected_by_field
        by_field[rejection.field] = by_field.get(rejection.field, 0) + 1
        return rejection

    def check(self, line: SaleLine) -> ValidLine | Rejection | None:
        """The validated line, its rejection, or None for a duplicate of an accepted line."""
        prepared = self.prepare(line)
        if type(prepared) is Rejection:
            return self.count_rejection(prepared)
        return self.admit(prepared)  # type: ignore[arg-type]

    def prepare(self, line: SaleLine) -> Prepared | Rejection:
        """The checks against the licence, which need no store: the line with its licence
        period and contract year and amounts in the licence's decimals, or its Rejection (not counted yet).

        ``check`` is ``admit(prepare(line))``; the two halves can run in two processes
        (intake.twostage), ``prepare`` in the one that parses.
        """
        # One flat function on purpose: it runs once per line and every call costs ~0.1 us.
        (number, line_id, licence_id, sale_day, t, f, c, units, gross, deductions, currency,
         decimals, kind, ref) = line  # fmt: skip
        licence = self._licences.get(licence_id)
        if licence is None:
            return Rejection(number, "licence_id", str(licence_id), "is not a known licence")
        if currency != licence.currency:
            if kind == LINE_CANCEL:  # no values of its own: admit takes its line's
                return (number, line_id, licence_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, kind, ref)
            return Rejection(number, "currency", currency, f"is not the licence's currency {licence.currency}")
        if sale_day < licence.term_start:
            reason = f"is before the licence term starts ({_utc(licence.term_start)})"
            return Rejection(number, "sale_date", _day(sale_day), reason)
        if sale_day >= licence.sell_off_end:
            end = _utc(licence.sell_off_end)
            reason = f"is on or after the end of the licence's term and sell-off period ({end})"
            return Rejection(number, "sale_date", _day(sale_day), reason)
        if decimals != licence.decimals:
            try:
                gross = rescale(gross, decimals, licence.decimals)
            except AmountError as err:
                return Rejection(number, "gross", err.text, err.reason)
            try:
                deductions = rescale(deductions, decimals, licence.decimals)
            except AmountError as err:
                return Rejection(number, "deductions", err.text, err.reason)
        known = licence.days.get(sale_day)
        if known is None:
            known = licence.days[sale_day] = licence.period_and_year_of_day(sale_day)
        period, year = known
        if period > _UINT32_MAX:
            return Rejection(number, "sale_date", _day(sale_day), "is beyond period 2**32-1")
        return (number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, kind, ref)

    def admit(self, prepared: Prepared) -> ValidLine | Rejection | None:
        """The leaf, the claim in the seen store and the counts, for a line ``prepare`` passed:
        the ValidLine, a Rejection for an id seen with other content or for a period already
        reported, or None for a duplicate."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, kind, _ = prepared
        if kind:
            return self._admit_entry(prepared)
        licence = self._licences[licence_id]
        leaf = leaf_fast(line_id, licence.licence_word, period, sale_day, t, f, c, units, gross, deductions)
        first = self._claim(licence.licensee, line_id, leaf)
        stats = self.stats
        if first is not None:
            if first == leaf:
                stats.duplicates += 1
                return None
            reason = f"was seen before with different content (first leaf 0x{first.hex()})"
            return self._reject(number, "line_id", line_id, reason)
        in_scope = bool(licence.territories >> t & licence.fields >> f & licence.channels >> c & 1)
        stats.valid += 1
        if not in_scope:
            stats.out_of_scope += 1
        return _new_valid_line(
            ValidLine,
            (number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions,
             leaf, in_scope, 0, 0, "", None),
        )  # fmt: skip

    # ------------------------------------------------------------ returns, cancels, replaces

    def _latest(self, licence: _Licence, line_id: str, licence_id: int) -> ValidLine | None:
        """The latest version of the licensee's line: read in this run, else stored, else None."""
        if self._pending is not None:
            found = self._pending.latest(licence_id, line_id)
            if found is not None:
                return found
        stored = self._seen.latest(licence.licensee, line_id)
        if stored is None:
            return None
        known = self._licences.get(stored.licence_id)
        if known is not None:
            _, year = known.info.rule.period_and_year_of_day(stored.sale_day)
            stored = stored._replace(year=year)
        return stored

    def _admit_entry(self, prepared: Prepared) -> ValidLine | Rejection | None:
        """``admit`` for a return, a cancel or a replace (module docstring)."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, kind, _ = prepared
        licence = self._licences[licence_id]
        if kind == LINE_RETURN:
            return self._admit_return(prepared, licence)
        verb = "cancels" if kind == LINE_CANCEL else "replaces"
        target = self._latest(licence, line_id, licence_id)
        if target is None:
            return self._reject(number, "line_id", line_id, f"{verb} line {line_id}, which this oracle never accepted")
        if target.licence_id != licence_id:
            reason = f"{verb} line {line_id} of licence {target.licence_id}, not of licence {licence_id}"
            return self._reject(number, "licence_id", str(licence_id), reason)
        if target.kind == LINE_CANCEL:
            return self._reject(number, "line_id", line_id, f"{verb} line {line_id}, which was already cancelled")
        stats = self.stats
        if kind == LINE_CANCEL:
            _, _, _, period, year, sale_day, t, f, c, units, gross, deductions = target[:12]
            in_scope = target.in_scope
            previous = None
        else:
            if period != target.period:
                reason = (
                    f"moves line {line_id} from period {target.period} to period {period}: cancel it and add a "
                    "new line instead"
                )
                return self._reject(number, "sale_date", _day(sale_day), reason)
            if (sale_day, t, f, c, units, gross, deductions) == target[5:12]:
                stats.duplicates += 1  # the values it has already: changes nothing
                return None
            in_scope = bool(licence.territories >> t & licence.fields >> f & licence.channels >> c & 1)
            previous = (
                target.year, target.territory, target.field, target.channel, target.units, target.gross,
                target.deductions,
            )  # fmt: skip
        leaf = leaf_entry(
            kind, line_id, licence.licence_word, period, sale_day, t, f, c, units, gross, deductions, target.leaf
        )
        stats.valid += 1
        if not in_scope:
            stats.out_of_scope += 1
        return ValidLine(
            number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, leaf, in_scope,
            kind, target.revision + 1, "", previous,
        )  # fmt: skip

    def _admit_return(self, prepared: Prepared, licence: _Licence) -> ValidLine | Rejection | None:
        """A return is a new line of its own id; naming a known sale, it takes back no more than it."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, _, ref = prepared
        if ref:
            original = self._latest(licence, ref, licence_id)
            if original is not None:
                problem = self._return_problem(licence, original, ref, units, gross)
                if problem is not None:
                    return self._reject(number, *problem)
        ref_word = keccak256(ref.encode("utf-8")) if ref else NO_REF
        leaf = leaf_entry(
            LINE_RETURN, line_id, licence.licence_word, period, sale_day, t, f, c, units, gross, deductions, ref_word
        )
        first = self._claim(licence.licensee, line_id, leaf)
        stats = self.stats
        if first is not None:
            if first == leaf:
                stats.duplicates += 1
                return None
            reason = f"was seen before with different content (first leaf 0x{first.hex()})"
            return self._reject(number, "line_id", line_id, reason)
        in_scope = bool(licence.territories >> t & licence.fields >> f & licence.channels >> c & 1)
        stats.valid += 1
        if not in_scope:
            stats.out_of_scope += 1
        return ValidLine(
            number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, leaf, in_scope,
            LINE_RETURN, 0, ref, None,
        )  # fmt: skip

    @staticmethod
    def _return_problem(
        licence: _Licence, original: ValidLine, ref: str, units: int, gross: int
    ) -> tuple[str, str, str] | None:
        """(column, value, reason) when a return takes back more than the sale it names."""
        if original.licence_id != licence.info.licence_id:
            return ("returns_line_id", ref, f"is line {ref} of licence {original.licence_id}, not of this licence")
        if original.kind == LINE_CANCEL:
            return ("returns_line_id", ref, f"is line {ref}, which was cancelled")
        if original.units < 0 or original.gross < 0:
            return ("returns_line_id", ref, f"is line {ref}, which is itself a return")
        if -units > original.units:
            return ("units", str(units), f"returns {-units} units of line {ref}, which sold {original.units}")
        if -gross > original.gross:
            d = licence.decimals
            reason = (
                f"returns {format_amount(-gross, d)} of gross of line {ref}, which sold "
                f"{format_amount(original.gross, d)}"
            )
            return ("gross", format_amount(gross, d), reason)
        return None

    def _reject(self, number: int, column: str, value: str, reason: str) -> Rejection:
        return self.count_rejection(Rejection(number, column, value, reason))


def validate(lines: Iterable[SaleLine | Rejection], validator: Validator) -> Iterator[ValidLine | Rejection]:
    """Validate a parser's output; parser rejections pass through (and are counted)."""
    check = validator.check
    for line in lines:
        if type(line) is Rejection:
            yield validator.count_rejection(line)
            continue
        result = check(line)  # type: ignore[arg-type]
        if result is not None:
            yield result
