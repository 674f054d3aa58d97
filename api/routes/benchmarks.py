"""POST /benchmarks and GET /benchmarks: oracle operators load published benchmark values over
HTTP, as ``royalty-oracle benchmarks load`` does from a shell, and read back what is stored.

A benchmark file is ``date,benchmark,value`` lines (``2026-11-30,DATA-LIC-RATE,4.60``). It is read
by ``intake.benchmarks.parse_benchmarks``, the function the CLI calls: a bad line is a rejection
named in the answer (field, value, reason) while the good lines alongside it are stored; a bad
header refuses the whole file (422) and stores nothing. The values go to the oracle's outbox
(``API_ORACLE_OUTBOX``), where the oracle reads them when it fires a licence's benchmark review;
loading a file again is harmless, and a different value for a stored one is a rejection naming
the stored one, never an overwrite.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import OperatorDep, ServicesDep
from api.errors import InvalidInput, problem_responses
from api.index_schemas import BenchmarkLoad, BenchmarkRejection, StoredBenchmarkValue, StoredBenchmarkValues
from api.services import Services
from api.table_uploads import outbox_for, read_csv_body
from intake.benchmarks import benchmark_name_problem, parse_benchmarks
from intake.errors import BenchmarkFileError

router = APIRouter(tags=["benchmarks"], responses=problem_responses(401, 403, 422, 503))

BENCHMARK_HEADER_PATTERN = "^\ufeff?date,benchmark,value(\r?\n|$)"
_WHAT = "benchmark values are"
_COMMAND = "royalty-oracle benchmarks load"
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {
                    "type": "string",
                    "pattern": BENCHMARK_HEADER_PATTERN,
                    "description": "a benchmark file: the header date,benchmark,value, then one value per line",
                }
            }
        },
    }
}


def _load(services: Services, file_name: str, data: bytes) -> BenchmarkLoad:
    outbox = outbox_for(services, _WHAT, _COMMAND)
    try:
        parsed = parse_benchmarks(data.splitlines(keepends=True))
    except BenchmarkFileError as err:
        raise InvalidInput.field("body", f"the benchmark file is refused, nothing was stored: {err}") from None
    with outbox.connect() as conn:
        stored = outbox.store_benchmarks(conn, parsed, file_name)
    kept, rejections = stored.kept(parsed), stored.all_rejections(parsed)
    days = sorted({v.day for v in kept})
    return BenchmarkLoad(
        file_name=file_name,
        loaded=stored.loaded,
        known=stored.known,
        repeated=parsed.repeated,
        rejected=len(rejections),
        benchmarks=sorted({v.benchmark for v in kept}),
        first_date=days[0].isoformat() if days else None,
        last_date=days[-1].isoformat() if days else None,
        days=len(days),
        rejections=[BenchmarkRejection(line_number=r.line_number, field=r.field, value=r.value, reason=r.reason)
                    for r in rejections],
    )  # fmt: skip


@router.post(
    "/benchmarks",
    response_model=BenchmarkLoad,
    summary="Load published benchmark values (CSV: date,benchmark,value) into the oracle's outbox",
    openapi_extra=_BODY_DOC,
    responses=problem_responses(413, 415),
)
async def load_benchmarks(
    request: Request,
    _operator: OperatorDep,
    services: ServicesDep,
    file_name: Annotated[
        str, Query(min_length=1, max_length=200, description="the name the stored values are traced to")
    ] = "http-upload.csv",
) -> BenchmarkLoad:
    data = await read_csv_body(request, services.settings.max_feed_bytes, "benchmark file")
    return await run_in_threadpool(_load, services, file_name, data)


@router.get("/benchmarks", response_model=StoredBenchmarkValues, summary="The stored benchmark values, day by day")
def stored_benchmarks(
    _operator: OperatorDep,
    services: ServicesDep,
    benchmark: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=16,
            pattern="^[!-~]+$",
            description="only this benchmark (printable ASCII, no spaces), e.g. DATA-LIC-RATE; all when absent",
        ),
    ] = None,
) -> StoredBenchmarkValues:
    if benchmark is not None:
        problem = benchmark_name_problem(benchmark)
        if problem is not None:
            raise InvalidInput.field("benchmark", f"{benchmark!r} {problem}")
    outbox = outbox_for(services, _WHAT, _COMMAND)
    with outbox.connect() as conn:
        rows = outbox.stored_benchmarks(conn, benchmarks=[benchmark] if benchmark is not None else None)
    return StoredBenchmarkValues(
        benchmark=benchmark,
        values=[
            StoredBenchmarkValue(benchmark=r.benchmark, date=r.day.isoformat(), value=r.text, file_name=r.file_name)
            for r in rows
        ],
    )
