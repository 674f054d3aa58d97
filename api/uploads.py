"""Resumable uploads of feeds too large for one request, staged inside the oracle's inbox.

A feed above ``API_MAX_FEED_BYTES`` (the limit of ``POST /feeds``, which judges a feed in memory)
is sent in chunks instead; the API never holds more than one network chunk of it::

    INBOX/.uploads/<id>/meta.json          what the upload is (file name, created at)
    INBOX/.uploads/<id>/feed.part          the bytes received so far: its size is the offset
    INBOX/.uploads/<id>/feed.rejects.csv   at completion: the lines the per-line checks refused
    INBOX/.uploads/<id>/result.json        at completion: the counts, and the inbox file's name
    INBOX/<id>-<file name>                 the feed, renamed in once complete and checked

``.uploads`` is hidden and a directory, so the inbox's watcher never reads anything in it
(intake.files ``ignored_reason``); the rename into the inbox is on one file system, so the
watcher sees the whole feed or nothing. Everything is on disk: after an API restart an upload
resumes from its ``feed.part``.

An upload idle for longer than ``API_UPLOAD_EXPIRY_SECONDS`` (no chunk, no completion; default a
day) expires: its bytes are removed and only ``expired.json`` stays, so a late chunk or status
request is answered 410 naming the expiry rather than a bare 404; the tombstone itself goes after
a second such span. Expired uploads are swept when the store opens (API start) and whenever an
upload is created, and an expired one is also found on its next access.

At completion the feed's SHA-256 must equal the one the client sends, else nothing moves. Each
line is then checked as ``POST /feeds`` checks it, minus the seen store (format, fields,
licence, currency, term, dates, amounts: ``Validator.prepare``), streaming with flat memory. A
feed whose header cannot be read is refused whole. Otherwise every line, good and bad, goes to
the inbox: the oracle judges the feed again with its durable seen store (duplicates, corrections)
and writes its own rejects file and receipt (oracle.inbox), so no valid line is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import structlog

from intake.feed import Rejection, parse_csv, parse_jsonl
from intake.files import fsync_dir, ignored_reason, write_atomically
from intake.judge import last_sale_date
from intake.merkle import LINE_CANCEL
from intake.rejects import RejectsFile
from intake.validate import InMemorySeenLines, LicenceInfo, Validator

STAGING_DIR: Final = ".uploads"
PART: Final = "feed.part"
HASH_BLOCK: Final = 1 << 20
SHOWN_REJECTIONS: Final = 100
log = structlog.get_logger("api.uploads")
UPLOAD_ID: Final = re.compile(r"^[0-9a-f]{32}$")
# No dot before the suffix: a name can be neither hidden nor a rejects file (oracle.inbox).
FEED_NAME_PATTERN: Final = r"^[A-Za-z0-9_-]{1,100}\.(csv|jsonl|ndjson)$"
CONTENT_RANGE_PATTERN: Final = r"^bytes [0-9]{1,19}-[0-9]{1,19}/([0-9]{1,19}|\*)$"
_FEED_NAME: Final = re.compile(FEED_NAME_PATTERN)
_CONTENT_RANGE: Final = re.compile(r"^bytes ([0-9]{1,19})-([0-9]{1,19})/([0-9]{1,19}|\*)$")


class UploadError(Exception):
    """Root of the upload store's errors; the routes map each to its HTTP status."""


class UploadNotFound(UploadError):
    pass


class UploadExpired(UploadError):
    """An upload left idle longer than API_UPLOAD_EXPIRY_SECONDS: its bytes are gone (410)."""


class BadUpload(UploadError):
    """The request is malformed (400): a Content-Range that does not parse, a body of another length."""


class OffsetMismatch(UploadError):
    """A chunk that does not start where the upload stands (409)."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"the chunk starts at byte {got}, the upload has {expected} bytes: resend from {expected}")
        self.expected = expected


class UploadConflict(UploadError):
    """The upload is completed already, or another chunk of it is being written (409)."""


class TooLarge(UploadError):
    """The feed would be larger than the limit (413)."""


class HashMismatch(UploadError):
    """The received bytes' SHA-256 is not the one the client expects (422)."""

    def __init__(self, expected: str, received: str, size: int) -> None:
        super().__init__(
            f"the {size} bytes received have SHA-256 {received}, not {expected}: nothing was handed to the inbox"
        )
        self.expected, self.received, self.size = expected, received, size


class UnreadableFeed(UploadError):
    """No line of the feed can be read (a CSV header problem) (422); nothing goes to the inbox."""


@dataclass(frozen=True)
class ContentRange:
    start: int
    end: int  # inclusive, as HTTP writes it
    total: int | None

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @classmethod
    def parse(cls, header: str | None) -> ContentRange:
        match = _CONTENT_RANGE.match((header or "").strip())
        if match is None:
            raise BadUpload("send each chunk with Content-Range: bytes <first>-<last>/<total or *>")
        start, end = int(match[1]), int(match[2])
        total = None if match[3] == "*" else int(match[3])
        if end < start:
            raise BadUpload(f"Content-Range {header}: the last byte comes before the first")
        if total is not None and end >= total:
            raise BadUpload(f"Content-Range {header}: the last byte is beyond the total")
        return cls(start, end, total)


def feed_name(filename: str) -> str:
    """The client's file name if the inbox would read it as a feed; a BadUpload otherwise."""
    if not _FEED_NAME.match(filename):
        raise BadUpload(f"file name {filename!r}: letters, digits, '_' and '-', then .csv, .jsonl or .ndjson")
    reason = ignored_reason(filename)
    if reason is not None:
        raise BadUpload(f"file name {filename!r} is {reason}")
    return filename


class UploadStore:
    """Uploads staged under ``inbox/.uploads``; ``max_bytes`` bounds each feed."""

    def __init__(self, inbox: Path, max_bytes: int, expiry_seconds: float = 86_400.0) -> None:
        self.inbox = inbox
        self.staging = inbox / STAGING_DIR
        self.max_bytes = max_bytes
        self.expiry_seconds = expiry_seconds
        self._writing: set[str] = set()  # uploads with a chunk being written or being completed
        self._lock = threading.Lock()  # completions run in worker threads
        self.sweep()

    @contextlib.contextmanager
    def _busy(self, upload_id: str, doing: str) -> Iterator[None]:
        with self._lock:
            if upload_id in self._writing:
                busy = f"upload {upload_id} is busy (a chunk or its completion)"
                raise UploadConflict(f"{busy}: {doing} after its answer")
            self._writing.add(upload_id)
        try:
            yield
        finally:
            with self._lock:
                self._writing.discard(upload_id)

    # ---------------------------------------------------------------- records

    def _dir(self, upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id):
            raise UploadNotFound(f"no upload {upload_id!r}")
        folder = self.staging / upload_id
        tombstone = folder / "expired.json"
        if not tombstone.is_file() and (folder / "meta.json").is_file() and upload_id not in self._writing:
            self._expire_if_idle(folder, time.time())
        if tombstone.is_file():
            gone = json.loads(tombstone.read_text(encoding="utf-8"))
            raise UploadExpired(
                f"upload {upload_id} expired at {gone['expired_at']}: idle for more than {gone['expiry_seconds']} s "
                "(API_UPLOAD_EXPIRY_SECONDS); its bytes were removed: start a new upload"
            )
        if not (folder / "meta.json").is_file():
            raise UploadNotFound(f"no upload {upload_id}")
        return folder

    # ---------------------------------------------------------------- expiry

    def sweep(self, now: float | None = None) -> list[str]:
        """Expire every upload idle longer than the expiry and drop tombstones older than it
        again; the ids expired now."""
        now = time.time() if now is None else now
        expired: list[str] = []
        if not self.staging.is_dir():
            return expired
        for folder in self.staging.iterdir():
            if not UPLOAD_ID.match(folder.name) or folder.name in self._writing:
                continue
            tombstone = folder / "expired.json"
            if tombstone.is_file():
                if now - tombstone.stat().st_mtime > self.expiry_seconds:
                    shutil.rmtree(folder, ignore_errors=True)
            elif self._expire_if_idle(folder, now):
                expired.append(folder.name)
        return expired

    def _expire_if_idle(self, folder: Path, now: float) -> bool:
        """Replace an idle upload's files by its tombstone; whether it was idle."""
        times = [f.stat().st_mtime for f in folder.iterdir() if f.is_file()]
        if not times or now - max(times) <= self.expiry_seconds:
            return False
        with self._lock:
            if folder.name in self._writing:
                return False
            self._writing.add(folder.name)
        try:
            record = {
                "expired_at": _now(),
                "expiry_seconds": self.expiry_seconds,
                "idle_seconds": int(now - max(times)),
            }
            write_atomically(folder / "expired.json", json.dumps(record, indent=2))
            for item in folder.iterdir():
                if item.name != "expired.json":
                    shutil.rmtree(item) if item.is_dir() else item.unlink(missing_ok=True)
            log.info("upload_expired", upload=folder.name, **record)
        finally:
            with self._lock:
                self._writing.discard(folder.name)
        return True

    def create(self, filename: str, size: int | None) -> dict[str, Any]:
        name = feed_name(filename)
        self.sweep()
        if size is not None and size > self.max_bytes:
            raise TooLarge(self._limit_text(size))
        self.staging.mkdir(parents=True, exist_ok=True)
        upload_id = secrets.token_hex(16)
        folder = self.staging / upload_id
        folder.mkdir()
        (folder / PART).touch()
        meta = {"id": upload_id, "filename": name, "size": size, "created_at": _now()}
        write_atomically(folder / "meta.json", json.dumps(meta, indent=2))
        return self.status(upload_id)

    def status(self, upload_id: str) -> dict[str, Any]:
        folder = self._dir(upload_id)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        result = folder / "result.json"
        completed = result.is_file()
        status: dict[str, Any] = {
            **meta,
            "state": "completed" if completed else "receiving",
            "offset": self.offset(upload_id),
            "max_bytes": self.max_bytes,
        }
        if completed:
            status["result"] = json.loads(result.read_text(encoding="utf-8"))
        return status

    def offset(self, upload_id: str) -> int:
        folder = self._dir(upload_id)
        if (folder / "result.json").is_file():
            return int(json.loads((folder / "result.json").read_text(encoding="utf-8"))["bytes"])
        return (folder / PART).stat().st_size

    def rejects_file(self, upload_id: str) -> Path:
        path = self._dir(upload_id) / "feed.rejects.csv"
        if not path.is_file():
            raise UploadNotFound(f"upload {upload_id} has no rejects yet: complete it first")
        return path

    def delete(self, upload_id: str) -> None:
        folder = self._dir(upload_id)
        with self._busy(upload_id, "delete it"):
            shutil.rmtree(folder)

    def _limit_text(self, size: int) -> str:
        return f"the feed would be {size} bytes, more than the {self.max_bytes} bytes of API_MAX_UPLOAD_BYTES"

    # ---------------------------------------------------------------- chunks

    @contextlib.contextmanager
    def chunk(self, upload_id: str, content_range: ContentRange) -> Iterator[ChunkWriter]:
        """A writer for one chunk, appended at the upload's offset. What arrived stays even if
        the request breaks off (the client resumes from the offset); a body longer or shorter
        than its Content-Range is taken back."""
        folder = self._dir(upload_id)
        with self._busy(upload_id, "send the chunk"):  # before any check: a completion may be under way
            if (folder / "result.json").is_file():
                raise UploadConflict(f"upload {upload_id} is completed: start a new one")
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            announced = meta.get("size")
            if content_range.total is not None and announced is not None and content_range.total != announced:
                raise BadUpload(f"the upload was announced as {announced} bytes, the chunk says {content_range.total}")
            offset = (folder / PART).stat().st_size
            if content_range.start != offset:
                raise OffsetMismatch(offset, content_range.start)
            last = content_range.end + 1 if content_range.total is None else content_range.total
            if last > self.max_bytes:
                raise TooLarge(self._limit_text(last))
            with open(folder / PART, "ab") as out:
                yield ChunkWriter(out, content_range, self)

    # ---------------------------------------------------------------- completion

    def complete(
        self, upload_id: str, sha256: str, licences: Mapping[int, LicenceInfo], chain_time: int
    ) -> dict[str, Any]:
        """Check the hash and every line, then rename the feed into the inbox; the result."""
        with self._busy(upload_id, "complete it"):
            return self._complete(upload_id, sha256, licences, chain_time)

    def _complete(
        self, upload_id: str, sha256: str, licences: Mapping[int, LicenceInfo], chain_time: int
    ) -> dict[str, Any]:
        folder = self._dir(upload_id)
        done = folder / "result.json"
        if done.is_file():  # completed before (the answer was lost): the same answer again
            result: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
            if result["sha256"] != sha256.lower():
                raise HashMismatch(sha256.lower(), result["sha256"], int(result["bytes"]))
            if (folder / PART).is_file():  # the last completion stopped between its result and the rename
                os.rename(folder / PART, self.inbox / result["inbox_file"])
                fsync_dir(self.inbox)
            return result
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        part = folder / PART
        received, size = file_sha256(part)
        if received != sha256.lower():
            raise HashMismatch(sha256.lower(), received, size)
        if meta.get("size") is not None and meta["size"] != size:
            raise BadUpload(f"the upload was announced as {meta['size']} bytes and has {size}")
        fmt: Literal["csv", "jsonl"] = "csv" if meta["filename"].lower().endswith(".csv") else "jsonl"
        checked = check_lines(part, fmt, licences, chain_time)
        with open(part, "rb") as data:
            os.fsync(data.fileno())
        target = self.inbox / f"{upload_id}-{meta['filename']}"
        result = {
            "id": upload_id,
            "inbox_file": target.name,
            "bytes": size,
            "sha256": received,
            **checked,
            "completed_at": _now(),
        }
        write_atomically(
            done, json.dumps(result, indent=2)
        )  # first: a crash before the rename leaves a result with no feed moved
        os.rename(part, target)
        fsync_dir(self.inbox)
        return result


class ChunkWriter:
    def __init__(self, out: Any, content_range: ContentRange, store: UploadStore) -> None:
        self._out = out
        self._range = content_range
        self._store = store
        self.written = 0

    def write(self, data: bytes) -> None:
        if self.written + len(data) > self._range.length:
            self.take_back()
            raise BadUpload(f"the body is longer than the {self._range.length} bytes of its Content-Range")
        self._out.write(data)
        self.written += len(data)

    def finish(self) -> int:
        """The upload's offset after a whole chunk; a short body is taken back."""
        if self.written != self._range.length:
            got = self.written
            self.take_back()
            raise BadUpload(f"the body has {got} bytes, its Content-Range {self._range.length}")
        self._out.flush()
        return self._range.end + 1

    def keep(self) -> int:
        """A chunk broken off: what arrived stays; the offset to resume from."""
        self._out.flush()
        return self._range.start + self.written

    def take_back(self) -> None:
        self._out.flush()
        self._out.truncate(self._range.start)
        self.written = 0


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as data:
        while block := data.read(HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def check_lines(
    path: Path, fmt: Literal["csv", "jsonl"], licences: Mapping[int, LicenceInfo], chain_time: int
) -> dict[str, Any]:
    """The per-line checks of ``POST /feeds`` that need no seen store, streaming over the file:
    counts, the first rejections, and ``feed.rejects.csv`` beside ``path`` with all of them."""
    validator = Validator(licences, InMemorySeenLines())  # only prepare(): nothing is claimed
    prepare, count_rejection = validator.prepare, validator.count_rejection
    parse = parse_csv if fmt == "csv" else parse_jsonl
    rejects = RejectsFile(path.with_name("feed"))
    shown: list[dict[str, Any]] = []
    lines = valid = out_of_scope = 0
    try:
        with open(path, "rb") as data:
            for item in parse(data, today=last_sale_date(chain_time)):
                lines += 1
                verdict = item if type(item) is Rejection else prepare(item)  # type: ignore[arg-type]
                if type(verdict) is Rejection:
                    if verdict.field == "header":
                        raise UnreadableFeed(f"CSV header {verdict.reason}")
                    count_rejection(verdict)
                    rejects.add(verdict)
                    if len(shown) < SHOWN_REJECTIONS:
                        shown.append(
                            {"line_number": verdict.line_number, "field": verdict.field, "value": verdict.value,
                             "reason": verdict.reason}
                        )  # fmt: skip
                else:
                    valid += 1
                    if item.kind != LINE_CANCEL and not _in_scope(licences[item.licence_id], verdict):  # type: ignore[union-attr,arg-type]
                        out_of_scope += 1
    except BaseException:
        rejects.discard()
        raise
    rejects.close()
    return {
        "format": fmt,
        "lines": lines,
        "valid": valid,
        "rejected": validator.stats.rejected,
        "out_of_scope": out_of_scope,
        "rejected_by_field": dict(validator.stats.rejected_by_field),
        "rejections": shown,
    }


def _in_scope(info: LicenceInfo, prepared: tuple[Any, ...]) -> bool:
    territory, field, channel = prepared[6], prepared[7], prepared[8]
    scope = info.scope
    return bool(scope.territories >> territory & scope.fields >> field & scope.channels >> channel & 1)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
