"""Royalty oracle: read sales feeds, check them against licences, build signed reports.

The pure pipeline (no chain, no network, no database) is
``feed`` (parse) -> ``validate`` (licence checks, dedupe, leaf) -> ``aggregate`` (buckets and
the lines' Merkle root via ``merkle``); ``money`` converts decimal strings at the edge.
"""
