"""POST /feeds: oracle operators upload a sales feed and get every line's validation result.

Every line is judged by ``intake.judge``, the function the oracle's own ingest calls, with the
same "today" and the same token rule; licences come from the index. Valid lines go to the
configured FeedSink (the oracle's outbox when ``API_ORACLE_OUTBOX`` is set, see api.services).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, ExitStack
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from api.deps import OperatorDep, ServicesDep
from api.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType, problem_responses
from api.indexer.models import LicenceRow
from api.schemas import FeedLineResult, FeedResult
from api.services import Services
from intake.feed import Rejection
from intake.judge import judge
from intake.validate import LicenceInfo, ValidLine
from royalty_chain.codes import Scope
from royalty_chain.terms import Calendar

router = APIRouter(tags=["feeds"], responses=problem_responses(400, 404, 422, 503, 401, 403, 413, 415))

CSV_TYPES = frozenset({"text/csv", "application/csv"})
JSONL_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/json-lines",
    }
)
# A CSV feed starts with its header row (the columns of examples/FEED_SCHEMA.md, in this order in
# the schema; the parser takes any order). What follows is judged line by line in the answer.
CSV_HEADER_PATTERN = (
    "^\ufeff?line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency"
    "(,action)?(,returns_line_id)?(\r?\n|$)"
)
_CSV_BODY = {
    "type": "string",
    "pattern": CSV_HEADER_PATTERN,
    "description": "a CSV feed: the header row, then one sale per line (examples/FEED_SCHEMA.md)",
}
_JSONL_BODY = {"type": "string", "description": "JSON Lines: one sale object per line (examples/FEED_SCHEMA.md)"}
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": _CSV_BODY},
            "application/x-ndjson": {"schema": _JSONL_BODY},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {**_CSV_BODY, "contentMediaType": "text/csv"}},
                    "required": ["file"],
                    "additionalProperties": False,  # the only part read (at most 10 are parsed)
                },
                "encoding": {"file": {"contentType": "text/csv, application/x-ndjson"}},
            },
        },
    }
}


def _format_of(content_type: str, filename: str | None = None) -> Literal["csv", "jsonl"]:
    media = content_type.split(";")[0].strip().lower()
    if filename:
        lowered = filename.lower()
        if lowered.endswith(".csv"):
            return "csv"
        if lowered.endswith((".jsonl", ".ndjson")):
            return "jsonl"
    if media in CSV_TYPES:
        return "csv"
    if media in JSONL_TYPES:
        return "jsonl"
    raise UnsupportedMediaType(
        f"send a CSV (text/csv) or JSON Lines (application/x-ndjson) feed, raw or as multipart "
        f"field 'file'; got {media or 'no content type'!r}"
    )


async def _read_feed(request: Request, limit: int) -> tuple[Literal["csv", "jsonl"], bytes]:
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception as err:  # Starlette raises several types for malformed multipart bodies
            raise InvalidInput.field("body", f"is not valid multipart/form-data: {err}") from None
        upload = form.get("file")
        if upload is None:
            raise InvalidInput.field("file", "is missing: send the feed as the multipart field 'file'")
        if isinstance(upload, str):  # a part without a file name: the feed as text
            data = upload.encode()[: limit + 1]
            fmt: Literal["csv", "jsonl"] = "jsonl" if upload.lstrip("\ufeff \t\r\n").startswith("{") else "csv"
        else:
            data = await upload.read(limit + 1)
            fmt = _format_of(upload.content_type or "", upload.filename)
    else:
        fmt = _format_of(content_type)
        buffer = bytearray()  # grows in place: bytes += chunk would copy the feed read so far each time
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > limit:
                break
        data = bytes(buffer)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"the feed is larger than {limit} bytes (API_MAX_FEED_BYTES): send a larger feed in chunks "
            "through POST /feeds/uploads (README, 'Large feeds')",
            upload_path="/feeds/uploads",
        )
    return fmt, data


def licence_infos(services: Services, ids: set[int]) -> dict[int, LicenceInfo]:
    """The indexed licences among ``ids``, as the oracle's directory describes them (tokens
    outside the manifest by their own ERC-20 symbol and decimals, royalty_chain.tokens)."""
    infos: dict[int, LicenceInfo] = {}
    with services.sessions() as session:
        rows = session.scalars(select(LicenceRow).where(LicenceRow.id.in_([i for i in ids if 0 < i < 2**63])))
        for row in rows:
            currency, decimals = services.tokens.currency_and_decimals(row.token)
            infos[row.id] = LicenceInfo(
                licence_id=row.id,
                licensee=row.licensee,
                currency=currency,
                decimals=decimals,
                scope=_scope(row),
                term_start=row.start,
                term_end=row.end,
                sell_off_days=row.sell_off_days,
                period_seconds=row.period_seconds,
                terminated_at=row.terminated_at,
                **_calendar_of(row),
            )
    return infos


def _calendar_of(row: LicenceRow) -> dict[str, Any]:
    """The licence's Calendar for the validator, once intake's LicenceInfo takes it (the oracle's
    calendar work adds ``LicenceInfo.calendar``); until then only fixed periods validate."""
    if "calendar" not in getattr(LicenceInfo, "__dataclass_fields__", {}):
        return {}
    rule = row.rule()
    calendar = Calendar.from_abi(rule.as_abi())
    return {"calendar": calendar}


def _scope(row: LicenceRow) -> Scope:
    scope = json.loads(row.terms)["scope"]
    return Scope(int(scope["territories"]), int(scope["fields"]), int(scope["channels"]))


def _process(services: Services, fmt: Literal["csv", "jsonl"], data: bytes) -> FeedResult:
    with ExitStack() as held:  # the sink's views hold outbox connections until the upload is stored
        return _judge(services, fmt, data, held)


def _judge(services: Services, fmt: Literal["csv", "jsonl"], data: bytes, held: ExitStack) -> FeedResult:
    sink = services.feed_sink
    chain_time = int(services.chain.w3.eth.get_block("latest")["timestamp"])
    seen, reported = sink.seen_lines(), sink.reported_periods()
    for view in (seen, reported):
        if isinstance(view, AbstractContextManager):
            held.enter_context(view)

    def infos(ids: set[int]) -> dict[int, LicenceInfo]:
        return licence_infos(services, ids)

    verdicts, stats = judge((fmt, data), infos, seen, reported, chain_time=chain_time)
    judged = list(verdicts)
    header = next((r for r in judged if isinstance(r, Rejection) and r.field == "header"), None)
    if header is not None:  # not a feed at all: no line could be read
        raise InvalidInput.field("body", f"CSV header {header.reason}")
    results: list[FeedLineResult] = []
    valid: list[ValidLine] = []
    for item in judged:
        if isinstance(item, Rejection):
            results.append(
                FeedLineResult(
                    line_number=item.line_number, status="rejected", field=item.field, value=item.value,
                    reason=item.reason,
                )
            )  # fmt: skip
        else:
            valid.append(item)
            results.append(
                FeedLineResult(
                    line_number=item.line_number, status="valid", line_id=item.line_id,
                    licence_id=item.licence_id, period=item.period, in_scope=item.in_scope,
                    leaf="0x" + item.leaf.hex(),
                )
            )  # fmt: skip
    results.sort(key=lambda r: r.line_number)
    summary = sink.accept(valid)
    return FeedResult(
        format="csv" if fmt == "csv" else "jsonl",
        lines=len(results) + stats.duplicates,
        valid=stats.valid,
        rejected=stats.rejected,
        duplicates=stats.duplicates,
        out_of_scope=stats.out_of_scope,
        results=results,
        sink=summary,
    )


@router.post(
    "/feeds",
    response_model=FeedResult,
    summary="Upload a sales feed (CSV or JSON Lines; raw body or multipart field 'file')",
    openapi_extra=_BODY_DOC,
)
async def upload_feed(request: Request, _operator: OperatorDep, services: ServicesDep) -> FeedResult:
    fmt, data = await _read_feed(request, services.settings.max_feed_bytes)
    return await run_in_threadpool(_process, services, fmt, data)
