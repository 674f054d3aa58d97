"""The read side: answers built from the index only (never from the chain per request).

One module per resource, as the routes are: `licences`, `settlements`, `statements`, `parties`,
with the helpers they share in `common`. The names the routes use are re-exported here.
"""

from api.queries.common import MAX_PAGE_SIZE, chain_now, effective_end, get_licence_row, status_of, token_out
from api.queries.escalation import escalation
from api.queries.licences import licence_detail, list_licences
from api.queries.parties import known_parties, party
from api.queries.periods import licence_periods, period_history
from api.queries.reviews import reviews
from api.queries.settlements import licence_settlements, settlement_detail
from api.queries.statements import STATEMENT_COLUMNS, statement, statement_csv_rows

__all__ = [
    "MAX_PAGE_SIZE",
    "STATEMENT_COLUMNS",
    "chain_now",
    "effective_end",
    "escalation",
    "get_licence_row",
    "known_parties",
    "licence_detail",
    "licence_periods",
    "licence_settlements",
    "list_licences",
    "party",
    "period_history",
    "reviews",
    "settlement_detail",
    "statement",
    "statement_csv_rows",
    "status_of",
    "token_out",
]
