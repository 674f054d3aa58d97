"""`royalty-oracle`: the command line for oracle operators.

royalty-oracle submit examples/feeds/*.csv   # ingest, sign due periods, settle; summary table
royalty-oracle watch data/oracle/inbox       # service: ingest each feed dropped into a folder once
royalty-oracle status                        # the outbox: lines and reports by state
royalty-oracle close-period 3 5              # report licence 3's period 5 before it is due
royalty-oracle audit FEED --licence 3 --period 5 --cost 3000.00   # an audit finding of a settled period
royalty-oracle proof LINE_ID                 # a line's Merkle proof against its report's root
royalty-oracle keep                          # keeper: releases, guarantee shortfalls, date reviews, expiry (--once)
royalty-oracle rates load FILE --source ECB --base EUR   # exchange rates for sales in other currencies
royalty-oracle rates show --source ECB --base EUR --currency JPY [--from DATE --to DATE]
royalty-oracle indices load FILE             # index values (index,month,value) for escalation steps
royalty-oracle indices show [--index US-CPI-U]
royalty-oracle benchmarks load FILE          # benchmark values (date,benchmark,value) for rate reviews
royalty-oracle benchmarks show [--benchmark DATA-LIC-RATE]
"""

from __future__ import annotations

import atexit
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import structlog
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from intake.merkle import merkle_proof, verify
from oracle import benchmarks_cli, indices_cli, rates_cli
from oracle.audit import AuditError, AuditOutcome, QueuedAudit, audit_outcome
from oracle.conversion import ConversionHeld
from oracle.directory import LicenceDirectory
from oracle.escalation import StepRound
from oracle.inbox import FeedInbox
from oracle.ingest import IngestResult
from oracle.keeper import Keeper, KeeperSettings
from oracle.reviews import ReviewRound
from oracle.service import OracleService, SendResult
from oracle.settings import OracleSettings, SettingsError
from outbox import Outbox
from outbox.benchmarks import ReviewHold
from outbox.indices import EscalationHold
from outbox.lease import LeaseLost, SenderLease
from outbox.migrate import shown
from outbox.rates import RateHold
from royalty_chain.client import Chain
from royalty_chain.escalation import month_text, points
from royalty_chain.manifest import Manifest, ManifestError
from royalty_chain.reviews import benchmark_text
from royalty_chain.transport import RpcError, wait_for_rpc
from royalty_chain.units import format_amount

app = typer.Typer(help="Royalty oracle: turn sales feeds into signed reports that settle exactly once.")
app.add_typer(rates_cli.app, name="rates")
app.add_typer(indices_cli.app, name="indices")
app.add_typer(benchmarks_cli.app, name="benchmarks")
console = Console()
log = structlog.get_logger("oracle")
DAY = 86_400
# (licence, period) -> the period's name by the licence's calendar ("2025-Q1"), "" if unknown.
PeriodName = Callable[[int, int], str]


def _period(period_name: PeriodName | None, licence_id: int, period: int) -> str:
    """A period as the operator reads it: its index and, when known, its name: ``1 (2025-Q2)``."""
    name = period_name(licence_id, period) if period_name is not None else ""
    return f"{period} ({name})" if name else str(period)


def _offline_period_names(settings: OracleSettings) -> PeriodName | None:
    """Period names from the chain for the commands that work without it (status, proof): None
    when the chain cannot be reached quickly, and the tables show period indexes only."""
    try:
        chain_id = wait_for_rpc(settings.rpc_url, timeout=2)
        chain = Chain(settings.rpc_url, Manifest.load(settings.manifest_path(chain_id)), fee_caps=settings.fee_caps())
    except (RpcError, ManifestError, OSError):
        return None
    directory = LicenceDirectory(chain)

    def name(licence_id: int, period: int) -> str:
        try:
            return directory.period_name(licence_id, period)
        except (RpcError, LookupError, ValueError):
            return ""

    return name


def _configure_logging(verbose: bool) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


@contextmanager
def _configuration(prefix: str) -> Iterator[None]:
    """A setting, manifest or node that is not right ends the command with exit 2, saying which."""
    try:
        yield
    except ValidationError as err:
        problems = "; ".join(f"{prefix}_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors())
        console.print(f"[red]configuration error:[/red] {problems}")
        raise typer.Exit(2) from err
    except (SettingsError, ManifestError, RpcError) as err:
        console.print(f"[red]configuration error:[/red] {err}")
        raise typer.Exit(2) from err


def _service(verbose: bool = False, *, wait_for_lease: bool = True) -> OracleService:
    """The oracle over its outbox, with the sender lease: a one-shot command waits for it (at most
    a takeover time) and stops with exit 3 if another instance keeps it; ``watch`` takes it itself."""
    _configure_logging(verbose)
    with _configuration("ORACLE"):
        settings = OracleSettings()
        chain_id = wait_for_rpc(settings.rpc_url, timeout=10)
        manifest = Manifest.load(settings.manifest_path(chain_id))
        chain = Chain(settings.rpc_url, manifest, fee_caps=settings.fee_caps())
        outbox = Outbox(settings.outbox_path)
        lease = SenderLease(
            outbox.engine,
            ttl=settings.lease_seconds,
            renew_every=settings.lease_renew_seconds,
            holder=settings.instance_id,
        )
        if wait_for_lease:
            _take_lease(lease)
        return OracleService(
            chain,
            outbox,
            settings.signers(chain_id),
            settings.sender(chain_id),
            grace_seconds=settings.grace_seconds,
            report_ttl_seconds=settings.report_ttl_seconds,
            batch_size=settings.batch_size,
            nil_reports=settings.nil_reports,
            nil_reports_per_licence=settings.nil_reports_per_licence,
            lease=lease,
        )


def _take_lease(lease: SenderLease) -> None:
    """Waits up to one takeover time (ttl + renew interval) for the sender lease, then renews it
    in the background until the command ends (released at exit)."""
    deadline = time.monotonic() + lease.ttl + lease.renew_every
    while not lease.acquire():
        if time.monotonic() > deadline:
            state = lease.state()
            console.print(
                f"[red]another oracle instance sends:[/red] {state.holder} holds the sender lease "
                f"(epoch {state.epoch}, {state.expires_in:.1f}s left); it sends what is in the outbox"
            )
            raise typer.Exit(3)
        time.sleep(lease.renew_every)
    lease.start_renewing()
    atexit.register(lease.release)  # the commands release it as they end; this covers an exception


@contextmanager
def _releasing(service: OracleService) -> Iterator[None]:
    """Gives the sender lease up when a one-shot command is done (a standby takes over at once)."""
    try:
        yield
    finally:
        if service.lease is not None:
            service.lease.release()


def _ingest_with_progress(service: OracleService, paths: list[Path]) -> list[IngestResult]:
    results = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        for path in paths:
            total = sum(1 for _ in path.open("rb"))
            task = progress.add_task(path.name, total=total)

            def advance(n: int, t: TaskID = task) -> None:
                progress.update(t, completed=n)

            results.append(service.ingest(path, on_progress=advance))
    return results


def _print_results(
    ingested: list[IngestResult],
    built: list[int],
    sent: SendResult,
    period_name: PeriodName | None = None,
    held_reports: Sequence[ConversionHeld] = (),
) -> None:
    if ingested:  # `send` and `audit` read no feed of their own here
        table = Table(title="Feeds")
        for column in ("file", "lines read", "valid", "rejected", "duplicates", "out of scope", "rejects file"):
            table.add_column(column, justify="right" if column not in ("file", "rejects file") else "left")
        for r in ingested:
            table.add_row(
                Path(r.path).name,
                str(r.lines_read),
                str(r.valid),
                str(r.rejected),
                str(r.duplicates),
                str(r.out_of_scope),
                r.rejects_file or "",
            )
        console.print(table)
    for r in ingested:
        for rejection in r.rejections[:10]:
            console.print(f"  [yellow]{Path(r.path).name}[/yellow] {rejection}")
        if r.rejected > 10:
            console.print(f"  ... {r.rejected - 10} more in {r.rejects_file}")
    reports = Table(title=f"Reports: {len(built)} signed, {sent.sent} sent, {len(sent.settled)} settled")
    for column in ("report", "licence", "period", "lines", "settlement", "royalty", "paid", "state"):
        reports.add_column(column, justify="right")
    for stored in sent.settled:
        reports.add_row(
            str(stored.id),
            str(stored.licence_id),
            _period(period_name, stored.licence_id, stored.period),
            str(stored.line_count),
            str(stored.settlement_id),
            str(stored.royalty),
            str(sent.paid.get(stored.id, "")),
            stored.state,
        )
    for stored in sent.rejected:
        reports.add_row(
            str(stored.id),
            str(stored.licence_id),
            _period(period_name, stored.licence_id, stored.period),
            str(stored.line_count),
            "",
            "",
            "",
            f"rejected: {stored.error}",
        )
    console.print(reports)
    if sent.waiting:
        console.print(f"{sent.waiting} report(s) still waiting (see `royalty-oracle status`)")
    for held in held_reports:
        shown = _period(period_name, held.licence_id, held.period)
        console.print(f"[yellow]licence {held.licence_id} period {shown} not signed:[/yellow] {held.reason}")


@app.command()
def submit(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Ingest feed files, sign every period that is due, and settle the reports."""
    service = _service(verbose)
    with _releasing(service):
        ingested = _ingest_with_progress(service, files)
        built = service.build_reports()
        sent = service.send()
    _print_results(ingested, built, sent, service.builder.period_name, service.builder.held)


@app.command()
def send(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Sign due periods and send every unfinished report (after reconciling with the chain), then
    the escalation steps whose index values are loaded, then the review evidence that loaded
    benchmark values and settled volume fire."""
    service = _service(verbose)
    with _releasing(service):
        built = service.build_reports()
        sent = service.send()
        steps = service.step_escalations()
        reviews = service.fire_reviews()
    _print_results([], built, sent, service.builder.period_name, service.builder.held)
    _print_steps(steps)
    _print_reviews(reviews)


_sigterm = threading.Event()


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    # Also remembered: raised where Python ignores exceptions (an at-fork hook of logging when the
    # parsing process starts, a finaliser), the KeyboardInterrupt is printed as "Exception
    # ignored" and lost, and the service ran on (the fault soak saw one outlive two SIGTERMs).
    _sigterm.set()
    raise KeyboardInterrupt


@app.command()
def watch(
    inbox: Annotated[Path, typer.Argument(file_okay=False)],
    once: Annotated[bool, typer.Option(help="process what is there, then stop")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """Run as a service: ingest each feed dropped into INBOX once, moving it through
    INBOX/claimed to INBOX/processed (with its rejects file and receipt), or to INBOX/quarantine
    after ORACLE_INBOX_MAX_ATTEMPTS failed attempts."""
    service = _service(verbose, wait_for_lease=False)
    settings = OracleSettings()
    lease = service.lease
    assert lease is not None
    feeds = FeedInbox(inbox, max_attempts=settings.inbox_max_attempts, fault=service.fault)
    # SIGTERM (make run's stop, a service manager) stops like Ctrl-C: the feed in hand is resumed
    # at the next start, and the interrupted attempt does not count against it.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    console.print(f"watching {inbox} (Ctrl-C to stop)")
    if once:
        _take_lease(lease)  # a single round waits for the lease like the one-shot commands
    lease.start_renewing()
    try:
        while not _sigterm.is_set():
            # Only the lease's holder reads feeds, signs and sends; a standby only tries to take it.
            if not lease.acquire():
                if once:
                    return
                if _sigterm.wait(lease.renew_every):
                    break
                continue
            try:
                outcomes = service.ingest_inbox(feeds)
                ingested = [o.result for o in outcomes if o.result is not None]
                built = service.build_reports()
                sent = service.send()
                steps = service.step_escalations()
                reviews = service.fire_reviews()
            except LeaseLost as err:
                service.conn.rollback()
                log.warning("sender_lease_lost_mid_round", error=str(err))
                continue
            if ingested or built or sent.settled or sent.rejected:
                _print_results(ingested, built, sent, service.builder.period_name, service.builder.held)
            if steps.stepped:
                _print_steps(steps)
            if reviews.opened:
                _print_reviews(reviews)
            for outcome in outcomes:
                if outcome.state == "quarantined":
                    console.print(f"[red]{outcome.feed} quarantined[/red] in {outcome.bundle}: {outcome.error}")
                elif outcome.state == "retrying":
                    attempt = f"attempt {outcome.attempt} of {feeds.max_attempts}"
                    console.print(f"[yellow]{outcome.feed} failed[/yellow] ({attempt}): {outcome.error}")
            if once:
                return
            if _sigterm.wait(settings.poll_seconds):
                break
        console.print("stopped")
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        lease.release()


@app.command()
def status() -> None:
    """Lines and reports in the outbox, by state."""
    settings = OracleSettings()
    outbox = Outbox(settings.outbox_path)
    period_name = _offline_period_names(settings)
    with outbox.connect() as conn:
        counts = outbox.counts(conn)
        table = Table(title=f"Outbox {shown(settings.outbox_path)}")
        table.add_column("what")
        table.add_column("count", justify="right")
        for key in sorted(counts):
            table.add_row(key.replace("_", " "), str(counts[key]))
        console.print(table)
        reports = Table(title="Reports")
        columns = ("id", "licence", "period", "kind", "corrects", "seq", "lines", "state", "settlement", "royalty")
        for column in (*columns, "error"):
            reports.add_column(column)
        for r in outbox.all_reports(conn):
            reports.add_row(
                str(r.id),
                str(r.licence_id),
                _period(period_name, r.licence_id, r.period),
                f"{r.kind} {r.adjustment}" if r.adjustment else r.kind,
                str(r.corrects or ""),
                str(r.sequence),
                str(r.line_count),
                r.state,
                str(r.settlement_id or ""),
                str(r.royalty or ""),
                r.error or "",
            )
        console.print(reports)
        _print_holds(outbox.rate_holds(conn), period_name)
        _print_escalation_holds(outbox.escalation_holds(conn))
        _print_review_holds(outbox.review_holds(conn))


def _print_holds(holds: list[RateHold], period_name: PeriodName | None) -> None:
    """The periods whose report waits for exchange rates (not signed yet: their lines wait)."""
    if not holds:
        return
    table = Table(title=f"Reports waiting for rates: {len(holds)}")
    for column in ("licence", "period", "source", "currency", "days without a rate", "since", "reason"):
        table.add_column(column)
    for hold in holds:
        since = datetime.fromtimestamp(hold.held_since, UTC).strftime("%Y-%m-%d %H:%M")
        shown = _period(period_name, hold.licence_id, hold.period)
        for missing in hold.missing or [{"currency": "", "days": []}]:
            table.add_row(
                str(hold.licence_id),
                shown,
                hold.source,
                missing["currency"],
                ", ".join(missing["days"]),
                since,
                str(missing.get("reason", "")) if hold.missing else hold.reason,
            )
    console.print(table)
    console.print(
        "a report waiting for rates is signed in the next round once its rates are loaded "
        "(`royalty-oracle rates load FILE --source SOURCE --base BASE`)"
    )


def _print_steps(steps: StepRound) -> None:
    """The escalation steps of the round: applied, and still waiting (for index values or refused)."""
    if steps.stepped:
        table = Table(title=f"Escalation steps: {len(steps.stepped)} applied")
        for column in ("licence", "step", "index", "from", "to", "schedule version", "in force from", "tx"):
            table.add_column(column)
        for s in steps.stepped:
            table.add_row(
                str(s.licence_id),
                str(s.step),
                s.index,
                f"{month_text(s.from_month)} {points(s.from_value)}",
                f"{month_text(s.to_month)} {points(s.to_value)}",
                str(s.version),
                _day(s.effective_from),
                s.tx_hash,
            )
        console.print(table)
    for w in steps.waiting:
        console.print(f"[yellow]licence {w.licence_id} escalation step {w.step} not sent:[/yellow] {w.reason}")


def _print_escalation_holds(holds: list[EscalationHold]) -> None:
    """The licences whose next escalation step waits for index values (or was refused)."""
    if not holds:
        return
    table = Table(title=f"Escalation steps waiting: {len(holds)}")
    for column in ("licence", "step", "index", "months without a value", "since", "reason"):
        table.add_column(column)
    for hold in holds:
        since = datetime.fromtimestamp(hold.held_since, UTC).strftime("%Y-%m-%d %H:%M")
        for missing in hold.missing or [{"index": "", "months": []}]:
            table.add_row(
                str(hold.licence_id),
                str(hold.step),
                missing["index"],
                ", ".join(missing["months"]),
                since,
                str(missing.get("reason", "")) if hold.missing else hold.reason,
            )
    console.print(table)
    console.print(
        "a step waiting for index values is sent in the next round once they are loaded "
        "(`royalty-oracle indices load FILE`)"
    )


def _print_reviews(reviews: ReviewRound) -> None:
    """The reviews the round's evidence opened, and the triggers still waiting (or refused)."""
    if reviews.opened:
        table = Table(title=f"Rate reviews: {len(reviews.opened)} opened")
        for column in ("licence", "review", "trigger", "observed", "reference", "rate", "suggested", "tx"):
            table.add_column(column)
        for r in reviews.opened:
            shown = benchmark_text if r.trigger == "benchmark" else str
            table.add_row(
                str(r.licence_id), str(r.review_id), r.trigger, shown(r.observed), shown(r.reference),
                f"{r.current_rate_bps} bps", f"{r.suggested_rate_bps} bps", r.tx_hash,
            )  # fmt: skip
        console.print(table)
    for w in reviews.waiting:
        if w.error:
            console.print(f"[yellow]licence {w.licence_id} {w.trigger} review not fired:[/yellow] {w.reason}")


def _print_review_holds(holds: list[ReviewHold]) -> None:
    """The served licences' review triggers that have not fired: what each waits for."""
    if not holds:
        return
    table = Table(title=f"Review triggers waiting: {len(holds)}")
    for column in ("licence", "trigger", "fires on", "since", "reason", "error"):
        table.add_column(column)
    for hold in holds:
        since = datetime.fromtimestamp(hold.held_since, UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(str(hold.licence_id), hold.trigger, hold.waits_for, since, hold.reason, hold.error)
    console.print(table)
    console.print(
        "a benchmark review fires in the next round once a loaded value moves beyond the clause's limit "
        "(`royalty-oracle benchmarks load FILE`); a volume review once settled net sales reach the threshold"
    )


def _print_queued_audit(queued: QueuedAudit) -> None:
    report = queued.report
    table = Table(title="Audit finding queued")
    for column in ("report", "licence", "period", "corrects", "lines", "adds", "takes away", "cost", "reference"):
        table.add_column(column, justify="left" if column in ("period", "reference") else "right")
    table.add_row(
        str(report.id),
        str(report.licence_id),
        f"{report.period} ({queued.period_name})",
        str(report.corrects),
        str(report.line_count),
        f"{len(report.buckets)} bucket(s)",
        f"{len(report.returned)} bucket(s)",
        f"{queued.cost} {queued.currency}",
        report.finding_ref or "",
    )
    console.print(table)
    if queued.found_nothing:
        console.print(
            f"an audit that found nothing: no line changes, so no underpayment. Its cost ({queued.cost} "
            f"{queued.currency}) is charged only when the underpayment exceeds the licence's threshold, "
            "that is never: it settles as an audit of 0 and the cost is not charged"
        )


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _print_audit_outcome(outcome: AuditOutcome, queued: QueuedAudit) -> None:
    def money(amount: int) -> str:
        return f"{format_amount(amount, queued.decimals)} {queued.currency}"

    threshold = f"{outcome.threshold_bps / 100:g}%"
    found = (
        f"audit settlement {outcome.settlement_id}: underpayment {money(outcome.underpayment)} against "
        f"{money(outcome.reported_royalty)} settled for the period"
    )
    if not outcome.exceeded:
        console.print(
            f"{found}, not above the licence's threshold of {threshold}: due as it settles (no interest from "
            f"the period's due date), and the audit's cost ({queued.cost} {queued.currency}) is not charged"
        )
        return
    console.print(f"{found}, above the licence's threshold of {threshold}: due from the period's original due date")
    for settlement_id, start, end, amount in outcome.interest:
        console.print(
            f"  interest {money(amount)} (settlement {settlement_id}) from {_day(start)} to {_day(end)} "
            f"({end - start} seconds, {(end - start) / DAY:g} days late)"
        )
    if outcome.audit_cost_id:
        console.print(f"  audit cost {money(outcome.audit_cost)} charged as settlement {outcome.audit_cost_id}")


@app.command()
def audit(
    feed: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    licence: Annotated[int, typer.Option("--licence", help="the licence audited")],
    period: Annotated[int, typer.Option("--period", help="the settled period audited (its index)")],
    cost: Annotated[
        str, typer.Option("--cost", help="what the audit cost, in the licence token's decimals like a feed (3000.00)")
    ],
    finding_ref: Annotated[
        str | None, typer.Option("--finding-ref", help="your reference for the finding, kept in the outbox")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Submit an audit finding of a settled period: FEED's lines (new sales, cancels, replaces;
    all of LICENCE and PERIOD) are signed into an audit adjustment stating COST, then sent. An
    underpayment above the licence's audit threshold is due from the period's original due date
    (interest runs from it) and the cost is charged; below it, neither."""
    service = _service(verbose)
    with _releasing(service):
        _audit(service, feed, licence, period, cost, finding_ref)


def _audit(service: OracleService, feed: Path, licence: int, period: int, cost: str, finding_ref: str | None) -> None:
    try:
        queued = service.queue_audit(feed, licence_id=licence, period=period, cost=cost, finding_ref=finding_ref)
    except AuditError as err:
        console.print(f"[red]audit finding not queued:[/red] {err}")
        for problem in err.problems:
            console.print(f"  {problem}")
        console.print("nothing was stored")
        raise typer.Exit(1) from err
    _print_queued_audit(queued)
    sent = service.send()
    _print_results([], [queued.report.id], sent, service.builder.period_name)
    settled = next((s for s in sent.settled if s.id == queued.report.id), None)
    if settled is None or settled.settlement_id is None:
        state = service.outbox.get_report(service.conn, queued.report.id).state
        if state != "rejected":  # a rejection is in the table, with its reason
            console.print(
                f"audit finding report {queued.report.id} is in the outbox ({state}), not settled yet: "
                "`royalty-oracle send` (or the running oracle) sends it"
            )
        return
    outcome = audit_outcome(service.chain, settled.settlement_id)
    if outcome is not None:
        _print_audit_outcome(outcome, queued)


@app.command("close-period")
def close_period(licence_id: int, period: int) -> None:
    """Report LICENCE_ID's PERIOD as soon as it has ended, without waiting for the grace period."""
    service = _service(wait_for_lease=False)  # it sends nothing: the lease's holder reports the period
    service.close_period(licence_id, period)
    shown = _period(service.builder.period_name, licence_id, period)
    console.print(f"licence {licence_id} period {shown} closed: it is reported in the next round")


@app.command()
def proof(
    line_id: str,
    licensee: Annotated[str | None, typer.Option(help="the licensee's address, if ids repeat")] = None,
) -> None:
    """Print a line, the report it went into and its Merkle proof against that report's root."""
    settings = OracleSettings()
    outbox = Outbox(settings.outbox_path)
    period_name = _offline_period_names(settings)
    with outbox.connect() as conn:
        rows = outbox.find_line(conn, line_id, licensee)
        if not rows:
            console.print(f"[red]no line {line_id!r} in the outbox[/red]")
            raise typer.Exit(1)
        for row in rows:
            if row["report_id"] is None:
                console.print(f"line {line_id} of licence {row['licence_id']} is {row['state']}: not in a report yet")
                continue
            report = outbox.get_report(conn, row["report_id"])
            leaves = outbox.period_leaves(conn, row["licence_id"], row["period"], report_id=report.id)
            leaf = bytes(row["leaf"])
            path = merkle_proof(leaves, leaf)
            ok = verify(path, report.lines_root, leaf)
            console.print(
                f"line {line_id} (revision {row['revision']}): licence {row['licence_id']} period "
                f"{_period(period_name, row['licence_id'], row['period'])} {report.kind} report {report.id} "
                f"(settlement {report.settlement_id})"
            )
            console.print(f"  leaf 0x{leaf.hex()}\n  root 0x{report.lines_root.hex()}  verified={ok}")
            for node in path:
                console.print(f"  0x{node.hex()}")


@app.command()
def keep(
    once: Annotated[bool, typer.Option(help="one round, then stop")] = False,
    interval: Annotated[float | None, typer.Option(help="seconds between rounds (KEEPER_INTERVAL_SECONDS)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """Run the keeper: release settlements whose dispute window closed, charge guarantee
    shortfalls of ended contract years, fire rate reviews whose review date has come, log
    expiries. Configured by KEEPER_ settings."""
    _configure_logging(verbose)
    with _configuration("KEEPER"):
        settings = KeeperSettings()
        chain_id = wait_for_rpc(settings.rpc_url, timeout=10)
        chain = Chain(settings.rpc_url, Manifest.load(settings.manifest_path(chain_id)), fee_caps=settings.fee_caps())
        keeper = Keeper(
            chain,
            settings.account(chain_id),
            receipt_timeout=settings.receipt_timeout_seconds,
            log_block_span=settings.log_block_span,
        )
    if once:
        done = keeper.round()
        console.print(
            f"keeper round: {len(done.released)} release(s), {len(done.charged)} guarantee charge(s), "
            f"{len(done.reviews)} date review(s) opened, {len(done.waiting)} year(s) waiting, {done.failed} failed"
        )
        return
    # SIGTERM (make run's stop, a service manager) ends the run after the action in hand.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: keeper.stop.set())
    try:
        keeper.run(interval if interval is not None else settings.interval_seconds)
    except KeyboardInterrupt:
        console.print("stopped")


if __name__ == "__main__":
    app()
