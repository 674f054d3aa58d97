"""POST /rates and GET /rates: oracle operators load a publisher's exchange rates over HTTP, as
``royalty-oracle rates load`` does from a shell, and read back what is stored.

A rate file is ``date,currency,rate`` lines, each how many units of ``currency`` one unit of the
file's base buys (docs/currencies.md). It is read by ``intake.fx.parse_rates``, the function the
CLI calls: a bad line is a rejection named in the answer (field, value, reason) while the good
lines alongside it are stored; a bad header refuses the whole file (422) and stores nothing. The
quotes go to the oracle's outbox (``API_ORACLE_OUTBOX``), where the oracle reads them when it
converts a period's sales; loading a file again is harmless, and a different rate for a stored
quote is a rejection naming the stored one, never an overwrite.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import OperatorDep, ServicesDep, SessionDep
from api.errors import InvalidInput, problem_responses
from api.indexer.models import LicenceRow
from api.rate_schemas import MissingRateOut, RateHoldOut, RateHolds, RateLoad, RateRejection, StoredQuote, StoredQuotes
from api.services import Services
from api.table_uploads import outbox_for, read_csv_body
from intake.errors import RateFileError
from intake.fx import RATE_DECIMALS, cross_rate, parse_rates, source_problem
from royalty_chain.codes import CURRENCIES
from royalty_chain.units import format_amount

router = APIRouter(tags=["rates"], responses=problem_responses(401, 403, 422, 503))

RATE_HEADER_PATTERN = "^\ufeff?date,currency,rate(\r?\n|$)"
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {
                    "type": "string",
                    "pattern": RATE_HEADER_PATTERN,
                    "description": "a rate file: the header date,currency,rate, then one quote per line",
                }
            }
        },
    }
}

SourceQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=16,
        pattern="^[!-~]+$",
        description="the publisher as the licence's clause names it (printable ASCII, no spaces), e.g. ECB",
    ),
]
# The schema lists the codes the table knows (royalty_chain/codes/currencies.json), so a client
# learns the accepted set from it; a code outside it is still refused by name (_currency).
_CODES = {"enum": sorted(CURRENCIES)}
CurrencyCode = Annotated[
    str, Query(pattern="^[A-Z]{3}$", description="an active ISO 4217 code, e.g. EUR", json_schema_extra=_CODES)
]


def _source(value: str) -> str:
    problem = source_problem(value)
    if problem is not None:
        raise InvalidInput.field("source", problem)
    return value


def _currency(field: str, value: str) -> str:
    if value not in CURRENCIES:
        raise InvalidInput.field(field, f"{value!r} is not an active ISO 4217 currency code")
    return value


def _load(services: Services, source: str, base: str, file_name: str, data: bytes) -> RateLoad:
    outbox = outbox_for(services, "rates are", "royalty-oracle rates load")
    try:
        parsed = parse_rates(data.splitlines(keepends=True), base=base)
    except RateFileError as err:
        raise InvalidInput.field("body", f"the rate file is refused, nothing was stored: {err}") from None
    with outbox.connect() as conn:
        stored = outbox.store_rates(conn, source, parsed, file_name)
    kept, rejections = stored.kept(parsed), stored.all_rejections(parsed)
    days = sorted({q.day for q in kept})
    return RateLoad(
        source=source,
        base=base,
        file_name=file_name,
        loaded=stored.loaded,
        known=stored.known,
        repeated=parsed.repeated,
        rejected=len(rejections),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        days=len(days),
        currencies=sorted({q.currency for q in kept}),
        rejections=[RateRejection(line_number=r.line_number, field=r.field, value=r.value, reason=r.reason)
                    for r in rejections],
    )  # fmt: skip


@router.post(
    "/rates",
    response_model=RateLoad,
    summary="Load a publisher's exchange rates (CSV: date,currency,rate) into the oracle's outbox",
    openapi_extra=_BODY_DOC,
    responses=problem_responses(413, 415),
)
async def load_rates(
    request: Request,
    _operator: OperatorDep,
    services: ServicesDep,
    source: SourceQuery,
    base: Annotated[CurrencyCode, Query(description="the currency the file's rates are per one unit of (ECB: EUR)")],
    file_name: Annotated[
        str, Query(min_length=1, max_length=200, description="the name the stored quotes are traced to")
    ] = "http-upload.csv",
) -> RateLoad:
    _source(source)
    _currency("base", base)
    data = await read_csv_body(request, services.settings.max_feed_bytes, "rate file")
    return await run_in_threadpool(_load, services, source, base, file_name, data)


@router.get("/rates", response_model=StoredQuotes, summary="The stored quotes of one currency, day by day")
def stored_rates(
    _operator: OperatorDep,
    services: ServicesDep,
    source: SourceQuery,
    base: Annotated[CurrencyCode, Query(description="the base the quotes are per one unit of")],
    currency: Annotated[CurrencyCode, Query(description="the quoted currency")],
    first: Annotated[date | None, Query(alias="from", description="first day shown")] = None,
    last: Annotated[date | None, Query(alias="to", description="last day shown (included)")] = None,
) -> StoredQuotes:
    _source(source)
    _currency("base", base)
    _currency("currency", currency)
    if currency == base:
        raise InvalidInput.field("currency", f"{currency} is the base: its rate is 1 by definition")
    outbox = outbox_for(services, "rates are", "royalty-oracle rates load")
    with outbox.connect() as conn:
        rows = outbox.stored_rates(conn, source, base, first, last, currencies=[currency], inclusive=True)
    return StoredQuotes(
        source=source,
        base=base,
        currency=currency,
        quotes=[
            StoredQuote(
                day=row.day,
                quote=row.text,
                in_base=format_amount(cross_rate({currency: row.rate}, currency, base, base), RATE_DECIMALS),
                file_name=row.file_name,
            )
            for row in rows
        ],
    )


@router.get(
    "/rates/holds",
    response_model=RateHolds,
    summary="The periods whose report the oracle holds until the exchange rates it needs are loaded",
)
def rate_holds(_operator: OperatorDep, services: ServicesDep, session: SessionDep) -> RateHolds:
    """What ``royalty-oracle status`` lists under 'Reports waiting for rates', from the oracle's
    outbox: each held period, each currency it lacks a rate of with the days and why (a day
    without a quote, or a period the source has not published through yet)."""
    outbox = outbox_for(services, "rate holds are", "royalty-oracle status")
    with outbox.connect() as conn:
        holds = outbox.rate_holds(conn)
    names: dict[int, LicenceRow | None] = {}
    out = []
    for hold in holds:
        if hold.licence_id not in names:
            names[hold.licence_id] = session.get(LicenceRow, hold.licence_id)
        licence = names[hold.licence_id]
        out.append(
            RateHoldOut(
                licence_id=hold.licence_id,
                period=hold.period,
                period_name=None if licence is None else licence.rule().period_name(hold.period),
                source=hold.source,
                missing=[
                    MissingRateOut(currency=m["currency"], days=list(m["days"]), reason=str(m.get("reason", "")))
                    for m in hold.missing
                ],
                reason=hold.reason,
                held_since=hold.held_since,
                checked_at=hold.checked_at,
            )
        )
    return RateHolds(holds=out)
