"""FastAPI dependencies: services, a database session per request, common parameters.

Every path and query value is bounded before any work: ids by the ``id`` path convertor and
``le``/``ge``, strings by their length or pattern, so a 5,000-digit id is a 422 naming the field
in microseconds (Starlette's own ``int`` convertor would convert it first, and Python refuses
integers of more than 4,300 digits with an error that became a 500).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy.orm import Session
from starlette.convertors import Convertor, register_url_convertor

from api.errors import Forbidden, Unauthorized, Unavailable
from api.inputs import check_party
from api.queries import MAX_PAGE_SIZE
from api.services import Services
from royalty_chain.manifest import Manifest
from royalty_chain.soltypes import ADDRESS_FORMAT, PARTY_PATTERN

MAX_ID = 2**63 - 1
_ID_DIGITS = len(str(MAX_ID))  # 19
_BEYOND_EVERY_ID = MAX_ID + 1


class IdConvertor(Convertor[int]):
    """``{name:id}``: digits, read as an int without converting more than 19 of them.

    A value with more significant digits than ``MAX_ID`` is read as ``MAX_ID + 1``, above the
    ``le`` bound of every id parameter, so the route's own validation answers 422 naming the field.
    """

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        digits = value.lstrip("0")
        return int(value) if len(digits) <= _ID_DIGITS else _BEYOND_EVERY_ID

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())


async def get_services(request: Request) -> Services:
    # async: resolving it takes no worker thread (see api.admission)
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


async def get_manifest(services: ServicesDep) -> Manifest:
    return services.manifest


SessionDep = Annotated[Session, Depends(get_session)]
ManifestDep = Annotated[Manifest, Depends(get_manifest)]


def _optional_party(value: Any) -> str | None:
    return None if value is None else check_party(value)


_PARTY_SCHEMA = {"pattern": PARTY_PATTERN, "format": ADDRESS_FORMAT}
_PARTY_EXAMPLE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
_PARTY_WORDS = "0x address of a party (EIP-55 checksummed, or all one case; never the zero address)"

LicenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="licence id", examples=[1])]
SettlementId = Annotated[int, Path(ge=1, le=MAX_ID, description="settlement id", examples=[1])]
ReviewIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="review id (LicenceReviews)", examples=[1])]
PeriodPath = Annotated[
    int, Path(ge=0, le=2**32 - 1, description="period index, from 0 (the term's first)", examples=[0])
]
LineIdPath = Annotated[str, Path(min_length=1, max_length=128, description="the sales line's id")]
AddressPath = Annotated[
    str,
    BeforeValidator(check_party),
    Path(
        min_length=42,
        max_length=42,
        description=_PARTY_WORDS,
        json_schema_extra=_PARTY_SCHEMA,
        examples=[_PARTY_EXAMPLE],
    ),
]
AddressQuery = Annotated[
    str | None,
    BeforeValidator(_optional_party),
    Query(
        min_length=42,
        max_length=42,
        description=_PARTY_WORDS,
        json_schema_extra=_PARTY_SCHEMA,
        examples=[_PARTY_EXAMPLE],
    ),
]
PageQuery = Annotated[int, Query(ge=1, le=100_000, description="1-based page")]
SizeQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")]

_bearer = HTTPBearer(auto_error=False, description="API_OPERATOR_TOKEN")


def require_operator(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = services.settings.operator_token
    if credentials is None:
        raise Unauthorized("send the operator token as 'Authorization: Bearer <token>'")
    if expected is None:
        raise Unavailable("feed upload is disabled: API_OPERATOR_TOKEN is not set")
    if not hmac.compare_digest(credentials.credentials.encode(), expected.get_secret_value().encode()):
        raise Forbidden("the operator token is wrong")


OperatorDep = Annotated[None, Depends(require_operator)]
