"""A throwaway PostgreSQL for the outbox tests: API_TEST_POSTGRES_URL's server (scripts/test.sh
starts one), else one started here with scripts/pg_test_server.sh; each test gets a database of
its own. Skipped, saying why, only when no PostgreSQL server is installed."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[3]
SERVER = ROOT / "scripts" / "pg_test_server.sh"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    url = os.environ.get("API_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    started = subprocess.run([str(SERVER), "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.skip(f"no PostgreSQL server to test against: {started.stderr.strip()}")
    folder, url = started.stdout.split()
    try:
        yield url
    finally:
        subprocess.run([str(SERVER), "stop", folder], capture_output=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new empty database on the server, dropped after the test."""
    name = f"outbox_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
