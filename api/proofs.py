"""Sales-line proofs, checked against the root of the report that carried the line.

A period's lines go into its original report or, later, into one of its adjustments, and each of
those reports puts its own Merkle root on chain. The line store (the oracle's outbox) answers with
the line, its leaf and a proof built from the leaves of the report the line went into; which
settlement that report became is read from the line's ``settlement_id`` when the store gives one.
Otherwise the carrier is found on chain: the report of the period's chain (original, then each
adjustment) whose root the proof leads to. A proof that leads to none of them is refused.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.errors import ApiError, NotFound
from api.indexer.models import SettlementRow
from api.plugins import LineStore
from api.queries.common import get_licence_row
from api.queries.periods import period_chains
from api.schemas import LineProof
from intake.merkle import verify


class ProofMismatch(ApiError):
    status, slug, title = 502, "proof-mismatch", "Line store disagrees with the chain"


def _root(row: SettlementRow) -> bytes | None:
    return None if row.lines_root is None else bytes.fromhex(row.lines_root[2:])


def _carrier(
    chain: list[SettlementRow], line_id: str, named: object, leaf: bytes, proof: list[bytes], first: SettlementRow
) -> SettlementRow:
    """The report of ``chain`` that carried the line: the one the store names, else the one whose
    root the proof leads to (``first`` is tried first)."""
    if isinstance(named, int) and not isinstance(named, bool):
        carrier = next((s for s in chain if s.id == named), None)
        if carrier is None:
            raise ProofMismatch(
                f"the line store puts line {line_id!r} in settlement {named}, not a report of its period"
            )
        root = _root(carrier)
        if root is None or not verify(proof, root, leaf):
            raise ProofMismatch(
                f"the stored proof of line {line_id!r} does not lead to the on-chain root {carrier.lines_root} "
                f"of settlement {carrier.id}, the report that carried it"
            )
        return carrier
    for candidate in [first, *(s for s in chain if s.id != first.id)]:
        root = _root(candidate)
        if root is not None and verify(proof, root, leaf):
            return candidate
    roots = ", ".join(f"{s.lines_root} (settlement {s.id})" for s in chain)
    raise ProofMismatch(f"the stored proof of line {line_id!r} leads to none of its period's on-chain roots: {roots}")


def _answer(
    carrier: SettlementRow, line_id: str, line: dict[str, object], leaf: bytes, proof: list[bytes]
) -> LineProof:
    assert carrier.lines_root is not None
    return LineProof(
        settlement_id=carrier.id,
        licence_id=carrier.licence_id,
        period=carrier.period,
        kind="audit" if carrier.kind == "audit" else ("adjustment" if carrier.kind == "adjustment" else "report"),
        corrects=carrier.corrects,
        line_id=line_id,
        line=line,
        leaf="0x" + leaf.hex(),
        proof=["0x" + p.hex() for p in proof],
        lines_root=carrier.lines_root,
        verified=True,
    )


def _lookup(
    store: LineStore, licence_id: int, period: int, line_id: str
) -> tuple[dict[str, object], bytes, list[bytes]]:
    if not getattr(store, "configured", True):
        raise NotFound("line store not configured")
    found = store.get_line(licence_id, period, line_id)
    if found is None:
        raise NotFound(f"line {line_id!r} is not in a settled report of licence {licence_id}'s period {period}")
    return found


def settlement_line_proof(session: Session, store: LineStore, settlement_id: int, line_id: str) -> LineProof:
    """A line of settlement ``settlement_id``'s report; a line another report of the period
    carried is not found here, and the answer names that settlement."""
    row = session.get(SettlementRow, settlement_id)
    if row is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    if row.lines_root is None:
        raise NotFound(f"settlement {settlement_id} is not a report: it has no sales lines")
    line, leaf, proof = _lookup(store, row.licence_id, row.period, line_id)
    chain = period_chains(session, row.licence_id, [row.period]).get(row.period, [row])
    carrier = _carrier(chain, line_id, line.get("settlement_id"), leaf, proof, row)
    if carrier.id != row.id:
        raise NotFound(
            f"line {line_id!r} is not in the report of settlement {settlement_id}: settlement {carrier.id} "
            f"({carrier.kind}) carried it, see /settlements/{carrier.id}/lines/{line_id}/proof"
        )
    return _answer(carrier, line_id, line, leaf, proof)


def period_line_proof(session: Session, store: LineStore, licence_id: int, period: int, line_id: str) -> LineProof:
    """A line of a period, proved against the root of whichever of its reports carried it."""
    get_licence_row(session, licence_id)
    chain = period_chains(session, licence_id, [period]).get(period, [])
    if not chain:
        raise NotFound(f"period {period} of licence {licence_id} has no settled report")
    line, leaf, proof = _lookup(store, licence_id, period, line_id)
    carrier = _carrier(chain, line_id, line.get("settlement_id"), leaf, proof, chain[0])
    return _answer(carrier, line_id, line, leaf, proof)
