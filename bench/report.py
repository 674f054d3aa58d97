"""Turns the bench results into the console tables, latest.md, the plots, and the verdict on the
biggest remaining cost (computed from the numbers of this run)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeGuard

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.console import Console
from rich.table import Table

Results = dict[str, Any]


# ------------------------------------------------------------------ formatting


def n(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def ok(section: Any) -> TypeGuard[Any]:
    return isinstance(section, dict | list) and not (isinstance(section, dict) and "error" in section)


class Grid:
    """One table, rendered both to the console (rich) and to Markdown."""

    def __init__(self, title: str, columns: Sequence[str]) -> None:
        self.title = title
        self.columns = list(columns)
        self.rows: list[list[str]] = []

    def add(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def rich(self) -> Table:
        table = Table(title=self.title, title_justify="left")
        for i, column in enumerate(self.columns):
            table.add_column(column, justify="left" if i == 0 else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        head = "| " + " | ".join(self.columns) + " |"
        rule = "| " + " | ".join(["---"] + ["---:"] * (len(self.columns) - 1)) + " |"
        body = ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join([head, rule, *body])


# ------------------------------------------------------------------ tables


def gas_grids(gas: Results) -> list[Grid]:
    payees = Grid(
        "Gas: one royalty to N payees, ours vs " + gas["baseline"].split(" (")[0],
        [
            "payees",
            "ours settle",
            "baseline transfer in",
            "ratio settle-only",
            "ours withdraws",
            "baseline releases",
            "ours settle+payouts",
            "baseline in+releases",
            "ratio settle+payouts",
            "ours register (once)",
            "splitter deploy (once)",
            "ratio setup",
        ],
    )
    for row in gas["payees"]:
        payees.add(
            str(row["payees"]),
            n(row["settle"]),
            n(row["transfer_in"]),
            ratio(row["ratio_settle_only"]),
            n(row["withdraw_total"]),
            n(row["release_total"]),
            n(row["ours_settle_plus_payouts"]),
            n(row["baseline_transfer_plus_releases"]),
            ratio(row["ratio_settle_plus_payouts"]),
            n(row["register"]),
            n(row["splitter_deploy"]),
            ratio(row["ratio_setup"]),
        )
    signers = Grid("Gas: one report signed by k of 5 oracles", ["signers k", "settle gas", "vs k=1"])
    base = gas["signers"][0]["settle"] if gas["signers"] else None
    for row in gas["signers"]:
        signers.add(str(row["signers"]), n(row["settle"]), ratio(row["settle"] / base if base else None))
    batches = Grid(
        "Gas: b reports (b licences, 2-of-3) in one settleReports", ["reports b", "tx gas", "gas/report", "vs b=1"]
    )
    for row in gas["batches"]:
        batches.add(str(row["reports"]), n(row["total"]), n(row["per_report"]), ratio(row["per_report_vs_single"]))
    grids = [payees, signers, batches]
    if gas.get("calendar"):
        limit = gas["calendar_limit"]
        calendar = Grid(
            f"Gas of the calendar's reports vs one report before it ({n(limit['before_calendar_settle'])}, "
            f"limit {limit['factor']:.2f}x)",
            ["report", "settle gas", "vs before", "within limit"],
        )
        for row in gas["calendar"]:
            calendar.add(
                row["report"], n(row["gas"]), ratio(row["vs_before_calendar"]), "yes" if row["within_limit"] else "NO"
            )
        grids.append(calendar)
    if gas.get("currencies"):
        fx = Grid(
            "Gas: one report with sales in c other currencies (one bucket, 1-of-1, receipts)",
            ["currencies c", "settle gas", "more than c=0", "per currency"],
        )
        for row in gas["currencies"]:
            fx.add(
                str(row["currencies"]),
                n(row["settle"]),
                n(row["more_than_single"]),
                "-" if row["per_currency"] is None else n(row["per_currency"]),
            )
        grids.append(fx)
    for name, parts in gas.get("breakdown", {}).items():
        total = sum(parts.values())
        grid = Grid(f"Where the gas goes: {name}", ["part", "gas", "share"])
        for part, value in sorted(parts.items(), key=lambda kv: -kv[1]):
            grid.add(part, n(value), f"{100 * value / total:.0f}%")
        grid.add("total (receipt)", n(total), "100%")
        grids.append(grid)
    return grids


SYSTEMS = (("ours", "ours"), ("payment_splitter", "PaymentSplitter"), ("push_split", "push split"))


def _met(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")


def lifetime_grids(lifetime: Results) -> list[Grid]:
    quarters = lifetime["quarters"]
    side = Grid(
        f"Lifetime gas: {quarters} quarterly reports and yearly payouts to N payees "
        f"(ours paying out by {lifetime['payout']}), one-offs apart",
        ["payees", "ours", "PaymentSplitter", "push split", "ours / cheapest", "target", "met",
         "ours register (once)", "splitter deploy (once)", "push deploy (once)"],
    )  # fmt: skip
    parts = Grid("Lifetime gas by transaction kind", ["payees", "system", "transactions", "gas by kind", "total"])
    for row in lifetime["rows"]:
        side.add(
            str(row["payees"]),
            *(n(row[key]["total"]) for key, _ in SYSTEMS),
            f"{ratio(row['ratio'])} vs {row['cheapest_alternative']}",
            "n/a" if row["target"] is None else f"<= {row['target']:.1f}x",
            _met(row["met"]),
            n(row["ours"]["one_off"]["register"]),
            n(row["payment_splitter"]["one_off"]["deploy"]),
            n(row["push_split"]["one_off"]["deploy"]),
        )
        for key, name in SYSTEMS:
            book = row[key]
            counts = {kind: len(gas) for kind, gas in book["recurring"].items()}
            kinds = "; ".join(
                f"{kind} {n(total)}" + (f" ({counts[kind]} tx)" if counts[kind] > 1 else "")
                for kind, total in book["subtotals"].items()
            )
            parts.add(str(row["payees"]), name, n(book["transactions"]), kinds, n(book["total"]))
    per_tx = Grid(
        "Per-transaction gas against issue 13's targets (receipts of this run, 21,000 base included)",
        ["figure", "gas", "target", "met", "note"],
    )
    for figure in lifetime["per_transaction"]:
        per_tx.add(figure["figure"], n(figure["gas"]), f"<= {n(figure['target'])}", _met(figure["met"]), figure["note"])
    return [side, parts, per_tx]


def pipeline_grid(
    rows: list[Results], title: str = "Oracle pipeline (parse, validate, aggregate, Merkle), bench/oracle_pipeline.py"
) -> Grid:
    grid = Grid(title, ["lines", "wall s", "lines/s", "lines/CPU-s", "peak RSS MiB"])
    for row in rows:
        if "error" in row:
            grid.add(n(row["lines"]), row["error"], "", "", "")
        else:
            grid.add(
                n(row["lines"]) + (f" ({row['mode']})" if row.get("mode") else ""),
                f"{row['seconds']:.2f}",
                n(row["lines_per_s"]),
                n(row["lines_per_cpu_s"]),
                n(row["peak_rss_mib"]),
            )
    return grid


def chain_grids(rows: list[Results]) -> list[Grid]:
    main = Grid(
        "Settlement on Anvil: OracleService (batched) vs one transaction per line",
        [
            "licences",
            "lines",
            "service s",
            "service reports/s",
            "service lines/s",
            "naive lines/s",
            "ratio lines/s",
            "service gas/line",
            "naive gas/line",
            "ratio gas/line",
        ],
    )
    stages = Grid(
        "OracleService stages (seconds; JSON-RPC round trips)",
        ["licences", "ingest", "build_reports", "send", "RPC calls", "RPC calls/report", "RPC time share"],
    )
    for row in rows:
        service, naive = row["service"], row["naive"]
        main.add(
            n(row["licences"]),
            n(row["lines"]),
            f"{service['seconds']:.2f}",
            n(service["reports_per_s"], 1),
            n(service["lines_per_s"], 1),
            n(naive["lines_per_s"], 1),
            ratio(row["ratio_lines_per_s"]),
            n(service["gas_per_line"]),
            n(naive["gas_per_line"]),
            ratio(row["ratio_gas_per_line"]),
        )
        st = list(service["stages"].values())
        stages.add(
            n(row["licences"]),
            *(f"{s['seconds']:.2f} ({n(s['rpc_calls'])})" for s in st),
            n(service["rpc_calls"]),
            n(service["rpc_calls"] / row["licences"], 1),
            f"{100 * service['rpc_seconds'] / service['seconds']:.0f}%",
        )
    return [main, stages]


def e2e_grid(e2e: Results) -> Grid:
    grid = Grid(
        f"End to end: feed dropped in the inbox until {e2e['measured_until']}",
        ["feed", "on chain s", "in API s"],
    )
    for row in e2e["rows"]:
        grid.add(str(row["period"]), secs(row["chain_s"]), secs(row["api_s"]))
    grid.add("median", secs(e2e["median_chain_s"]), secs(e2e["median_s"]) if e2e["api_available"] else "n/a")
    worst_chain = max((r["chain_s"] for r in e2e["rows"] if r["chain_s"] is not None), default=None)
    grid.add("worst", secs(worst_chain), secs(e2e["worst_s"]) if e2e["api_available"] else "n/a")
    return grid


def api_load_grid(load: Results) -> Grid:
    grid = Grid(
        "The API under load (bench/api_load.py): admission as shipped vs today's worker model (no limit, pool 5 + 10)",
        ["load", "clients", "config", "requests", "ok", "503", "5xx", "no answer", "ok p50 ms", "ok p99 ms",
         "/health answered", "/health p99 ms", "/health max ms"],
    )  # fmt: skip
    for row in load["rows"]:
        health = row["health"]
        grid.add(
            row["load"], n(row["clients"]), row["config"], n(row["requests"]), n(row["ok"]), n(row["busy_503"]),
            n(row["server_errors"]), n(row["no_answer"]), n(row["ok_p50_ms"]), n(row["ok_p99_ms"]),
            f"{health['answered']}/{health['probes']}", n(health["p99_ms"]), n(health["max_ms"]),
        )  # fmt: skip
    return grid


def bigfeed_grid(row: Results) -> Grid:
    grid = Grid(
        "A large feed: chunked upload through the API (uvicorn process) to the inbox, then the oracle's "
        "watcher ingests it (bench/bigfeed.py)",
        ["lines", "feed MiB", "chunks s", "complete s", "API peak RSS MiB", "ingest s", "oracle peak RSS MiB",
         "valid (API / oracle)"],
    )  # fmt: skip
    grid.add(
        n(row["lines"]), n(row["feed_mib"]), f"{row['upload_chunks_s']:.2f}", f"{row['upload_complete_s']:.2f}",
        f"{n(row['api_peak_rss_mib'])} (from {n(row['api_rss_before_upload_mib'])})", f"{row['ingest_s']:.2f}",
        f"{n(row['oracle_peak_rss_mib'])} (from {n(row['oracle_rss_before_mib'])})",
        f"{n(row['api_valid'])} / {n(row['oracle_valid'])}",
    )  # fmt: skip
    return grid


# ------------------------------------------------------------------ the verdict


def biggest_cost(results: Results) -> dict[str, Any]:
    """Names the largest remaining cost from this run's numbers: where the time goes when the real
    oracle settles the largest measured set of licences (the path every report takes), with the
    gas and latency findings beside it."""
    findings: list[str] = []
    headline = "not determined (the on-chain throughput section did not run)"
    chain_rows = results.get("chain_throughput")
    if ok(chain_rows) and chain_rows:
        row = chain_rows[-1]
        service = row["service"]
        stages = service["stages"]
        name, stage = max(stages.items(), key=lambda kv: kv[1]["seconds"])
        share = stage["seconds"] / service["seconds"]
        per_report_ms = 1000 * stage["seconds"] / row["licences"]
        rpc_per_report = stage["rpc_calls"] / row["licences"]
        rpc_share = stage["rpc_seconds"] / stage["seconds"] if stage["seconds"] else 0.0
        methods = stage.get("rpc_by_method", {})
        requests = sum(methods.values())
        headline = (
            f"the oracle's `{name}` stage: {stage['seconds']:.1f} s of {service['seconds']:.1f} s "
            f"({100 * share:.0f}%) to settle {n(row['licences'])} licences, {per_report_ms:.0f} ms per report, "
            f"with {rpc_per_report:.1f} JSON-RPC round trips per report ({requests / row['licences']:.1f} requests, "
            f"batched) taking {100 * rpc_share:.0f}% of the stage"
        )
        timed = stage.get("rpc_seconds_by_method", {})
        if timed:
            slowest, slowest_s = max(timed.items(), key=lambda kv: kv[1])
            headline += (
                f"; the most of that time goes to `{slowest}` ({slowest_s:.1f} s, "
                f"{100 * slowest_s / stage['seconds']:.0f}% of the stage: the node answering)"
            )
        signing = row.get("signing")
        if signing and name.startswith("build"):
            threshold = int(service.get("signatures_per_report", 2))
            sign_share = threshold * signing["ms_per_signature"] / per_report_ms
            headline += (
                f"; signing the report ({threshold} signatures x {signing['ms_per_signature']:.1f} ms with eth-keys' "
                f"{signing['backend']}) is {100 * sign_share:.0f}%, and the remaining "
                f"{100 * max(0.0, 1 - rpc_share - sign_share):.0f}% (outbox SQLite writes, aggregation, Python) "
                "is not broken down further"
            )
        headline += f". The whole service settles {n(service['lines_per_s'], 0)} lines/s"
        pipeline_rows = results.get("pipeline")
        if ok(pipeline_rows):
            rates = [r["lines_per_s"] for r in pipeline_rows if "lines_per_s" in r]
            if rates:
                headline += f", against {n(max(rates))} lines/s for parsing, validating and hashing alone"
        headline += "."
        speed = row["ratio_lines_per_s"]
        findings.append(
            f"Against one transaction per line, at {n(row['licences'])} licences ({row['lines_per_licence']} lines "
            f"each) the service settles {ratio(speed)} the lines/s "
            + ("(faster)" if speed > 1 else "(slower: its per-report work costs more than the naive sender's)")
            + f", its send stage alone {ratio(row['ratio_send_lines_per_s'])}, and the naive design burns "
            f"{ratio(row['ratio_gas_per_line'])} the gas per line ({n(row['naive']['gas_per_line'])} vs "
            f"{n(service['gas_per_line'])}): gas is where batching pays."
        )
    gas = results.get("gas")
    if ok(gas):
        settle = next((parts for key, parts in gas.get("breakdown", {}).items() if key.startswith("settle")), None)
        if settle:
            part, value = max(settle.items(), key=lambda kv: kv[1])
            findings.append(
                f"Gas of a settlement: {part} is the largest part, {n(value)} of {n(sum(settle.values()))} "
                f"({100 * value / sum(settle.values()):.0f}%)."
            )
        if gas["payees"]:
            rows = gas["payees"]
            small, big = rows[0], rows[-1]
            payout_share = big["withdraw_total"] / big["ours_settle_plus_payouts"]
            settles = [r["settle"] for r in rows]
            span = n(min(settles)) if min(settles) == max(settles) else f"{n(min(settles))}-{n(max(settles))}"
            findings.append(
                f"With {big['payees']} payees the withdrawals are {100 * payout_share:.1f}% of settle+payouts "
                f"({n(big['withdraw_total'])} gas, {n(big['withdraw_total'] / big['payees'])} per payee against "
                f"{n(small['withdraw_total'] / small['payees'])} with {small['payees']}); settlement itself is "
                f"{span} gas for every N. Against PaymentSplitter: settle-only "
                f"{ratio(big['ratio_settle_only'])}, settle+payouts {ratio(small['ratio_settle_plus_payouts'])} at "
                f"N={small['payees']} and {ratio(big['ratio_settle_plus_payouts'])} at N={big['payees']}; one-off "
                f"setup (register vs deploy) {ratio(big['ratio_setup'])}."
            )
        withdraws = [parts for key, parts in gas.get("breakdown", {}).items() if key.startswith("withdraw")]
        if len(withdraws) >= 2 and gas["payees"]:
            first, last = withdraws[0], withdraws[-1]
            grown = {k: last.get(k, 0) - first.get(k, 0) for k in set(first) | set(last)}
            part, delta = max(grown.items(), key=lambda kv: kv[1])
            big = gas["payees"][-1]
            findings.append(
                f"A payee's withdrawal costs {n(sum(last.values()) - sum(first.values()))} gas more with "
                f"{big['payees']} payees than with {gas['payees'][0]['payees']}, mostly {part} (+{n(delta)}); "
                f"PaymentSplitter's release is {n(big['release_total'] / big['payees'])} per payee at that size."
            )
    lifetime = results.get("lifetime")
    if ok(lifetime) and lifetime["rows"]:
        measured = [f for f in lifetime["per_transaction"] if f["met"] is not None]
        findings.append(
            f"Over a licence's {lifetime['quarters']} quarters ours costs "
            + ", ".join(
                f"{ratio(r['ratio'])} the {r['cheapest_alternative']} at N={r['payees']}"
                + ("" if r["target"] is None else f" (target {r['target']:.1f}x)")
                for r in lifetime["rows"]
            )
            + f"; {sum(f['met'] for f in measured)} of {len(measured)} per-transaction targets are met."
        )
    e2e = results.get("e2e")
    if ok(e2e) and e2e.get("median_s") is not None:
        polls = f"the oracle polls its inbox every {e2e['oracle_poll_seconds']} s"
        if e2e["indexer_poll_seconds"]:
            polls += f" and the indexer the chain every {e2e['indexer_poll_seconds']} s"
        findings.append(
            f"End to end, the median feed is visible after {secs(e2e['median_s'])} (worst {secs(e2e['worst_s'])}) "
            f"until {e2e['measured_until']}; {polls}, so waiting for the next poll is a large part of it."
        )
    return {"headline": headline, "findings": findings}


# ------------------------------------------------------------------ plots


def _plot(path: Path, title: str, draw: Callable[[Any], None]) -> str:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    draw(ax)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = [], []
    for axis in fig.axes:  # a twin axis keeps its own lines: one legend for all of them
        h, lab = axis.get_legend_handles_labels()
        handles += h
        labels += lab
    ax.legend(handles, labels, fontsize=8, framealpha=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plots(results: Results, out: Path) -> list[str]:
    made: list[str] = []
    gas = results.get("gas")
    if ok(gas) and gas["payees"]:
        xs = [r["payees"] for r in gas["payees"]]

        def payees(ax: Any) -> None:
            for key, label, style in [
                ("settle", "ours: settle", "o-"),
                ("ours_settle_plus_payouts", "ours: settle + all withdraws", "o--"),
                ("transfer_in", "PaymentSplitter: transfer in", "s-"),
                ("baseline_transfer_plus_releases", "PaymentSplitter: transfer + all releases", "s--"),
                ("register", "ours: register (once)", "^:"),
                ("splitter_deploy", "PaymentSplitter: deploy (once)", "v:"),
            ]:
                ax.plot(xs, [r[key] for r in gas["payees"]], style, label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("payees N")
            ax.set_ylabel("gas")

        made.append(_plot(out / "gas_vs_payees.png", "Gas of one royalty paid to N payees", payees))

        def signers(ax: Any) -> None:
            ax.plot([r["signers"] for r in gas["signers"]], [r["settle"] for r in gas["signers"]], "o-", label="settle")
            ax.set_xlabel("oracle signatures k (of 5)")
            ax.set_ylabel("gas")

        made.append(_plot(out / "gas_vs_signers.png", "Gas of one report vs signatures", signers))

        def batches(ax: Any) -> None:
            rows = gas["batches"]
            ax.plot([r["reports"] for r in rows], [r["per_report"] for r in rows], "o-", label="gas per report")
            ax.set_xscale("log")
            ax.set_xlabel("reports per settleReports transaction")
            ax.set_ylabel("gas per report")

        made.append(_plot(out / "gas_vs_batch.png", "Gas per report vs batch size", batches))
    pipeline_rows = [
        r
        for r in results.get("pipeline") or []
        if isinstance(r, dict) and "lines_per_s" in r and r.get("mode") != "one process"
    ]
    if pipeline_rows:

        def pipe(ax: Any) -> None:
            xs = [r["lines"] for r in pipeline_rows]
            ax.plot(xs, [r["lines_per_s"] for r in pipeline_rows], "o-", label="lines/s (wall)")
            ax.plot(xs, [r["lines_per_cpu_s"] for r in pipeline_rows], "o--", label="lines/CPU-s")
            ax.set_xscale("log")
            ax.set_xlabel("lines in the feed")
            ax.set_ylabel("lines per second")
            right = ax.twinx()
            right.plot(xs, [r["peak_rss_mib"] for r in pipeline_rows], "s:", color="tab:red", label="peak RSS")
            right.set_ylabel("peak RSS (MiB)", color="tab:red")

        made.append(_plot(out / "oracle_pipeline.png", "Oracle pipeline throughput and memory", pipe))
    chain_rows = results.get("chain_throughput")
    if ok(chain_rows) and chain_rows:

        def chain(ax: Any) -> None:
            xs = [r["licences"] for r in chain_rows]
            ax.plot(xs, [r["service"]["lines_per_s"] for r in chain_rows], "o-", label="OracleService lines/s")
            ax.plot(xs, [r["service"]["send_lines_per_s"] for r in chain_rows], "o--", label="its send stage lines/s")
            ax.plot(xs, [r["naive"]["lines_per_s"] for r in chain_rows], "s-", label="one tx per line, lines/s")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("licences (one due period each)")
            ax.set_ylabel("lines per second")

        made.append(_plot(out / "chain_throughput.png", "Settled lines per second on Anvil", chain))

        def stages(ax: Any) -> None:
            xs = [r["licences"] for r in chain_rows]
            for stage in chain_rows[0]["service"]["stages"]:
                ax.plot(xs, [r["service"]["stages"][stage]["seconds"] for r in chain_rows], "o-", label=stage)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("licences (one report each)")
            ax.set_ylabel("seconds")

        made.append(_plot(out / "oracle_stages.png", "OracleService time per stage", stages))
    e2e = results.get("e2e")
    if ok(e2e) and e2e["rows"]:

        def latency(ax: Any) -> None:
            rows = e2e["rows"]
            xs = [r["period"] + 1 for r in rows]
            ax.plot(xs, [r["chain_s"] for r in rows], "o-", label="settled on chain")
            if e2e["api_available"]:
                ax.plot(xs, [r["api_s"] for r in rows], "s-", label="listed by the API")
            ax.set_xlabel("feed (dropped one at a time)")
            ax.set_ylabel("seconds after the drop")
            ax.set_ylim(bottom=0)

        made.append(_plot(out / "e2e_latency.png", "Feed to settlement latency", latency))
    return made


# ------------------------------------------------------------------ output


def all_grids(results: Results) -> list[tuple[str, list[Grid] | str]]:
    sections: list[tuple[str, list[Grid] | str]] = []
    for key, title, build in [
        ("gas", "Gas", gas_grids),
        ("lifetime", "Lifetime gas", lifetime_grids),
        ("pipeline", "Oracle pipeline", lambda r: [pipeline_grid(r)]),
        (
            "service_ingest",
            "Oracle service ingest",
            lambda r: [
                pipeline_grid(
                    r,
                    "OracleService.ingest on Anvil (licences from the chain, parse, validate, lines into the "
                    "SQLite outbox), bench/service_ingest.py",
                )
            ],
        ),
        ("bigfeed", "Large feed upload and ingest", lambda r: [bigfeed_grid(r)]),
        ("chain_throughput", "Settlement throughput on Anvil", chain_grids),
        ("api_load", "The API under load", lambda r: [api_load_grid(r)]),
        ("e2e", "End-to-end latency", lambda r: [e2e_grid(r)]),
    ]:
        section = results.get(key)
        if section is None:
            continue
        sections.append((title, build(section) if ok(section) else f"failed: {section['error']}"))
    return sections


def print_console(results: Results, console: Console) -> None:
    for title, grids in all_grids(results):
        console.rule(title)
        if isinstance(grids, str):
            console.print(f"[red]{grids}[/red]")
            continue
        for grid in grids:
            console.print(grid.rich())
    api = results.get("api")
    if api is not None:
        console.rule("API and index (bench/api_bench.py)")
        console.print(api.get("stdout_tail") or api.get("status"))
    verdict = results.get("biggest_cost", {})
    console.rule("Biggest remaining cost")
    console.print(verdict.get("headline", "n/a"))
    for finding in verdict.get("findings", []):
        console.print(f"- {finding}")


def markdown(results: Results, images: list[str]) -> str:
    meta = results["meta"]
    lines = [
        "# Benchmarks",
        "",
        f"Run {meta['started']} on {meta['machine']}; mode **{meta['mode']}**; {meta['total_seconds']:.0f} s in all; "
        f"commit {meta['commit']}. Every comparison below was made in this run on the same chain; measurements "
        "only, nothing is asserted.",
        "",
        "## Biggest remaining cost",
        "",
        results["biggest_cost"]["headline"],
        "",
        *[f"- {f}" for f in results["biggest_cost"]["findings"]],
        "",
    ]
    for title, grids in all_grids(results):
        lines += [f"## {title}", ""]
        if isinstance(grids, str):
            lines += [grids, ""]
            continue
        for grid in grids:
            lines += [f"**{grid.title}**", "", grid.markdown(), ""]
        notes = _notes(results, title)
        lines += [*(f"- {note}" for note in notes), ""] if notes else []
    api = results.get("api")
    lines += ["## API and index", ""]
    if api is None or api.get("status") != "ok":
        reason = (api or {}).get("reason", "not run")
        lines += [f"not available: {reason}", ""]
    else:
        lines += ["From `bench/api_bench.py`:", "", "```", api.get("stdout_tail", "").rstrip(), "```", ""]
    lines += ["## Plots", "", *[f"![{name}]({name})" for name in images], ""]
    lines += ["## Section times", "", *[f"- {k}: {v:.1f} s" for k, v in meta["section_seconds"].items()], ""]
    return "\n".join(lines)


def _notes(results: Results, title: str) -> list[str]:
    if title == "Gas" and ok(results.get("gas")):
        gas = results["gas"]
        return [*gas["notes"], f"baseline: {gas['baseline']}; royalty {n(gas['royalty_units'])} token units"]
    if title == "Lifetime gas" and ok(results.get("lifetime")):
        lifetime = results["lifetime"]
        baselines = lifetime["baselines"]
        return [
            *lifetime["notes"],
            f"baselines: {baselines['payment_splitter']} and {baselines['push_split']} ({baselines['compiler']})",
        ]
    if title == "Settlement throughput on Anvil" and ok(results.get("chain_throughput")):
        rows = results["chain_throughput"]
        return [
            f"{rows[0]['lines_per_licence']} lines per licence, all in one due period; the service batches "
            f"{rows[0]['service']['batch_size']} reports per transaction (its default); 2-of-3 oracle signatures",
            "service time = ingest + build_reports + send, through the real OracleService with a SQLite outbox",
            "naive = each line its own one-bucket report in its own period and transaction; it skips parsing and "
            f"validation, uses a fixed gas limit and keeps {rows[0]['naive'].get('in_flight_window')} transactions "
            "in flight instead of waiting for each (all in its favour)",
            *(
                f"at {n(r['licences'])} licences the naive sender was measured on the first {n(r['naive']['lines'])} "
                f"of the feed's {n(r['lines'])} lines (same feed order); lines/s and gas/line are over those"
                for r in rows
                if r["naive"].get("sampled")
            ),
            "ratio lines/s = service / naive; ratio gas/line = naive / service",
        ]
    if title == "The API under load" and ok(results.get("api_load")):
        load = results["api_load"]
        return [
            "each row: a fresh `python -m api` on the same chain and index, closed-loop clients on keep-alive "
            f"connections that do not wait out Retry-After; no answer = none within {load['client_timeout_s']:.0f} s; "
            f"no client starts a request after {load['budget_s']:.0f} s",
            f"baseline settings: {', '.join(f'{k}={v}' for k, v in load['baseline'].items())}; everything else is "
            "this code (one-line error logs, /health from memory)",
            f"reads cycle over 7 routes on a licence with {load['settlements_indexed']} settlements; uploads are "
            f"{load['feed_lines']}-line CSV feeds (judged, not stored: no outbox)",
        ]
    if title == "End-to-end latency" and ok(results.get("e2e")):
        e2e = results["e2e"]
        notes = [
            f"{e2e['feeds']} feeds of {e2e['lines_per_feed']} lines, one at a time; oracle poll "
            f"{e2e['oracle_poll_seconds']} s, indexer poll {e2e['indexer_poll_seconds']} s (defaults)",
        ]
        if not e2e["api_available"]:
            notes.append(f"API not measured: {e2e['api_problem']}")
        if e2e["timeouts"]:
            notes.append(f"{e2e['timeouts']} feed(s) did not appear within the timeout")
        return notes
    return []
