"""FastAPI dependencies: services, a database session per request, common parameters."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from api.errors import Forbidden, Unauthorized, Unavailable
from api.inputs import check_address
from api.queries import MAX_PAGE_SIZE
from api.services import Services
from royalty_chain.manifest import Manifest

MAX_ID = 2**63 - 1


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


def get_manifest(services: ServicesDep) -> Manifest:
    return services.manifest


SessionDep = Annotated[Session, Depends(get_session)]
ManifestDep = Annotated[Manifest, Depends(get_manifest)]

LicenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="licence id")]
SettlementId = Annotated[int, Path(ge=1, le=MAX_ID, description="settlement id")]
AddressPath = Annotated[str, BeforeValidator(check_address), Path(description="0x address")]
AddressQuery = Annotated[str | None, BeforeValidator(lambda v: None if v is None else check_address(v)), Query()]
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
