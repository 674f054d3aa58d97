"""Sales intake: the one reading of a sales feed, shared by the oracle and the API.

``judge`` decides every line of a feed: valid, rejected (line, field, value, reason) or late
(its period already reported); the oracle's ingest and ``POST /feeds`` both call it. Under it,
``feed`` parses lines, ``validate`` checks them against their licences (known licence,
currency, term, amounts the token can pay, ids seen before, periods already reported) and gives
each its Merkle leaf (``merkle``), and ``twostage`` runs the two on two cores for a file;
``money`` converts decimal strings at the edge; ``fx`` reads rate files and gives the rate a
licence's conversion clause takes for a sale in another currency (``docs/currencies.md``);
``errors`` holds the exceptions.

No chain, network, database or file output lives here: the stores the validator asks (seen
line ids, reported periods) are protocols the caller supplies.
"""
