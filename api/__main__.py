"""Run the API: ``python -m api`` (settings from API_* environment variables).

One process (the indexer runs inside it, and SQLite has one writer); its concurrency comes from
the event loop and the worker threads (API_WORKER_THREADS), bounded by admission
(API_MAX_CONCURRENT_REQUESTS, see api/settings.py). Logging is set up before uvicorn starts, so
even its first lines are structured (api/logs.py).
"""

from __future__ import annotations

import os

import uvicorn

from api.logs import configure_logging
from api.settings import ApiSettings


def main() -> None:
    configure_logging(ApiSettings())  # a bad setting stops the API here, naming it
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=os.environ.get("API_HOST", "127.0.0.1"),
        port=int(os.environ.get("API_PORT", "8000")),
        log_config=None,  # keep configure_logging's handler: one line per event
    )


if __name__ == "__main__":
    main()
