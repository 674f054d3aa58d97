"""/feeds/uploads: feeds above ``POST /feeds``' limit, sent in resumable chunks to the oracle's inbox.

    POST   /feeds/uploads                 {"filename": "q3.csv", "size": 57000000}  -> 201, id
    PUT    /feeds/uploads/{id}            Content-Range: bytes 0-8388607/57000000, the bytes -> offset
    GET    /feeds/uploads/{id}            how many bytes arrived (resume from there)
    POST   /feeds/uploads/{id}/complete   {"sha256": "..."} -> lines checked, feed in the inbox
    GET    /feeds/uploads/{id}/rejects    the refused lines as CSV (line_number, field, value, reason)
    DELETE /feeds/uploads/{id}            abandon it

The body of a chunk is read as it streams (``request.stream()``) and appended to the upload's
file in the inbox's staging area (api.uploads); an interrupted chunk keeps what arrived.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.requests import ClientDisconnect

from api.deps import OperatorDep, ServicesDep
from api.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    problem_responses,
)
from api.indexer.models import LicenceRow
from api.routes.feeds import licence_infos
from api.services import Services
from api.uploads import (
    CONTENT_RANGE_PATTERN,
    FEED_NAME_PATTERN,
    BadUpload,
    ContentRange,
    HashMismatch,
    OffsetMismatch,
    TooLarge,
    UnreadableFeed,
    UploadConflict,
    UploadError,
    UploadExpired,
    UploadNotFound,
    UploadStore,
)
from intake.validate import LicenceInfo

router = APIRouter(tags=["feeds"], responses=problem_responses(400, 401, 403, 404, 409, 410, 413, 422, 503))

UploadId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the id POST /feeds/uploads gave")]


class UploadCreate(BaseModel):
    filename: str = Field(
        pattern=FEED_NAME_PATTERN,
        description="the feed's name: letters, digits, '_' and '-', then .csv, .jsonl or .ndjson",
        examples=["sales-2026-q3.csv"],
    )
    size: int | None = Field(default=None, ge=0, description="the feed's bytes, if known: refused at once if too large")


class UploadRejection(BaseModel):
    line_number: int
    field: str
    value: str
    reason: str


class UploadResult(BaseModel):
    id: str
    inbox_file: str = Field(description="the feed's name in the oracle's inbox, which ingests it")
    bytes: int
    sha256: str
    format: Literal["csv", "jsonl"]
    lines: int = Field(description="lines read (valid + rejected)")
    valid: int = Field(description="lines that pass the per-line checks; the oracle also removes duplicates")
    rejected: int
    out_of_scope: int
    rejected_by_field: dict[str, int]
    rejections: list[UploadRejection] = Field(description="the first 100; all at GET .../rejects")
    completed_at: str


class UploadStatus(BaseModel):
    id: str
    filename: str
    size: int | None
    created_at: str
    state: Literal["receiving", "completed"]
    offset: int = Field(description="bytes received: the next chunk starts here")
    max_bytes: int = Field(description="API_MAX_UPLOAD_BYTES")
    result: UploadResult | None = None


class UploadComplete(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the whole feed, hex")


def _store(services: Services) -> UploadStore:
    store: UploadStore | None = getattr(services, "uploads", None)
    if store is None:
        raise Unavailable("streamed uploads hand feeds to the oracle's inbox: set API_ORACLE_INBOX to its folder")
    store.max_bytes = services.settings.max_upload_bytes
    store.expiry_seconds = services.settings.upload_expiry_seconds
    return store


def _api_error(err: UploadError) -> ApiError:
    if isinstance(err, UploadNotFound):
        return NotFound(str(err))
    if isinstance(err, UploadExpired):
        return Gone(str(err))
    if isinstance(err, OffsetMismatch):
        return Conflict(str(err), expected_offset=err.expected)
    if isinstance(err, UploadConflict):
        return Conflict(str(err))
    if isinstance(err, TooLarge):
        return PayloadTooLarge(str(err))
    if isinstance(err, HashMismatch):
        return InvalidInput(str(err), errors=[{"field": "sha256", "message": str(err)}], received_sha256=err.received)
    if isinstance(err, UnreadableFeed):
        return InvalidInput(str(err), errors=[{"field": "feed", "message": str(err)}])
    if isinstance(err, BadUpload):
        return BadRequest(str(err))
    return ApiError(str(err))


def _offset_headers(offset: int) -> dict[str, str]:
    return {"Upload-Offset": str(offset)}


@router.post("/feeds/uploads", status_code=201, response_model=UploadStatus, summary="Start a chunked feed upload")
async def create_upload(body: UploadCreate, _operator: OperatorDep, services: ServicesDep, response: Response) -> Any:
    try:
        status = _store(services).create(body.filename, body.size)
    except UploadError as err:
        raise _api_error(err) from None
    response.headers["Location"] = f"/feeds/uploads/{status['id']}"
    return status


@router.get("/feeds/uploads/{upload_id}", response_model=UploadStatus, summary="How much of an upload arrived")
async def upload_status(upload_id: UploadId, _operator: OperatorDep, services: ServicesDep, response: Response) -> Any:
    try:
        status = _store(services).status(upload_id)
    except UploadError as err:
        raise _api_error(err) from None
    response.headers.update(_offset_headers(status["offset"]))
    return status


class ChunkAccepted(BaseModel):
    id: str
    offset: int = Field(description="bytes received: the next chunk starts here")


@router.put(
    "/feeds/uploads/{upload_id}",
    response_model=ChunkAccepted,
    summary="Append a chunk (Content-Range: bytes first-last/total or /*)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {}}}}},
)
async def put_chunk(
    upload_id: UploadId,
    content_range_header: Annotated[
        str,
        Header(
            alias="content-range",
            pattern=CONTENT_RANGE_PATTERN,
            description="bytes <first>-<last>/<total or *>; <first> is the upload's offset",
        ),
    ],
    request: Request,
    _operator: OperatorDep,
    services: ServicesDep,
) -> Any:
    store = _store(services)
    try:
        content_range = ContentRange.parse(content_range_header)
        with store.chunk(upload_id, content_range) as writer:
            try:
                async for data in request.stream():
                    writer.write(data)
            except ClientDisconnect:
                # What arrived is the upload's; the client asks GET where to resume. No one listens.
                return Response(status_code=400, headers=_offset_headers(writer.keep()))
            offset = writer.finish()
    except UploadError as err:
        raise _api_error(err) from None
    return Response(
        content=ChunkAccepted(id=upload_id, offset=offset).model_dump_json(),
        media_type="application/json",
        headers=_offset_headers(offset),
    )


def _all_licences(services: Services) -> dict[int, LicenceInfo]:
    with services.sessions() as session:
        ids = set(session.scalars(select(LicenceRow.id)))
    return licence_infos(services, ids)


def _complete(services: Services, store: UploadStore, upload_id: str, sha256: str) -> dict[str, Any]:
    chain_time = int(services.chain.w3.eth.get_block("latest")["timestamp"])
    return store.complete(upload_id, sha256, _all_licences(services), chain_time)


@router.post(
    "/feeds/uploads/{upload_id}/complete",
    response_model=UploadResult,
    summary="Check the SHA-256 and every line, then hand the feed to the oracle's inbox",
)
async def complete_upload(
    upload_id: UploadId, body: UploadComplete, _operator: OperatorDep, services: ServicesDep
) -> Any:
    store = _store(services)
    try:
        return await run_in_threadpool(_complete, services, store, upload_id, body.sha256)
    except UploadError as err:
        raise _api_error(err) from None


@router.get(
    "/feeds/uploads/{upload_id}/rejects",
    summary="The lines the checks refused, as CSV",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def upload_rejects(upload_id: UploadId, _operator: OperatorDep, services: ServicesDep) -> Any:
    try:
        path = _store(services).rejects_file(upload_id)
    except UploadError as err:
        raise _api_error(err) from None
    return FileResponse(path, media_type="text/csv", filename=f"{upload_id}.rejects.csv")


@router.delete("/feeds/uploads/{upload_id}", status_code=204, summary="Abandon an upload")
async def delete_upload(upload_id: UploadId, _operator: OperatorDep, services: ServicesDep) -> Response:
    try:
        _store(services).delete(upload_id)
    except UploadError as err:
        raise _api_error(err) from None
    return Response(status_code=204)
