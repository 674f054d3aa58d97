"""Check parsed sales lines against the licences they claim, and give each its leaf.

A line is rejected when it cannot belong to its licence at all: unknown licence, a currency the
licence cannot be paid in, a sale day outside the term (plus sell-off), amounts finer than the
token (or the line's currency) can say.
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

Sales in other currencies (docs/currencies.md): a line in the licence's currency has its amounts
in the token's decimals, as always. A line in another ISO 4217 currency is accepted only when the
licence's conversion clause converts (``LicenceInfo.fx``, rule not none); its amounts are kept
in that currency's minor units (``royalty_chain.codes.CURRENCIES``: JPY 0, EUR 2, KWD 3), as
given, never converted here, and its leaf (intake.merkle ``leaf_foreign``) commits to the
currency. The report converts them (oracle.conversion). A cancel takes its line's currency; a
return that names a sale must be in the sale's currency; a replace may change the currency.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, NamedTuple, Protocol

from intake.errors import AmountError, LicenceInfoError
from intake.feed import Rejection, SaleLine
from intake.fx import NO_MINOR_UNIT, FxClause, fx_clause
from intake.merkle import LINE_CANCEL, LINE_RETURN, LINE_SALE, NO_REF, keccak256, leaf_entry, leaf_fast, leaf_foreign
from intake.money import format_amount, rescale
from royalty_chain.calendar import LicenceCalendar
from royalty_chain.codes import CURRENCIES, Scope
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

    ``currency`` is the token's code (the licence currency: USD for USDX); ``fx`` the licence's
    conversion clause, by default the one ``intake.fx.fx_clause`` reads from the calendar.
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
    fx: FxClause | None = None
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
        if self.fx is None:
            try:
                clause = fx_clause(self.calendar)
            except ValueError as err:
                raise LicenceInfoError(f"licence {self.licence_id}: {err}") from None
            object.__setattr__(self, "fx", clause)

    @property
    def clause(self) -> FxClause:
        """The conversion clause (``fx``, never None after construction)."""
        assert self.fx is not None
        return self.fx

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
# contract year, sale day, territory, field, channel, units, gross, deductions, kind, ref,
# currency), amounts in the licence's decimals, or in the currency's minor units when
# ``currency`` is not "" (a line in another currency than the licence's); a cancel's are all
# zero and its currency "": it takes its line's.
Prepared = tuple[int, str, int, int, int, int, int, int, int, int, int, int, int, str, str]

# The version a replace takes away: (year, territory, field, channel, units, gross, deductions,
# sale day, currency, minor units), its amounts as ValidLine's are.
Previous = tuple[int, int, int, int, int, int, int, int, str, int]

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
    deductions, sale day, currency, minor units), which it takes away.

    ``currency`` is "" for a line in the licence's currency (amounts in token units), else the
    ISO 4217 code of the line's currency, whose amounts are in its ``minor_units`` (0 for ""),
    as the feed gave them.
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
    previous: Previous | None = None
    currency: str = ""
    minor_units: int = 0


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
        "converts",
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
        self.converts = info.clause.converts
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
        to_decimals = licence.decimals
        if currency != licence.currency:
            if kind == LINE_CANCEL:  # no values of its own: admit takes its line's
                return (number, line_id, licence_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, kind, ref, "")
            problem = self._currency_problem(licence, currency)
            if problem is not None:
                return Rejection(number, "currency", currency, problem)
            to_decimals = CURRENCIES[currency]
        else:
            currency = ""
        if sale_day < licence.term_start:
            reason = f"is before the licence term starts ({_utc(licence.term_start)})"
            return Rejection(number, "sale_date", _day(sale_day), reason)
        if sale_day >= licence.sell_off_end:
            end = _utc(licence.sell_off_end)
            reason = f"is on or after the end of the licence's term and sell-off period ({end})"
            return Rejection(number, "sale_date", _day(sale_day), reason)
        if decimals != to_decimals:
            try:
                gross = rescale(gross, decimals, to_decimals)
            except AmountError as err:
                return Rejection(number, "gross", err.text, _in_currency(err.reason, currency, to_decimals))
            try:
                deductions = rescale(deductions, decimals, to_decimals)
            except AmountError as err:
                return Rejection(number, "deductions", err.text, _in_currency(err.reason, currency, to_decimals))
        known = licence.days.get(sale_day)
        if known is None:
            known = licence.days[sale_day] = licence.period_and_year_of_day(sale_day)
        period, year = known
        if period > _UINT32_MAX:
            return Rejection(number, "sale_date", _day(sale_day), "is beyond period 2**32-1")
        return (
            number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, kind, ref,
            currency,
        )  # fmt: skip

    @staticmethod
    def _currency_problem(licence: _Licence, currency: str) -> str | None:
        """Why a line in ``currency`` (not the licence's) cannot be paid, or None when the
        licence's clause converts it: its amounts are then in the currency's minor units."""
        if currency not in CURRENCIES:
            if currency in NO_MINOR_UNIT:
                return (
                    "is an ISO 4217 code without a minor unit (a metal, fund or unit of account): no sale is "
                    "priced in it"
                )
            return "is not an active ISO 4217 currency code"
        if not licence.converts:
            return (
                f"is not the licence's currency {licence.currency}, and the licence's terms convert nothing "
                "(its conversion rule is none)"
            )
        if licence.currency not in CURRENCIES:
            return (
                f"cannot be converted into the licence's currency {licence.currency}, which is not an ISO 4217 "
                "currency: no published rate prices it"
            )
        return None

    def admit(self, prepared: Prepared) -> ValidLine | Rejection | None:
        """The leaf, the claim in the seen store and the counts, for a line ``prepare`` passed:
        the ValidLine, a Rejection for an id seen with other content or for a period already
        reported, or None for a duplicate."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, kind, _, currency = (
            prepared
        )
        if kind or currency:
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
             leaf, in_scope, 0, 0, "", None, "", 0),
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
        """``admit`` for a return, a cancel, a replace or a sale in another currency (module docstring)."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, kind, _, currency = (
            prepared
        )
        licence = self._licences[licence_id]
        if kind == LINE_RETURN:
            return self._admit_return(prepared, licence)
        if kind == LINE_SALE:
            return self._admit_foreign_sale(prepared, licence)
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
        minor_units = CURRENCIES[currency] if currency else 0
        if kind == LINE_CANCEL:
            _, _, _, period, year, sale_day, t, f, c, units, gross, deductions = target[:12]
            currency, minor_units = target.currency, target.minor_units
            in_scope = target.in_scope
            previous = None
        else:
            if period != target.period:
                reason = (
                    f"moves line {line_id} from period {target.period} to period {period}: cancel it and add a "
                    "new line instead"
                )
                return self._reject(number, "sale_date", _day(sale_day), reason)
            if (sale_day, t, f, c, units, gross, deductions) == target[5:12] and (currency, minor_units) == (
                target.currency,
                target.minor_units,
            ):
                stats.duplicates += 1  # the values it has already: changes nothing
                return None
            in_scope = bool(licence.territories >> t & licence.fields >> f & licence.channels >> c & 1)
            previous = (
                target.year, target.territory, target.field, target.channel, target.units, target.gross,
                target.deductions, target.sale_day, target.currency, target.minor_units,
            )  # fmt: skip
        leaf = _entry_leaf(
            kind, line_id, licence, period, sale_day, t, f, c, units, gross, deductions, target.leaf, currency,
            minor_units,
        )  # fmt: skip
        stats.valid += 1
        if not in_scope:
            stats.out_of_scope += 1
        return ValidLine(
            number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, leaf, in_scope,
            kind, target.revision + 1, "", previous, currency, minor_units,
        )  # fmt: skip

    def _admit_foreign_sale(self, prepared: Prepared, licence: _Licence) -> ValidLine | Rejection | None:
        """A sale in another currency: as any sale, with the leaf that commits to its currency."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, _, _, currency = (
            prepared
        )
        minor_units = CURRENCIES[currency]
        leaf = _entry_leaf(
            LINE_SALE, line_id, licence, period, sale_day, t, f, c, units, gross, deductions, NO_REF, currency,
            minor_units,
        )  # fmt: skip
        in_scope = self._claim_new(number, line_id, licence, leaf, t, f, c)
        if in_scope is None or isinstance(in_scope, Rejection):
            return in_scope
        return ValidLine(
            number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, leaf, in_scope,
            LINE_SALE, 0, "", None, currency, minor_units,
        )  # fmt: skip

    def _claim_new(
        self, number: int, line_id: str, licence: _Licence, leaf: bytes, t: int, f: int, c: int
    ) -> bool | Rejection | None:
        """Claims a new line's id for its leaf in the seen store and counts it: whether it is in the
        licence's scope, None for a duplicate (the same leaf), or a Rejection for an id seen with
        other content. (``admit`` does the same inline for a sale in the licence's currency.)"""
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
        return in_scope

    def _admit_return(self, prepared: Prepared, licence: _Licence) -> ValidLine | Rejection | None:
        """A return is a new line of its own id; naming a known sale, it takes back no more than it."""
        number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, _, ref, currency = (
            prepared
        )
        if ref:
            original = self._latest(licence, ref, licence_id)
            if original is not None:
                problem = self._return_problem(licence, original, ref, units, gross, currency)
                if problem is not None:
                    return self._reject(number, *problem)
        ref_word = keccak256(ref.encode("utf-8")) if ref else NO_REF
        minor_units = CURRENCIES[currency] if currency else 0
        leaf = _entry_leaf(
            LINE_RETURN, line_id, licence, period, sale_day, t, f, c, units, gross, deductions, ref_word, currency,
            minor_units,
        )  # fmt: skip
        in_scope = self._claim_new(number, line_id, licence, leaf, t, f, c)
        if in_scope is None or isinstance(in_scope, Rejection):
            return in_scope
        return ValidLine(
            number, line_id, licence_id, period, year, sale_day, t, f, c, units, gross, deductions, leaf, in_scope,
            LINE_RETURN, 0, ref, None, currency, minor_units,
        )  # fmt: skip

    @staticmethod
    def _return_problem(
        licence: _Licence, original: ValidLine, ref: str, units: int, gross: int, currency: str = ""
    ) -> tuple[str, str, str] | None:
        """(column, value, reason) when a return takes back more than the sale it names, or
        takes it back in another currency than the sale's."""
        if original.licence_id != licence.info.licence_id:
            return ("returns_line_id", ref, f"is line {ref} of licence {original.licence_id}, not of this licence")
        if original.kind == LINE_CANCEL:
            return ("returns_line_id", ref, f"is line {ref}, which was cancelled")
        if original.units < 0 or original.gross < 0:
            return ("returns_line_id", ref, f"is line {ref}, which is itself a return")
        if original.currency != currency:
            sold, returned = original.currency or licence.currency, currency or licence.currency
            reason = f"is line {ref}, sold in {sold}: a return of it is in {sold} too, not in {returned}"
            return ("returns_line_id", ref, reason)
        if -units > original.units:
            return ("units", str(units), f"returns {-units} units of line {ref}, which sold {original.units}")
        if -gross > original.gross:
            d = original.minor_units if currency else licence.decimals
            reason = (
                f"returns {format_amount(-gross, d)} of gross of line {ref}, which sold "
                f"{format_amount(original.gross, d)}"
            )
            return ("gross", format_amount(gross, d), reason)
        return None

    def _reject(self, number: int, column: str, value: str, reason: str) -> Rejection:
        return self.count_rejection(Rejection(number, column, value, reason))


def _in_currency(reason: str, currency: str, minor_units: int) -> str:
    """An amount's reason, saying whose decimals it is held to when that is a currency's."""
    if not currency:
        return reason
    return f"{reason} in {currency} (its ISO 4217 minor unit is {minor_units})"


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


def _entry_leaf(
    kind: int, line_id: str, licence: _Licence, period: int, sale_day: int, t: int, f: int, c: int, units: int,
    gross: int, deductions: int, ref: bytes, currency: str, minor_units: int,
) -> bytes:  # fmt: skip
    """The leaf of a line that is not a sale in the licence's currency (intake.merkle): the one
    that commits to its currency when it has one (``currency`` is "" for the licence's)."""
    if currency:
        return leaf_foreign(
            kind, line_id, licence.licence_word, period, sale_day, t, f, c, units, gross, deductions, ref, currency,
            minor_units,
        )  # fmt: skip
    return leaf_entry(kind, line_id, licence.licence_word, period, sale_day, t, f, c, units, gross, deductions, ref)
