"""Royalty oracle: ingest sales feeds, build signed reports, settle them on chain.

Feeds are parsed and validated by the sales intake package (``intake``); the oracle adds what
is a service's: the outbox, rejects files, aggregation into buckets and roots, signing, sending.
"""
