"""The API's logs (api.logs): one structured line per event, an exception included, never its
locals; uvicorn's loggers go the same way; a log file rotates by size (finding F2: each 500 used
to log about 1 MB of rich traceback). Pure: no chain, no server."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from api.logs import configure_logging
from api.settings import ApiSettings

SECRET_LOCAL = "a-local-variable-that-must-not-be-logged"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    uvicorn = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate,
                      logging.getLogger(name).level)
               for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}  # fmt: skip
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, (old, propagate, old_level) in uvicorn.items():
        logging.getLogger(name).handlers[:] = old
        logging.getLogger(name).propagate = propagate
        logging.getLogger(name).setLevel(old_level)
    structlog.reset_defaults()


def _fail() -> None:
    secret = SECRET_LOCAL
    raise ValueError(f"the index said no ({len(secret)})")


def _lines(path: Path) -> list[str]:
    """The lines this module's loggers wrote: services that other tests of the same pytest worker
    left running (an HTTP client's logger, for one) log into the root handler too."""
    ours = ("logger='api.test'", "logger='uvicorn")
    return [line for line in path.read_text().splitlines() if any(name in line for name in ours)]


def test_an_exception_is_one_line_without_locals(tmp_path: Path, restore_logging: None) -> None:
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # as `uvicorn --log-level warning` leaves it
    log_file = tmp_path / "api.log"
    configure_logging(ApiSettings(log_file=log_file))
    try:
        _fail()
    except ValueError:
        structlog.get_logger("api.test").exception("unhandled_error", path="/licences/1")
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/health", "1.1", 200)
    lines = _lines(log_file)
    assert len(lines) == 3, lines
    structured, uvicorn_error, access = lines
    for line in lines:
        assert line.startswith("timestamp=")
        assert SECRET_LOCAL not in line and "Traceback" not in line
    assert "event='unhandled_error'" in structured and "path='/licences/1'" in structured
    assert "level='error'" in structured and "logger='api.test'" in structured
    for line in (structured, uvicorn_error):
        assert "error_type='ValueError'" in line
        assert "error='the index said no (40)'" in line
        assert "where='tests/python/api/test_logs.py:" in line and "in _fail" in line
    assert "logger='uvicorn.error'" in uvicorn_error
    assert "GET /health HTTP/1.1" in access and "level='info'" in access


def test_json_lines_when_asked(tmp_path: Path, restore_logging: None) -> None:
    log_file = tmp_path / "api.log"
    configure_logging(ApiSettings(log_file=log_file, log_format="json"))
    structlog.get_logger("api.test").warning("request_refused_busy", gate="requests")
    # Only this test's logger: services other tests of the same worker left running log too.
    (event,) = [e for e in map(json.loads, log_file.read_text().splitlines()) if e.get("logger") == "api.test"]
    assert event["event"] == "request_refused_busy" and event["gate"] == "requests" and event["level"] == "warning"


def test_the_log_file_rotates_by_size(tmp_path: Path, restore_logging: None) -> None:
    log_file = tmp_path / "api.log"
    configure_logging(ApiSettings(log_file=log_file, log_max_bytes=10_000, log_backups=2))
    log = structlog.get_logger("api.test")
    for i in range(2_000):
        log.info("request", n=i, path="/licences/1/settlements")
    rotated = sorted(p.name for p in tmp_path.iterdir())
    assert rotated == ["api.log", "api.log.1", "api.log.2"]
    assert all(p.stat().st_size <= 10_000 for p in tmp_path.iterdir())
    assert "n=1999" in _lines(log_file)[-1]
    # The newest file holds the newest lines, each once across the three files, none cut.
    numbers = [int(line.split("n=")[1].split(" ")[0]) for p in tmp_path.iterdir() for line in _lines(p)]
    assert len(numbers) == len(set(numbers)) and max(numbers) == 1999
