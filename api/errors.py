"""Every error the API answers with, as RFC 9457 problem details, mapped in one place.

Domain code raises :class:`ApiError` subclasses (or lets ``ContractRevert`` through); the
handlers installed by :func:`install_error_handlers` turn them, FastAPI's validation errors and
Starlette's HTTP errors into ``application/problem+json``. Anything unexpected becomes a 500
problem without internals (:class:`UnexpectedErrorMiddleware`); the details go to the log as one
line (``api.logs.exception_fields``: type, message and the innermost frames, never locals). An
index that is too busy to lend a connection in time is a 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import exception_fields
from royalty_chain.client import ChainError, ContractRevert, FeeCapExceeded

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("api.errors")


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; extension members (e.g. ``error``, ``arguments``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem answers a route can give."""
    described = {
        400: "Bad request", 401: "Operator token or API key missing", 403: "Operator token wrong", 404: "Unknown id",
        409: "Conflicts with the upload's state (e.g. a chunk at another offset)",
        410: "The upload expired (API_UPLOAD_EXPIRY_SECONDS)",
        413: "Feed too large", 415: "Unsupported content type", 422: "Invalid input or rejected by the contract",
        429: "Relay quota exceeded",
        502: "Line store disagrees with the chain", 503: "Chain or relayer unavailable, or the API is busy",
    }  # fmt: skip
    return {
        code: {
            "description": described.get(code, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


COMMON_PROBLEMS = problem_responses(404, 422, 503)


class ApiError(Exception):
    """Root of the API's errors: an HTTP status, a problem type slug and a human detail."""

    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class NotFound(ApiError):
    status, slug, title = 404, "not-found", "Not found"


class InvalidInput(ApiError):
    status, slug, title = 422, "invalid-input", "Invalid input"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}])


class SignatureInvalid(ApiError):
    status, slug, title = 422, "signature-invalid", "Signature does not match the party"


class ContractRejected(ApiError):
    status, slug, title = 422, "contract-rejected", "The contract would reject this"


class Unauthorized(ApiError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ApiError):
    status, slug, title = 403, "forbidden", "Not allowed"


class UnsupportedMediaType(ApiError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class BadRequest(ApiError):
    status, slug, title = 400, "bad-request", "Bad request"


class Conflict(ApiError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(ApiError):
    status, slug, title = 410, "gone", "Gone"


class PayloadTooLarge(ApiError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class Unavailable(ApiError):
    status, slug, title = 503, "unavailable", "Service unavailable"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or None)


def contract_rejected(revert: ContractRevert, names: list[str] | None = None) -> ContractRejected:
    """A ContractRejected naming the custom error and its arguments."""
    values = [("0x" + a.hex()) if isinstance(a, bytes) else a for a in revert.args]
    rendered = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
    arguments: dict[str, Any] | list[Any] = (
        dict(zip(names, rendered, strict=True)) if names and len(names) == len(rendered) else rendered
    )
    return ContractRejected(f"the contract would revert with {revert}", error=revert.error, arguments=arguments)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    retry_after = exc.extra.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem(exc.status, exc.slug, exc.title, exc.detail, exc.errors, headers, **exc.extra)


def _message(error: Any) -> str:
    """pydantic's message, without the "Value error, " it puts before a validator's own words."""
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _location(e.get("loc", ())), "message": _message(e)} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "the request is invalid"
    return problem(422, "invalid-input", "Invalid input", detail, errors)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "__ANY__"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}.get(exc.status_code, "http-error")
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    return problem(exc.status_code, slug, title, str(exc.detail), headers=headers)


async def _contract_revert(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContractRevert)
    error = contract_rejected(exc)
    return problem(error.status, error.slug, error.title, error.detail, **error.extra)


async def _fee_cap(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FeeCapExceeded)
    log.warning("relay_fee_cap_exceeded", cap=exc.cap, capped=exc.capped, asked=exc.asked)
    return problem(
        503, "fee-cap-exceeded", "Fee above the relayer's cap", str(exc), cap=exc.cap, capped=str(exc.capped),
        asked=str(exc.asked),
    )  # fmt: skip


async def _chain_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("chain_unavailable", error=str(exc))
    return problem(503, "chain-unavailable", "Chain unavailable", f"the chain node did not answer: {exc}")


def _retry_after(request: Request) -> str:
    return str(getattr(request.app.state, "retry_after", 2))


async def _index_busy(request: Request, exc: Exception) -> JSONResponse:
    """The index's pool lent no connection in time, or SQLite stayed locked: try again soon."""
    if isinstance(exc, OperationalError) and "locked" not in str(exc.orig):
        return await _unexpected(request, exc)
    log.warning("index_busy", path=request.url.path, **exception_fields(exc))
    return problem(
        503, "index-busy", "Index busy", "the index could not answer in time; retry shortly",
        headers={"Retry-After": _retry_after(request)},
    )  # fmt: skip


INTERNAL_DETAIL = "an unexpected error occurred; it has been logged"


def _log_unexpected(method: str, path: str, exc: BaseException) -> None:
    log.error("unhandled_error", method=method, path=path, **exception_fields(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Reached only for an error outside UnexpectedErrorMiddleware (or the OperationalError above).
    _log_unexpected(request.method, request.url.path, exc)
    return problem(500, "internal", "Internal error", INTERNAL_DETAIL)


class UnexpectedErrorMiddleware:
    """The outermost middleware: any exception no handler took becomes a 500 problem and one log
    line. (Starlette's own last resort answers too, but then re-raises it to the server, which
    logs the whole traceback over many lines.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            _log_unexpected(scope.get("method", ""), scope.get("path", ""), exc)
            if started:  # too late for a problem document: the server closes the connection
                return
            response = problem(500, "internal", "Internal error", INTERNAL_DETAIL)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ContractRevert, _contract_revert)
    app.add_exception_handler(FeeCapExceeded, _fee_cap)
    app.add_exception_handler(ChainError, _chain_unavailable)
    app.add_exception_handler(PoolTimeout, _index_busy)
    app.add_exception_handler(OperationalError, _index_busy)
    app.add_exception_handler(Exception, _unexpected)
