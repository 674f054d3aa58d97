"""POST /indices and GET /indices: oracle operators load published index values over HTTP, as
``royalty-oracle indices load`` does from a shell, and read back what is stored.

An index file is ``index,month,value`` lines (``US-CPI-U,2024-09,315.301``). It is read by
``intake.indices.parse_indices``, the function the CLI calls: a bad line is a rejection named in
the answer (field, value, reason) while the good lines alongside it are stored; a bad header
refuses the whole file (422) and stores nothing. The values go to the oracle's outbox
(``API_ORACLE_OUTBOX``), where the oracle reads them when it steps a licence's escalation clause;
loading a file again is harmless, and a different value for a stored one is a rejection naming
the stored one, never an overwrite.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import OperatorDep, ServicesDep
from api.errors import InvalidInput, problem_responses
from api.index_schemas import IndexLoad, IndexRejection, StoredIndexValue, StoredIndexValues
from api.services import Services
from api.table_uploads import outbox_for, read_csv_body
from intake.errors import IndexFileError
from intake.indices import index_name_problem, parse_indices
from royalty_chain.escalation import month_text

router = APIRouter(tags=["indices"], responses=problem_responses(401, 403, 422, 503))

INDEX_HEADER_PATTERN = "^\ufeff?index,month,value(\r?\n|$)"
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {
                    "type": "string",
                    "pattern": INDEX_HEADER_PATTERN,
                    "description": "an index file: the header index,month,value, then one value per line",
                }
            }
        },
    }
}


def _load(services: Services, file_name: str, data: bytes) -> IndexLoad:
    outbox = outbox_for(services, "index values are", "royalty-oracle indices load")
    try:
        parsed = parse_indices(data.splitlines(keepends=True))
    except IndexFileError as err:
        raise InvalidInput.field("body", f"the index file is refused, nothing was stored: {err}") from None
    with outbox.connect() as conn:
        stored = outbox.store_indices(conn, parsed, file_name)
    kept, rejections = stored.kept(parsed), stored.all_rejections(parsed)
    months = sorted({v.month for v in kept})
    return IndexLoad(
        file_name=file_name,
        loaded=stored.loaded,
        known=stored.known,
        repeated=parsed.repeated,
        rejected=len(rejections),
        indices=sorted({v.index for v in kept}),
        first_month=month_text(months[0]) if months else None,
        last_month=month_text(months[-1]) if months else None,
        months=len(months),
        rejections=[IndexRejection(line_number=r.line_number, field=r.field, value=r.value, reason=r.reason)
                    for r in rejections],
    )  # fmt: skip


@router.post(
    "/indices",
    response_model=IndexLoad,
    summary="Load published index values (CSV: index,month,value) into the oracle's outbox",
    openapi_extra=_BODY_DOC,
    responses=problem_responses(413, 415),
)
async def load_indices(
    request: Request,
    _operator: OperatorDep,
    services: ServicesDep,
    file_name: Annotated[
        str, Query(min_length=1, max_length=200, description="the name the stored values are traced to")
    ] = "http-upload.csv",
) -> IndexLoad:
    data = await read_csv_body(request, services.settings.max_feed_bytes, "index file")
    return await run_in_threadpool(_load, services, file_name, data)


@router.get("/indices", response_model=StoredIndexValues, summary="The stored index values, month by month")
def stored_indices(
    _operator: OperatorDep,
    services: ServicesDep,
    index: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=16,
            pattern="^[!-~]+$",
            description="only this index (printable ASCII, no spaces), e.g. US-CPI-U; all when absent",
        ),
    ] = None,
) -> StoredIndexValues:
    if index is not None:
        problem = index_name_problem(index)
        if problem is not None:
            raise InvalidInput.field("index", f"{index!r} {problem}")
    outbox = outbox_for(services, "index values are", "royalty-oracle indices load")
    with outbox.connect() as conn:
        rows = outbox.stored_indices(conn, indices=[index] if index is not None else None)
    return StoredIndexValues(
        index=index,
        values=[
            StoredIndexValue(index=r.index, month=month_text(r.month), value=r.text, file_name=r.file_name)
            for r in rows
        ],
    )
