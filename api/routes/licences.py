"""Licences: the index's view, statements, and relayed registration, amendment, termination."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import proofs, queries, relay
from api.deps import (
    AddressQuery,
    LicenceId,
    LineIdPath,
    ManifestDep,
    PageQuery,
    PeriodPath,
    ReviewIdPath,
    ServicesDep,
    SessionDep,
    SizeQuery,
)
from api.errors import problem_responses
from api.rate_schemas import FixedRateOut, FixedRates, FixedTableOut
from api.relay_guard import RelayCallerDep, relaying
from api.relay_schemas import (
    AmendDraft,
    AmendDraftIn,
    AmendIn,
    Draft,
    EscalationAttachIn,
    EscalationDraft,
    EscalationDraftIn,
    FixedRatesAgreeIn,
    FixedRatesDraft,
    FixedRatesDraftIn,
    RegisterDraft,
    RegisterDraftIn,
    RegisterIn,
    Relayed,
    ReviewAcceptDraft,
    ReviewAcceptDraftIn,
    ReviewAcceptIn,
    ReviewDeclineDraftIn,
    ReviewDeclineIn,
    TerminateDraftIn,
    TerminateIn,
)
from api.schemas import (
    Escalation,
    LicenceDetail,
    LicencePage,
    LineProof,
    PeriodHistory,
    PeriodPage,
    Reviews,
    SettlementPage,
    Statement,
)
from intake.fx import RATE_DECIMALS, fx_clause
from royalty_chain.calendar import iso_date
from royalty_chain.units import format_amount

router = APIRouter(prefix="/licences", tags=["licences"], responses=problem_responses(400, 401, 404, 422, 429, 503))


@router.get("", response_model=LicencePage, summary="Licences, newest first")
def list_licences(
    session: SessionDep,
    manifest: ManifestDep,
    party: AddressQuery = None,
    status: Annotated[Literal["active", "expired", "terminated"] | None, Query()] = None,
    page: PageQuery = 1,
    size: SizeQuery = 50,
) -> LicencePage:
    return queries.list_licences(session, manifest, party, status, page, size)


@router.get("/{licence_id:id}", response_model=LicenceDetail, summary="A licence in full")
def get_licence(licence_id: LicenceId, session: SessionDep, manifest: ManifestDep) -> LicenceDetail:
    return queries.licence_detail(session, manifest, licence_id)


@router.get("/{licence_id:id}/settlements", response_model=SettlementPage, summary="Settlements, newest first")
def licence_settlements(
    licence_id: LicenceId, session: SessionDep, page: PageQuery = 1, size: SizeQuery = 50
) -> SettlementPage:
    return queries.licence_settlements(session, licence_id, page, size)


@router.get(
    "/{licence_id:id}/periods",
    response_model=PeriodPage,
    summary="Reporting periods of the term and sell-off: names, exact dates, due dates, report state",
)
def licence_periods(
    licence_id: LicenceId, session: SessionDep, page: PageQuery = 1, size: SizeQuery = 50
) -> PeriodPage:
    return queries.licence_periods(session, licence_id, page, size)


@router.get(
    "/{licence_id:id}/periods/{period:id}/history",
    response_model=PeriodHistory,
    summary="A period's chain of reports: its original, then each adjustment in order",
)
def period_history(
    licence_id: LicenceId,
    period: PeriodPath,
    session: SessionDep,
) -> PeriodHistory:
    return queries.period_history(session, licence_id, period)


@router.get(
    "/{licence_id:id}/periods/{period:id}/lines/{line_id}/proof",
    response_model=LineProof,
    summary="A sales line of a period and its Merkle proof against the root of the report (original or "
    "adjustment) that carried it",
    responses=problem_responses(502),
)
def period_line_proof(
    licence_id: LicenceId,
    period: PeriodPath,
    line_id: LineIdPath,
    services: ServicesDep,
    session: SessionDep,
) -> LineProof:
    return proofs.period_line_proof(session, services.line_store, licence_id, period, line_id)


@router.get(
    "/{licence_id:id}/statement",
    response_model=Statement,
    summary="The licensor's royalty statement of one contract year (JSON, or CSV with Accept: text/csv)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def licence_statement(
    licence_id: LicenceId,
    request: Request,
    session: SessionDep,
    manifest: ManifestDep,
    year: Annotated[int, Query(ge=0, le=10_000, description="contract year, from 0 (the year of the start)")] = 0,
    format: Annotated[Literal["json", "csv"] | None, Query(description="overrides Accept")] = None,
) -> Statement | Response:
    result = queries.statement(session, manifest, licence_id, year)
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows(queries.statement_csv_rows(result))
        filename = f"licence-{licence_id}-year-{year}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return result


@router.post("/drafts", response_model=RegisterDraft, summary="Canonical terms and the typed data both parties sign")
def draft_licence(body: RegisterDraftIn, services: ServicesDep) -> RegisterDraft:
    return relay.draft_register(services, body.terms, body.deadline)


@router.post("", response_model=Relayed, status_code=201, summary="Register a licence from both parties' signatures")
def register_licence(body: RegisterIn, services: ServicesDep, caller: RelayCallerDep) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_register(
            services, body.terms, body.deadline, body.licensor_signature, body.licensee_signature
        )


@router.post("/{licence_id:id}/amendments/drafts", response_model=AmendDraft, summary="Typed data of an amendment")
def draft_amendment(licence_id: LicenceId, body: AmendDraftIn, services: ServicesDep) -> AmendDraft:
    return relay.draft_amend(services, licence_id, body.schedule, body.new_end, body.deadline)


@router.post("/{licence_id:id}/amendments", response_model=Relayed, status_code=201, summary="Relay a signed amendment")
def amend_licence(licence_id: LicenceId, body: AmendIn, services: ServicesDep, caller: RelayCallerDep) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_amend(
            services, licence_id, body.schedule, body.new_end, body.deadline,
            body.licensor_signature, body.licensee_signature,
        )  # fmt: skip


@router.get(
    "/{licence_id:id}/escalation",
    response_model=Escalation,
    summary="The licence's escalation clause and the steps applied, each with its index values and computation",
)
def licence_escalation(licence_id: LicenceId, session: SessionDep, manifest: ManifestDep) -> Escalation:
    return queries.escalation(session, manifest, licence_id)


@router.post(
    "/{licence_id:id}/escalation/drafts",
    response_model=EscalationDraft,
    summary="The canonical escalation clause and the typed data both parties sign to attach it",
)
def draft_escalation(licence_id: LicenceId, body: EscalationDraftIn, services: ServicesDep) -> EscalationDraft:
    return relay.draft_escalation(services, licence_id, body.clause, body.deadline)


@router.post(
    "/{licence_id:id}/escalation",
    response_model=Relayed,
    status_code=201,
    summary="Relay an escalation clause both parties signed (attached once per licence)",
)
def attach_escalation(
    licence_id: LicenceId, body: EscalationAttachIn, services: ServicesDep, caller: RelayCallerDep
) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_escalation(
            services, licence_id, body.clause, body.deadline, body.licensor_signature, body.licensee_signature
        )


@router.get(
    "/{licence_id:id}/fixed-rates",
    response_model=FixedRates,
    summary="The licence's tables of fixed contractual exchange rates, each both parties signed (rule fixed)",
)
def licence_fixed_rates(licence_id: LicenceId, session: SessionDep, services: ServicesDep) -> FixedRates:
    clause = fx_clause(queries.get_licence_row(session, licence_id))  # its fx_rule and fx_source
    tables = services.chain.fx.tables(licence_id)
    return FixedRates(
        licence_id=licence_id,
        rule=clause.rule.value,
        source=clause.source,
        tables=[
            FixedTableOut(
                version=t.version,
                effective_from=t.effective_from,
                effective_from_date=iso_date(t.effective_from),
                rates=[
                    FixedRateOut(currency=code, rate=format_amount(rate, RATE_DECIMALS), rate_scaled=str(rate))
                    for code, rate in sorted(t.rates.items())
                ],
            )
            for t in tables
        ],
    )


@router.post(
    "/{licence_id:id}/fixed-rates/drafts",
    response_model=FixedRatesDraft,
    summary="The typed data both parties sign to agree the licence's next table of fixed rates",
)
def draft_fixed_rates(licence_id: LicenceId, body: FixedRatesDraftIn, services: ServicesDep) -> FixedRatesDraft:
    return relay.draft_fixed_rates(services, licence_id, body)


@router.post(
    "/{licence_id:id}/fixed-rates",
    response_model=Relayed,
    status_code=201,
    summary="Relay a table of fixed rates both parties signed (in force from a period's start)",
)
def agree_fixed_rates(
    licence_id: LicenceId, body: FixedRatesAgreeIn, services: ServicesDep, caller: RelayCallerDep
) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_fixed_rates(services, licence_id, body)


@router.get(
    "/{licence_id:id}/reviews",
    response_model=Reviews,
    summary="The licence's rate-review clause and its reviews: each trigger fired, the data that justified it, "
    "the decision, and for an open review the amendment both parties would sign",
)
def licence_reviews(licence_id: LicenceId, session: SessionDep, manifest: ManifestDep) -> Reviews:
    return queries.reviews(session, manifest, licence_id)


@router.post(
    "/{licence_id:id}/reviews/{review_id:id}/decline/drafts",
    response_model=Draft,
    summary="The DeclineReview typed data one party signs to decline an open review",
)
def draft_review_decline(
    licence_id: LicenceId, review_id: ReviewIdPath, body: ReviewDeclineDraftIn, services: ServicesDep
) -> Draft:
    return relay.draft_decline(services, licence_id, review_id, body.party, body.deadline)


@router.post(
    "/{licence_id:id}/reviews/{review_id:id}/decline",
    response_model=Relayed,
    status_code=201,
    summary="Relay one party's decline of an open review (the licence's terms stay as they are)",
)
def decline_review(
    licence_id: LicenceId, review_id: ReviewIdPath, body: ReviewDeclineIn, services: ServicesDep,
    caller: RelayCallerDep,
) -> Relayed:  # fmt: skip
    with relaying(services.relay_usage, caller):
        return relay.submit_decline(services, licence_id, review_id, body.party, body.deadline, body.signature)


@router.post(
    "/{licence_id:id}/reviews/{review_id:id}/accept/drafts",
    response_model=ReviewAcceptDraft,
    summary="The amendment an open review suggests, as the AmendLicence typed data both parties sign",
)
def draft_review_accept(
    licence_id: LicenceId, review_id: ReviewIdPath, body: ReviewAcceptDraftIn, services: ServicesDep
) -> ReviewAcceptDraft:
    return relay.draft_accept(services, licence_id, review_id, body.effective_from, body.deadline)


@router.post(
    "/{licence_id:id}/reviews/{review_id:id}/accept",
    response_model=Relayed,
    status_code=201,
    summary="Relay the amendment both parties signed, accepting the review (through LicenceReviews.accept)",
)
def accept_review(
    licence_id: LicenceId, review_id: ReviewIdPath, body: ReviewAcceptIn, services: ServicesDep,
    caller: RelayCallerDep,
) -> Relayed:  # fmt: skip
    with relaying(services.relay_usage, caller):
        return relay.submit_accept(
            services, licence_id, review_id, body.schedule, body.new_end, body.deadline,
            body.licensor_signature, body.licensee_signature,
        )  # fmt: skip


@router.post("/{licence_id:id}/termination/drafts", response_model=Draft, summary="Typed data of a termination")
def draft_termination(licence_id: LicenceId, body: TerminateDraftIn, services: ServicesDep) -> Draft:
    return relay.draft_terminate(services, licence_id, body.deadline)


@router.post("/{licence_id:id}/termination", response_model=Relayed, status_code=201, summary="Relay a termination")
def terminate_licence(
    licence_id: LicenceId, body: TerminateIn, services: ServicesDep, caller: RelayCallerDep
) -> Relayed:
    with relaying(services.relay_usage, caller):
        return relay.submit_terminate(
            services, licence_id, body.deadline, body.licensor_signature, body.licensee_signature
        )
