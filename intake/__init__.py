"""Sales intake: the one reading of a sales feed, shared by the oracle and the API.

``feed`` parses lines, ``validate`` checks them against their licences (known licence,
currency, term, amounts the token can pay, ids seen before, periods already reported) and gives
each its Merkle leaf (``merkle``); ``money`` converts decimal strings at the edge; ``errors``
holds the exceptions. No chain, network, database or file output lives here: the stores the
validator asks (seen line ids, reported periods) are protocols the caller supplies, so the
oracle's inbox and ``POST /feeds`` judge every line by the same code.
"""
