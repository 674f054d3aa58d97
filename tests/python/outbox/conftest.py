"""The outbox tests build lines with the sales-line kit of the oracle's tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oracle"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg import pg_server, pg_url  # noqa: F401  (fixtures)
