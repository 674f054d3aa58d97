"""The API's logs: one structured line per event, exceptions included, to stderr or a rotated file.

structlog's default output renders an exception as a rich traceback with every frame's local
variables: about 1 MB per error under load, formatted on the event loop (finding F2). Here an
exception becomes three fields on the event's own line (``error_type``, ``error`` and ``where``,
the innermost frames as ``file:line in function``), never locals; the standard library's loggers
(uvicorn's server, error and access logs) go through the same renderer. With ``API_LOG_FILE`` the
lines go to that file, rotated at ``API_LOG_MAX_BYTES`` with ``API_LOG_BACKUPS`` old files kept.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from api.settings import ApiSettings

FRAMES = 4
"""Innermost frames named in ``where``."""
MAX_ERROR_CHARS = 300
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_ROOT = str(Path(__file__).resolve().parents[1]) + "/"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def exception_fields(error: BaseException) -> dict[str, str]:
    """An exception as three short fields: its type, its message and where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)[-FRAMES:]
    where = " < ".join(f"{_short(f.filename)}:{f.lineno} in {f.name}" for f in reversed(frames))
    message = str(error)
    if len(message) > MAX_ERROR_CHARS:
        message = message[:MAX_ERROR_CHARS] + f"... ({len(message)} chars)"
    return {"error_type": type(error).__name__, "error": message, "where": where or "unknown"}


def _short(filename: str) -> str:
    """A frame's file relative to the project or site-packages, not its absolute path."""
    if filename.startswith(_ROOT):
        return filename[len(_ROOT) :]
    if "/site-packages/" in filename:
        return filename.rsplit("/site-packages/", 1)[1]
    return filename


def _exc_info(value: Any) -> ExcInfo | None:
    if isinstance(value, BaseException):
        return type(value), value, value.__traceback__
    if isinstance(value, tuple) and len(value) == 3 and value[1] is not None:
        return value
    if value is True:
        current = sys.exc_info()
        return None if current[1] is None else current
    return None


def one_line_exception(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """structlog processor: ``exc_info`` (and ``exception``) become :func:`exception_fields`."""
    info = _exc_info(event.pop("exc_info", None))
    event.pop("exception", None)
    event.pop("stack", None)
    if info is not None:
        for key, value in exception_fields(info[1]).items():
            event.setdefault(key, value)
    return event


def _renderer(settings: ApiSettings) -> Processor:
    if settings.log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "logger", "event"])


def _handler(settings: ApiSettings) -> logging.Handler:
    if settings.log_file is None:
        return logging.StreamHandler(sys.stderr)
    settings.log_file.parent.mkdir(parents=True, exist_ok=True)
    return logging.handlers.RotatingFileHandler(
        settings.log_file, maxBytes=settings.log_max_bytes, backupCount=settings.log_backups, encoding="utf-8"
    )


def configure_logging(settings: ApiSettings) -> None:
    """Routes structlog and the standard library's logging (uvicorn's too) to one handler, one
    line per event. Calling it again replaces the handler (idempotent)."""
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = _handler(settings)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                one_line_exception,
                _renderer(settings),
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:  # uvicorn's own handlers print tracebacks over many lines
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)  # API_LOG_LEVEL decides, whatever uvicorn was started with
    structlog.configure(
        processors=[*shared, one_line_exception, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
