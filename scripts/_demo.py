"""Demo data for `make run`: the example licences registered, funded, reported and settled.

The licences report calendar quarters (examples/licences): the oracle settles every quarter that
has ended by the chain's clock, a nil report for a quarter without sales. Then the trademark
licensee pays part of its arrears late (after their due dates), and the ledger charges 12% a year
interest on what it paid, as settlements of their own.

Every step asks the chain (or the oracle's outbox) first, so running it again changes nothing:
a licence whose terms are already registered is found by its salt, a feed already read is all
duplicates, a guarantee already charged or a dispute already opened is left alone.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from intake.benchmarks import read_benchmark_file
from intake.fx import RATE_DECIMALS, read_rate_file
from intake.indices import read_index_file
from intake.money import format_amount
from oracle.audit import AuditError
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.actions import attach_escalation, register_licence
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.dev.keys import dev_account_of, role
from royalty_chain.dev.licence_files import LicenceSpec, resolve_address, to_units
from royalty_chain.eip712 import dispute_digest, sign_digest
from royalty_chain.escalation import month_text, points
from royalty_chain.models import Kind
from royalty_chain.reviews import ReviewClause, ReviewStatus
from royalty_chain.spec import to_clause
from royalty_chain.terms import DAY, Terms

LATE_PAYMENT = "1000.00"  # what the trademark licensee pays of its arrears, after their due dates
AUDIT = ("voltcell-patent", 2, "2500.00", "VC-AUDIT-2026-01")  # licence, period (2025-Q3), cost, reference
# Exchange rates for the design licence's sales in EUR and JPY (examples/rates): the file, the
# publisher its clause names and the file's base. Illustrative values in the ECB's format.
RATE_FILES = (("ecb-2025-h1.csv", "ECB", "EUR"),)
# Index values for the audio licence's escalation clause (examples/indices): the US CPI-U of each
# October. Illustrative values in the publisher's form, not the published index.
INDEX_FILES = ("us-cpi-u.csv",)
# A rate review for the data-set licence: both parties sign a clause reviewing its rates when the
# market benchmark for data licences moves more than 10% from 4.00 at signing; the oracle loads
# the benchmark's values (examples/benchmarks: the latest, 4.60, published on the day the demo
# runs) and, that being beyond the clause's move, signs the evidence itself and fires the review,
# which suggests every rate x 4.60 / 4.00, left open for both parties to sign (or either to
# decline). Illustrative benchmark name and values.
REVIEW = ("geodata-dataset", "DATA-LIC-RATE", 4_000_000, 1_000)  # licence, benchmark, at signing, move
BENCHMARK_FILES = ("data-lic-rate.csv.tmpl",)  # {today}: the chain's date when they are loaded


@dataclass
class DemoRow:
    name: str
    licence_id: int
    kind: str
    status: str
    settled: int
    royalty: str
    arrears: str
    escrow: str
    interest: str = "0"  # interest charged on late payment
    nil_reports: int = 0
    adjustments: int = 0


@dataclass
class DemoResult:
    rows: list[DemoRow] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_licence(chain: Chain, terms: Terms) -> int | None:
    """The id of a licence registered with exactly these terms' salt and parties, if any."""
    for event in chain.registry.events("LicenceRegistered", licensor=terms.licensor):
        salt = bytes.fromhex(event.args["terms"]["salt"][2:])
        if salt == terms.salt and event.args["licensee"].lower() == terms.licensee.lower():
            return int(event.args["licenceId"])
    return None


def _mint_and_approve(chain: Chain, terms: Terms, amount: int) -> None:
    licensee = dev_account_of(terms.licensee)
    token = chain.token(terms.token)
    token.mint(licensee.address, amount, licensee)
    token.approve(chain.ledger.address, amount, licensee)


def _register(chain: Chain, spec: LicenceSpec, console: Console) -> tuple[int, Terms]:
    terms = spec.to_terms(chain.manifest)
    licence_id = find_licence(chain, terms)
    if licence_id is not None:
        return licence_id, terms
    deposit = to_units(spec.deposit, spec.decimals(chain.manifest), "deposit")
    _mint_and_approve(chain, terms, terms.advance + deposit)
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    licence_id = register_licence(
        chain,
        terms,
        dev_account_of(terms.licensor),
        dev_account_of(terms.licensee),
        role("relayer"),
        deadline=now + DAY,
    )
    if deposit:
        chain.ledger.deposit(licence_id, deposit, dev_account_of(terms.licensee))
    console.print(f"registered {spec.name!r} as licence {licence_id} (signed by both parties, relayed)")
    return licence_id, terms


def _attach_clause(chain: Chain, licence_id: int, spec: LicenceSpec, terms: Terms, console: Console) -> None:
    """Both parties sign the licence file's escalation clause and the relayer attaches it (once)."""
    if chain.escalator.clause_of(licence_id) is not None:
        return
    assert spec.escalation is not None
    clause = to_clause(spec.escalation, spec.decimals(chain.manifest))
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    attach_escalation(
        chain, licence_id, clause, dev_account_of(terms.licensor), dev_account_of(terms.licensee), role("relayer"),
        deadline=now + DAY,
    )  # fmt: skip
    console.print(f"attached {spec.name!r}'s escalation clause ({clause.index}, signed by both parties, relayed)")


def _attach_review(chain: Chain, licence_id: int, terms: Terms, console: Console) -> None:
    """REVIEW's clause, signed by both parties and attached (once)."""
    _, benchmark, at_signing, move_bps = REVIEW
    reviews = chain.reviews
    if reviews.clause_of(licence_id) is not None:
        return
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    clause = ReviewClause(benchmark=benchmark, benchmark_at_signing=at_signing, move_bps=move_bps)
    digest = reviews.attach_digest(licence_id, clause, now + DAY)
    licensor, licensee = dev_account_of(terms.licensor), dev_account_of(terms.licensee)
    reviews.attach(
        licence_id, clause, now + DAY, sign_digest(digest, licensor.key), sign_digest(digest, licensee.key),
        role("relayer"),
    )  # fmt: skip
    console.print(f"attached a rate-review clause to licence {licence_id} ({benchmark}, signed by both parties)")


def _load_benchmarks(chain: Chain, oracle: OracleService, examples: Path, data: Path) -> None:
    """The benchmark files, dated to the chain's day (``{today}``), stored as `royalty-oracle
    benchmarks load` stores them (again: known)."""
    today = datetime.fromtimestamp(int(chain.w3.eth.get_block("latest")["timestamp"]), UTC).date()
    out = data / "demo" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    for template in BENCHMARK_FILES:
        path = out / template.removesuffix(".tmpl")
        path.write_text((examples / "benchmarks" / template).read_text().replace("{today}", today.isoformat()))
        # A dev chain whose clock was moved ahead has its own "today": its values are not in its future.
        parsed = read_benchmark_file(path, today=max(today, datetime.now(UTC).date()))
        oracle.outbox.store_benchmarks(oracle.conn, parsed, path.name)


def _benchmark(value: int) -> str:
    return f"{value / 10**6:.2f}"  # points x 1,000,000; the demo's values have two decimals


def _review_notes(chain: Chain, name: str, licence_id: int) -> list[str]:
    notes = []
    for event in chain.reviews.events("ReviewOpened", licenceId=licence_id):
        review = chain.reviews.review_of(int(event.args["reviewId"]))
        if review is None:
            continue
        state = {
            ReviewStatus.OPEN: "awaiting both parties' signatures",
            ReviewStatus.DECLINED: "declined",
            ReviewStatus.ACCEPTED: f"accepted as schedule version {review.accepted_version}",
        }[review.status]
        notes.append(
            f"{name}: rate review {event.args['reviewId']} opened by the benchmark {REVIEW[1]} "
            f"{_benchmark(review.reference_value)} -> {_benchmark(review.observed)}: base rate "
            f"{review.current_rate_bps} bps -> {review.suggested_rate_bps} bps suggested, {state}"
        )
    return notes


def _render_feeds(examples: Path, data: Path, ids: dict[str, int], folder: str = "") -> list[Path]:
    out = data / "demo" / "feeds" / folder
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for template in sorted((examples / "demo-feeds" / folder).glob("*.csv.tmpl")):
        text = template.read_text()
        for name, licence_id in ids.items():
            text = text.replace("{" + name + "}", str(licence_id))
        path = out / template.name.removesuffix(".tmpl")
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        paths.append(path)
    return paths


def _try(chain: Chain, fn: Any, sender: Any, harmless: set[str]) -> bool:
    try:
        chain.transact(fn, sender)
        return True
    except ContractRevert as err:
        if err.error in harmless:
            return False
        raise


def load_demo(chain: Chain, examples: Path, data: Path, console: Console) -> DemoResult:
    specs = {path.stem: LicenceSpec.load(path) for path in sorted((examples / "licences").glob("*.json"))}
    ids: dict[str, int] = {}
    terms_of: dict[str, Terms] = {}
    for name, spec in specs.items():
        ids[name], terms_of[name] = _register(chain, spec, console)
        if spec.escalation is not None:
            _attach_clause(chain, ids[name], spec, terms_of[name], console)

    feeds = _render_feeds(examples, data, ids)
    oracle = OracleService(
        chain,
        Outbox(data / "oracle" / "outbox.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
    )
    for file_name, source, base in RATE_FILES:  # as `royalty-oracle rates load` stores them (again: known)
        oracle.outbox.store_rates(
            oracle.conn, source, read_rate_file(examples / "rates" / file_name, base=base), file_name
        )
    for file_name in INDEX_FILES:  # as `royalty-oracle indices load` stores them (again: known)
        oracle.outbox.store_indices(oracle.conn, read_index_file(examples / "indices" / file_name), file_name)
    # Escalation steps before the quarters are reported: a step whose index came out after its
    # anniversary still takes effect on it while no quarter since has been settled, so the
    # audio licence's 2026 quarters are priced at the stepped fee.
    # One step per licence a round: the 2026 step, then the 2027 one (October 2026 is out).
    stepped = []
    for _ in range(5):
        steps = oracle.step_escalations().stepped
        if not steps:
            break
        stepped += steps
    ingested, _, sent = oracle.run(feeds)
    # Corrections of periods the first run settled (a late line, a replaced line): the oracle
    # signs them into adjustment reports, which settle only the difference.
    corrections, _, corrected = oracle.run(_render_feeds(examples, data, ids, "corrections"))
    ingested += corrections
    result = DemoResult()
    names = {licence_id: name for name, licence_id in ids.items()}
    for step in stepped:
        result.notes.append(
            f"{names.get(step.licence_id, step.licence_id)}: escalation step {step.step} by {step.index} "
            f"{month_text(step.from_month)} {points(step.from_value)} -> {month_text(step.to_month)} "
            f"{points(step.to_value)}, schedule version {step.version} in force from "
            f"{datetime.fromtimestamp(step.effective_from, UTC).date().isoformat()}"
        )
    # An audit of VoltCell's 2025-Q3 found two sales that were never reported: the oracles sign
    # the finding, with the audit's cost, as an audit adjustment (once: the reference is kept).
    name, period, cost, reference = AUDIT
    if name in ids:
        (finding,) = _render_feeds(examples, data, ids, "audits")
        with contextlib.suppress(AuditError):  # queued by an earlier run
            oracle.queue_audit(finding, licence_id=ids[name], period=period, cost=cost, finding_ref=reference)
        corrected.settled.extend(oracle.send().settled)
    for r in ingested:
        if r.rejected:
            result.notes.append(f"{Path(r.path).name}: {r.rejected} line(s) rejected, reasons in {r.rejects_file}")
            for rejection in r.rejections:
                result.notes.append(f"    {rejection}")
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    for name, terms in terms_of.items():
        licence_id = ids[name]
        # Minimum guarantee: charge every contract year that has ended (anyone may call).
        if terms.schedule.minimum_guarantee:
            rule, year = terms.term.rule(), 0
            while min(rule.year_bounds(year)[1], terms.term.end) <= now:
                if _try(
                    chain,
                    chain.ledger.charge_minimum_guarantee_fn(licence_id, year),
                    role("relayer"),
                    {"GuaranteeAlreadyCharged", "NoShortfall"},
                ):
                    result.notes.append(f"{name}: minimum-guarantee shortfall of contract year {year} charged")
                year += 1

    # A dispute: the data-set licensee contests its latest settlement within the 7-day window.
    geodata = ids.get("geodata-dataset")
    if geodata is not None:
        disputed = chain.ledger.events("Disputed", licenceId=geodata)
        settled = chain.ledger.events("Settled", licenceId=geodata)
        if not disputed and settled:
            target = int(settled[-1].args["settlementId"])
            licensee = dev_account_of(terms_of["geodata-dataset"].licensee)
            deadline = now + DAY
            digest = dispute_digest(chain.ledger.domain(), target, licensee.address, deadline)
            if _try(
                chain,
                chain.ledger.dispute_for_fn(target, licensee.address, deadline, sign_digest(digest, licensee.key)),
                role("relayer"),
                {"NotDisputable", "DisputeWindowClosed"},
            ):
                result.notes.append(f"geodata-dataset: the licensee disputed settlement {target}; its amount is held")

    # The data-set licence's benchmark moved: the oracle, with the benchmark's values loaded, signs
    # the evidence and fires its review (once: a trigger fires once), awaiting both parties.
    review_licence = ids.get(REVIEW[0])
    if review_licence is not None:
        _attach_review(chain, review_licence, terms_of[REVIEW[0]], console)
        _load_benchmarks(chain, oracle, examples, data)
        for opened in oracle.fire_reviews().opened:
            console.print(
                f"the oracle fired licence {opened.licence_id}'s {opened.trigger} review {opened.review_id} "
                f"(evidence signed by its oracles)"
            )
        result.notes.extend(_review_notes(chain, REVIEW[0], review_licence))

    # The trademark licensee pays part of its arrears, months after they were due: the ledger pays
    # the oldest first and charges interest on each amount from its due date (12% a year).
    acme = ids.get("acme-trademark")
    if acme is not None and chain.ledger.arrears_of(acme):
        deposits = chain.ledger.events("Deposited", licenceId=acme)
        if len(deposits) == 1:  # only the deposit at signing so far
            spec = specs["acme-trademark"]
            amount = to_units(LATE_PAYMENT, spec.decimals(chain.manifest), "late payment")
            _mint_and_approve(chain, terms_of["acme-trademark"], amount)
            chain.ledger.deposit(acme, amount, dev_account_of(terms_of["acme-trademark"].licensee))
            result.notes.append(
                f"acme-trademark: the licensee paid {LATE_PAYMENT} of its arrears after their due dates"
            )

    # The trademark licensor takes its money, and serves notice for the arrears.
    if acme is not None:
        licensor = role("licensor_brand")
        if chain.ledger.claimable(acme, licensor.address):
            chain.ledger.withdraw(acme, licensor.address, licensor)
        if chain.ledger.arrears_of(acme):
            notices = chain.registry.events("BreachNoticed", licenceId=acme)
            if not notices and _try(chain, chain.registry.notice_breach_fn(acme), licensor, set()):
                result.notes.append("acme-trademark: arrears unpaid, the licensor served notice (30-day cure period)")

    # The keeper's release (anyone may call it): reserves whose two quarters have passed, and
    # settlements whose dispute window closed, are credited to the payees.
    for name, terms in terms_of.items():
        if terms.term.calendar.reserve_bps:
            chain.ledger.release_matured(ids[name], role("keeper"))

    for name, spec in specs.items():
        licence_id = ids[name]
        decimals = spec.decimals(chain.manifest)
        rule = terms_of[name].term.rule()
        logs = chain.ledger.events("Settled", licenceId=licence_id)
        reports = [e for e in logs if e.args["kind"] == Kind.REPORT]
        adjustments = [e for e in logs if e.args["kind"] == Kind.ADJUSTMENT]
        for e in adjustments:
            accepted = chain.ledger.events("ReportAccepted", settlementId=int(e.args["settlementId"]))
            corrects = int(accepted[0].args["corrects"]) if accepted else 0
            more = format_amount(int(e.args["royalty"]), decimals)
            result.notes.append(
                f"{name}: {rule.period_name(int(e.args['period']))} corrected by adjustment "
                f"{e.args['settlementId']} of settlement {corrects}: {more} more"
            )
        for e in chain.ledger.events("AuditSettled", licenceId=licence_id):
            a = e.args
            verdict = (
                f"above the {int(a['thresholdBps']) / 100:g}% threshold: audit cost "
                f"{format_amount(int(a['auditCost']), decimals)} charged"
                if a["exceeded"]
                else f"within the {int(a['thresholdBps']) / 100:g}% threshold: no audit cost"
            )
            result.notes.append(
                f"{name}: audit of {rule.period_name(int(a['period']))} found "
                f"{format_amount(int(a['underpayment']), decimals)} underpaid against "
                f"{format_amount(int(a['reportedRoyalty']), decimals)} settled, {verdict}"
            )
        reserves = [e for e in logs if e.args["kind"] == Kind.RESERVE]
        if reserves:
            held = sum(int(e.args["royalty"]) for e in reserves)
            released = sum(
                int(r.args["amount"])
                for e in reserves
                for r in chain.ledger.events("Released", settlementId=int(e.args["settlementId"]))
            )
            result.notes.append(
                f"{name}: {format_amount(held, decimals)} held back against returns from {len(reserves)} report(s), "
                f"{format_amount(released, decimals)} of it released after two quarters"
            )
        for e in chain.ledger.events("CreditCarried", licenceId=licence_id):
            result.notes.append(
                f"{name}: settlement {e.args['settlementId']} came out negative: "
                f"{format_amount(int(e.args['amount']), decimals)} credited to the licensee's next royalties"
            )
        for s in reports:
            for e in chain.ledger.events("CurrencyConverted", settlementId=int(s.args["settlementId"])):
                a = e.args
                code = (
                    bytes.fromhex(str(a["currency"])[2:]).decode()
                    if str(a["currency"]).startswith("0x")
                    else a["currency"]
                )
                result.notes.append(
                    f"{name}: {rule.period_name(int(s.args['period']))} sales of "
                    f"{format_amount(int(a['gross']), int(a['minorUnits']))} {code} at "
                    f"{format_amount(int(a['rate']), RATE_DECIMALS)} (the period's average rate) = "
                    f"{format_amount(int(a['convertedGross']), decimals)} gross"
                )
        returned = [
            e for s in reports for e in chain.ledger.events("ReturnReported", settlementId=int(s.args["settlementId"]))
        ]
        if returned:
            result.notes.append(
                f"{name}: returns of {sum(int(e.args['units']) for e in returned)} unit(s), "
                f"{format_amount(sum(int(e.args['gross']) for e in returned), decimals)} gross, netted in their period"
            )
        charged = (Kind.REPORT, Kind.MINIMUM_GUARANTEE, Kind.ADJUSTMENT, Kind.AUDIT)
        royalty = sum(int(e.args["royalty"]) for e in logs if e.args["kind"] in charged)
        interest = chain.ledger.events("InterestCharged", licenceId=licence_id)
        with_sales = {int(e.args["settlementId"]) for e in chain.ledger.events("BucketReported")}
        nil = [e for e in reports if int(e.args["settlementId"]) not in with_sales]
        for e in nil:
            period = int(e.args["period"])
            result.notes.append(f"{name}: {rule.period_name(period)} had no sales: settled by a nil report")
        if interest:
            total = sum(int(e.args["interest"]) for e in interest)
            result.notes.append(
                f"{name}: {len(interest)} payment(s) after the due date, interest at "
                f"{int(interest[0].args['rateBps']) / 100:g}% a year: {format_amount(total, decimals)} charged"
            )
        result.rows.append(
            DemoRow(
                name=name,
                licence_id=licence_id,
                kind=spec.kind,
                status=chain.registry.status(licence_id).label,
                settled=len(reports),
                royalty=format_amount(royalty, decimals),
                arrears=format_amount(chain.ledger.arrears_of(licence_id), decimals),
                escrow=format_amount(chain.ledger.escrow_of(licence_id), decimals),
                interest=format_amount(sum(int(e.args["interest"]) for e in interest), decimals),
                nil_reports=len(nil),
                adjustments=len(adjustments),
            )
        )
    seen: set[str] = set()
    for name, spec in specs.items():
        for who in [spec.licensor, spec.licensee] + [p.account for p in spec.payees]:
            address = resolve_address(who, "party")
            if address not in seen:
                seen.add(address)
                result.accounts.append((f"{who} ({name})", address))
    if sent.settled or corrected.settled:
        result.notes.append(f"oracle settled {len(sent.settled) + len(corrected.settled)} report(s) this run")
    return result
