"""What the routes that load a publisher's table (``POST /rates``, ``POST /indices``,
``POST /benchmarks``) share: the CSV body read within the feed size limit, and the oracle's outbox
they store into.

The tables go to the oracle's outbox, where the oracle reads them when it signs; an API without
one (``API_ORACLE_OUTBOX`` unset) answers 503 and names the CLI that loads the same file."""

from __future__ import annotations

from fastapi import Request

from api.errors import PayloadTooLarge, Unavailable, UnsupportedMediaType
from api.services import Services
from outbox import Outbox

CSV_TYPES = frozenset({"text/csv", "application/csv"})


def outbox_for(services: Services, what: str, command: str) -> Outbox:
    """The oracle's outbox, or 503 saying ``what`` lives there and which ``command`` loads it."""
    if services.outbox is None:
        raise Unavailable(
            f"{what} kept in the oracle's outbox, and this API has none: set API_ORACLE_OUTBOX "
            f"(or load them with {command})"
        )
    return services.outbox


async def read_csv_body(request: Request, limit: int, what: str) -> bytes:
    """The request's text/csv body (415 otherwise), refused past ``limit`` bytes (413) as it streams."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in CSV_TYPES:
        raise UnsupportedMediaType(f"send the {what} as text/csv; got {media or 'no content type'!r}")
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) > limit:
            raise PayloadTooLarge(f"the {what} is larger than {limit} bytes (API_MAX_FEED_BYTES)")
    return bytes(buffer)
