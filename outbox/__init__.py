"""The oracle's durable outbox: the one owner of its schema, used by the oracle and the API.

- ``outbox.store``: ``Outbox`` (every line and report, with its state) and ``StoredReport``;
- ``outbox.rates``: the exchange-rate quotes of loaded rate files (``Rates``, a base of ``Outbox``);
- ``outbox.indices``: the values of loaded index files and the escalation steps waiting for them
  (``Indices``, a base of ``Outbox``);
- ``outbox.benchmarks``: the values of loaded benchmark files and the review triggers waiting
  (``Benchmarks``, a base of ``Outbox``);
- ``outbox.lines``: the outbox as the validator asks it (``OutboxSeenLines``, ``ReportedPeriods``);
- ``outbox.linestore``: the API's adapters (``OutboxLineStore``, ``OutboxFeedSink``);
- ``outbox.schema``: the tables and ``ReportState``; ``outbox.migrate`` and
  ``outbox/migrations``: the schema's Alembic revisions;
- ``outbox.sqlite``: the SQLite connection settings shared with the API's index.
"""

from outbox.lines import OutboxSeenLines, ReportedPeriods
from outbox.migrate import OutboxError, OutboxMissing, OutboxSchemaError
from outbox.reports import ReportStateError, StoredReport
from outbox.schema import LineState, ReportState
from outbox.store import Outbox

__all__ = [
    "LineState",
    "Outbox",
    "OutboxError",
    "OutboxMissing",
    "OutboxSchemaError",
    "OutboxSeenLines",
    "ReportState",
    "ReportStateError",
    "ReportedPeriods",
    "StoredReport",
]
