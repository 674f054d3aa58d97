"""Where a steady settlement's gas goes, source line by source line.

    .venv/bin/python bench/gas_lines.py            # the 40 costliest lines
    .venv/bin/python bench/gas_lines.py --top 100
    .venv/bin/python bench/gas_lines.py --charge-generated   # generated code to the line that ran it

Settles a licence's second report of its contract year on a fresh bench chain (as the ``gas``
section's steady breakdown does), traces it opcode by opcode and charges each opcode's own cost
to the Solidity line the compiler's source map gives for it, in the ledger, the settlement module
it delegates to and the registry. Calls are left out (their callee's opcodes are counted where
they ran); code the compiler generated without a source line (calldata accessors, ABI coding,
checked arithmetic) is one row per contract, "(generated)". Needs Foundry's build output
(``make gas`` or ``forge build``), whose bytecode is the deployed one but for the metadata hash.
A tool for finding what to change, not a benchmark: nothing is compared or kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gas
from bench.chainkit import BenchChain, day_start, start_bench_chain
from royalty_chain.terms import DAY

ROOT = Path(__file__).resolve().parent.parent
FORGE_OUT = ROOT / ".build" / "forge" / "out"
PROFILED = {"RoyaltyLedger": "RoyaltyLedger.sol", "SettlementModule": "SettlementModule.sol"}
PROFILED_CALLEES = {"LicenceRegistry": "LicenceRegistry.sol", "LicenceFx": "LicenceFx.sol"}


@dataclass(frozen=True)
class Place:
    contract: str
    file: str
    line: int
    text: str


def pc_sources(bytecode: str, source_map: str) -> dict[int, tuple[int, int]]:
    """pc -> (source offset, source id) of each instruction, from solc's compressed source map."""
    code = bytes.fromhex(bytecode.removeprefix("0x"))
    pcs: list[int] = []
    pc = 0
    while pc < len(code):
        pcs.append(pc)
        op = code[pc]
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)  # PUSH1..PUSH32 carry their bytes
    out: dict[int, tuple[int, int]] = {}
    offset, source = 0, -1
    for pc, entry in zip(pcs, source_map.split(";"), strict=False):
        fields = entry.split(":")
        if fields and fields[0] != "":
            offset = int(fields[0])
        if len(fields) > 2 and fields[2] != "":
            source = int(fields[2])
        out[pc] = (offset, source)
    return out


class Sources:
    """The forge build's source maps and source files."""

    def __init__(self) -> None:
        infos = sorted((FORGE_OUT / "build-info").glob("*.json"))
        if not infos:
            raise SystemExit("no Foundry build output: run `make gas` or forge build first")
        self.paths: dict[int, str] = {}
        for info in infos:
            self.paths.update({int(k): v for k, v in json.loads(info.read_text())["source_id_to_path"].items()})
        self.maps: dict[str, dict[int, tuple[int, int]]] = {}
        for name, file in {**PROFILED, **PROFILED_CALLEES}.items():
            artifact = json.loads((FORGE_OUT / file / f"{name}.json").read_text())["deployedBytecode"]
            self.maps[name] = pc_sources(artifact["object"], artifact["sourceMap"])
        self._texts: dict[str, list[str]] = {}
        self._starts: dict[str, list[int]] = {}

    def place(self, contract: str, pc: int) -> Place:
        offset, source = self.maps[contract].get(pc, (0, -1))
        path = self.paths.get(source)
        if path is None:
            return Place(contract, "(generated)", 0, "")
        if path not in self._texts:
            text = (ROOT / path).read_text()
            self._texts[path] = text.splitlines()
            starts, at = [], 0
            for line in text.splitlines(keepends=True):
                starts.append(at)
                at += len(line)
            self._starts[path] = starts
        starts = self._starts[path]
        low, high = 0, len(starts) - 1
        while low < high:  # the last line starting at or before the offset
            mid = (low + high + 1) // 2
            if starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return Place(contract, path, low + 1, self._texts[path][low].strip())


def profile(
    bench: BenchChain, sources: Sources, tx_hash: bytes, lines_for_generated: bool = False
) -> tuple[Counter[Place], Counter[Place], int]:
    """Gas and opcode count per source line of the transaction, and its gasUsed. With
    ``lines_for_generated`` the compiler's generated code is charged to the source line its
    frame ran last (usually the one that called it: a calldata read, an ABI encoding)."""
    hex_hash = "0x" + tx_hash.hex().removeprefix("0x")
    steps = bench.rpc("debug_traceTransaction", [hex_hash, {"enableMemory": False, "disableStorage": True}])[
        "structLogs"
    ]
    addresses = {c.address.lower(): name for name, c in bench.chain.manifest.contracts.items()}
    frames = ["RoyaltyLedger"]
    last_line: dict[int, Place] = {}  # per depth: the last source line its frame ran
    spent: Counter[Place] = Counter()
    count: Counter[Place] = Counter()
    for i, step in enumerate(steps):
        depth = int(step["depth"])
        del frames[depth:]
        op = str(step["op"])
        if op in gas._CALLS:
            if i + 1 < len(steps) and int(steps[i + 1]["depth"]) > depth:
                target = gas._target(step)
                frames.append("SettlementModule" if op == "DELEGATECALL" else addresses.get(target, target))
            continue
        if frames[-1] not in sources.maps:
            continue
        place = sources.place(frames[-1], int(step["pc"]))
        if place.line == 0 and lines_for_generated:  # charged to the line that ran it
            place = last_line.get(depth, place)
        elif place.line != 0:
            last_line[depth] = place
        spent[place] += int(step["gasCost"])
        count[place] += 1
    receipt = bench.chain.w3.eth.get_transaction_receipt(hex_hash)  # type: ignore[arg-type]
    return spent, count, int(receipt["gasUsed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=40, help="lines shown (default 40)")
    parser.add_argument("--charge-generated", action="store_true", help="charge generated code to the line that ran it")
    args = parser.parse_args()
    sources = Sources()
    captured: dict[str, Any] = {}

    def keep(bench: BenchChain, name: str, tx_hash: bytes) -> dict[str, dict[str, int]]:
        captured["tx"] = tx_hash
        return {}

    bench = start_bench_chain(Path(tempfile.mkdtemp(prefix="gas-lines-")), steps_tracing=True)
    try:
        gas.warm_up(bench, day_start(bench.now() - 40 * DAY))
        explained, gas.explained = gas.explained, keep
        try:
            gas.steady_settlement(bench)
        finally:
            gas.explained = explained
        spent, count, used = profile(bench, sources, captured["tx"], args.charge_generated)
    finally:
        bench.stop()
    print(f"steady settlement: {used:,} gas used; {sum(spent.values()):,} in the profiled contracts' opcodes")
    print(f"{'gas':>7} {'ops':>6}  where")
    for place, value in spent.most_common(args.top):
        line = f"{Path(place.file).name}:{place.line}" if place.line else place.file
        where = f"{place.contract}: {line}"
        print(f"{value:>7,} {count[place]:>6}  {where}  {place.text[:90]}")


if __name__ == "__main__":
    main()
