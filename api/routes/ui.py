"""The licensor dashboard: server-rendered pages, no JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from api import queries
from api.deps import AddressPath, LicenceId, ManifestDep, PeriodPath, SessionDep
from api.errors import problem_responses
from api.indexer.models import SettlementRow
from api.money import format_units
from api.ui_text import Money, day, moment, percent, rate_words, terms_sentence
from royalty_chain.calendar import LicenceCalendar

router = APIRouter(tags=["dashboard"], include_in_schema=True, responses=problem_responses(400, 404, 422, 503))
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.globals.update(day=day, moment=moment, percent=percent)

CHART_BARS = 36


@router.get("/", response_class=HTMLResponse, summary="Dashboard: pick a party")
def home(request: Request, session: SessionDep) -> HTMLResponse:
    parties = queries.known_parties(session)
    return templates.TemplateResponse(request, "index.html", {"parties": parties})


@router.get("/ui/parties/{address}", response_class=HTMLResponse, summary="Dashboard: one party")
def party_page(request: Request, address: AddressPath, session: SessionDep, manifest: ManifestDep) -> HTMLResponse:
    result = queries.party(session, manifest, address, 1, 20)
    rows = []
    for lic in result.licences:
        money = Money(lic.token.decimals, lic.token.symbol)
        rows.append({"licence": lic, "money": money})
    return templates.TemplateResponse(request, "party.html", {"party": result, "rows": rows, "money_for": _money_for})


def _money_for(token: Any) -> Money:
    return Money(token.decimals, token.symbol)


def _chart(items: list[Any], money: Money) -> dict[str, Any]:
    """An SVG bar chart of royalty per settlement, oldest first."""
    bars = list(reversed(items[:CHART_BARS]))
    width, height, pad = 720, 220, 30
    peak = max((int(s.royalty) for s in bars), default=0) or 1
    step = (width - 2 * pad) / max(len(bars), 1)
    shapes = []
    for i, s in enumerate(bars):
        h = int(int(s.royalty) * (height - 2 * pad) / peak)
        shapes.append(
            {
                "x": round(pad + i * step + step * 0.1, 1),
                "y": height - pad - h,
                "w": round(step * 0.8, 1),
                "h": h,
                "label": f"#{s.id} {s.kind} {s.period_name or ''}: {money(s.royalty)}",
                "state": s.state,
            }
        )
    return {"width": width, "height": height, "pad": pad, "bars": shapes, "peak": money(peak)}


def _years(rule: LicenceCalendar, current: int) -> list[dict[str, Any]]:
    """The contract years so far, with their dates, for the statement links."""
    return [{"year": y, "name": rule.year_name(y)} for y in range(current + 1)]


@router.get("/ui/licences/{licence_id:id}", response_class=HTMLResponse, summary="Dashboard: one licence")
def licence_page(request: Request, licence_id: LicenceId, session: SessionDep, manifest: ManifestDep) -> HTMLResponse:
    licence = queries.licence_detail(session, manifest, licence_id)
    money = Money(licence.token.decimals, licence.token.symbol)
    settlements = queries.licence_settlements(session, licence_id, 1, 100)
    current = licence.schedule_versions[-1].model_dump(mode="json") if licence.schedule_versions else {}
    versions = [
        {"version": v, "words": "; ".join(rate_words(v.model_dump(mode="json"), money))}
        for v in licence.schedule_versions
    ]
    disputed = [
        queries.settlement_detail(session, manifest, sid)
        for sid in session.scalars(
            select(SettlementRow.id)
            .where(SettlementRow.licence_id == licence_id, SettlementRow.disputed_by.is_not(None))
            .order_by(SettlementRow.id.desc())
            .limit(50)
        )
    ]
    context = {
        "licence": licence,
        "money": money,
        "sentence": terms_sentence(licence.terms, current, licence.end, money),
        "calendar": licence.calendar.words,
        "periods": queries.licence_periods(session, licence_id, 1, 40).items,
        "versions": versions,
        "settlements": settlements,
        "chart": _chart(settlements.items, money),
        "disputed": disputed,
        "years": _years(queries.get_licence_row(session, licence_id).rule(), licence.contract_year),
    }
    return templates.TemplateResponse(request, "licence.html", context)


@router.get(
    "/ui/licences/{licence_id:id}/periods/{period:id}",
    response_class=HTMLResponse,
    summary="Dashboard: a period's original report and its adjustments",
)
def period_page(
    request: Request,
    licence_id: LicenceId,
    period: PeriodPath,
    session: SessionDep,
    manifest: ManifestDep,
) -> HTMLResponse:
    history = queries.period_history(session, licence_id, period)
    licence = queries.get_licence_row(session, licence_id)
    token = queries.token_out(manifest, licence.token)
    money = Money(token.decimals, token.symbol)
    return templates.TemplateResponse(request, "period.html", {"history": history, "money": money})


def _minor(amount: int | str, minor_units: int) -> str:
    """An amount in a currency's minor units as its decimal (12345678, 2 -> 123456.78)."""
    return format_units(int(amount), minor_units)


@router.get(
    "/ui/licences/{licence_id:id}/statement",
    response_class=HTMLResponse,
    summary="Dashboard: a contract year's statement, each period's royalty by component",
)
def statement_page(
    request: Request,
    licence_id: LicenceId,
    session: SessionDep,
    manifest: ManifestDep,
    year: Annotated[int, Query(ge=0, le=10_000, description="contract year, from 0 (the year of the start)")] = 0,
) -> HTMLResponse:
    result = queries.statement(session, manifest, licence_id, year)
    money = Money(result.token.decimals, result.token.symbol)
    return templates.TemplateResponse(request, "statement.html", {"statement": result, "money": money, "minor": _minor})
