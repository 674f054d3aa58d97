"""The watch service's inbox: feeds dropped into a folder, each ingested exactly once.

Everything lives inside the inbox, so that every move is a rename on one file system::

    INBOX/<feed>                  dropped by an operator
    INBOX/claimed/<bundle>/       being read: <feed>, <feed>.attempts.json, <feed>.rejects.csv
    INBOX/processed/<bundle>/     done: <feed>, <feed>.rejects.csv, <feed>.receipt.json
    INBOX/quarantine/<bundle>/    given up: <feed>, <feed>.attempts.json, <feed>.reason.txt

The watcher reads only regular files at the top level whose names end in ``.csv``, ``.jsonl``
or ``.ndjson``, never a hidden one (write a feed elsewhere or as ``.name`` and rename it in) and
never one named like a rejects file. What it writes goes into a bundle directory, which it does
not read as a feed: its own output can never come back to it as input.

A feed's life is a few atomic steps, and a crash between any two is resumed:

1. claim: ``INBOX/<feed>`` is renamed into a new bundle ``claimed/<bundle>/`` (a bundle left
   empty by a crash between making it and the rename is removed);
2. attempt: ``<feed>.attempts.json`` records that attempt n started, written and fsynced before
   the feed is read, so an attempt that kills the process counts too;
3. ingest: its lines and rejections are committed to the outbox and its rejects file written
   beside it, in the bundle;
4. receipt: ``<feed>.receipt.json`` (the counts) is written in the bundle;
5. done: ``claimed/<bundle>`` is renamed to ``processed/<bundle>``, feed and companions at once.

Any bundle still in ``claimed/`` when a round starts is resumed from step 2 before new feeds are
claimed. Reading a feed again stores nothing twice: the outbox keeps a line once per (licensee,
line id, revision) and finds an id it has (``OutboxSeenLines``, then ``INSERT OR IGNORE``), and
the feed's ``files`` row is taken over with its rejections cleared (``Outbox.start_file`` with
``resume``). A feed whose attempts fail (an exception, or the process ending during it)
``max_attempts`` times is moved to ``quarantine/`` with ``<feed>.reason.txt`` saying why, and the
other feeds go on. An attempt interrupted by Ctrl-C or SIGTERM does not count.

The fault hook is called at ``after_claim``, ``after_rejects`` and ``before_move`` (and, by the
ingest, ``mid_file`` and ``after_ingest``): the crash tests kill the process there.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import structlog

from intake.files import fsync_dir, ignored_reason, write_atomically
from oracle.hooks import FaultHook, no_fault
from oracle.ingest import IngestResult

log = structlog.get_logger("oracle")

# Names of files still being written (by convention), ignored without a log line, like hidden ones.
PARTIAL_SUFFIXES: Final = (".part", ".partial", ".tmp")
DEFAULT_MAX_ATTEMPTS: Final = 3
STOPPED_DURING_ATTEMPT: Final = "the watcher stopped during this attempt (killed or crashed)"
MAX_ERROR_CHARS: Final = 2_000

# Reads the feed at a path inside its bundle, its rejects file beside it; reading it again
# must store nothing twice (oracle.ingest with resume=True).
IngestFeed = Callable[[Path], IngestResult]
FeedState = Literal["processed", "retrying", "quarantined"]


@dataclass
class FeedOutcome:
    """What one attempt at a feed came to. ``result`` is set when it was processed; its paths
    name the feed and the rejects file where they are now, in ``processed/``."""

    feed: str
    state: FeedState
    bundle: Path
    attempt: int
    result: IngestResult | None = None
    error: str | None = None


class FeedInbox:
    def __init__(self, root: Path, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, fault: FaultHook = no_fault) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.root = root
        self.claimed_dir = root / "claimed"
        self.processed_dir = root / "processed"
        self.quarantine_dir = root / "quarantine"
        for folder in (self.claimed_dir, self.processed_dir, self.quarantine_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.max_attempts = max_attempts
        self._fault = fault
        self._ignored: set[str] = set()  # names already logged as ignored, so each is logged once
        self.in_hand: Path | None = None
        """The feed of the attempt under way (its path in ``claimed/``), for fault hooks and logs."""

    # ---------------------------------------------------------------- what there is to do

    def waiting(self) -> list[Path]:
        """Feeds dropped at the top of the inbox, by name; other files are logged once and left."""
        feeds = []
        for path in sorted(self.root.iterdir()):
            if not path.is_file():
                continue
            reason = ignored_reason(path.name)
            if reason is None:
                feeds.append(path)
            elif path.name not in self._ignored and not _being_written(path.name):
                self._ignored.add(path.name)
                log.warning("inbox_file_ignored", file=str(path), reason=reason)
        return feeds

    def claimed(self) -> list[Path]:
        """Bundles claimed and not finished: a round resumes these first."""
        return sorted(p for p in self.claimed_dir.iterdir() if p.is_dir())

    def has_work(self) -> bool:
        return bool(self.claimed() or self.waiting())

    # ---------------------------------------------------------------- a round

    def run_round(self, ingest: IngestFeed) -> list[FeedOutcome]:
        """Resume every claimed bundle, then claim and read each waiting feed, one at a time."""
        outcomes = [self._attempt(bundle, ingest) for bundle in self.claimed()]
        for path in self.waiting():
            bundle = self._claim(path)
            if bundle is not None:
                outcomes.append(self._attempt(bundle, ingest))
        return [o for o in outcomes if o is not None]

    def _claim(self, path: Path) -> Path | None:
        bundle = _free_name(self.claimed_dir, path.name, (self.processed_dir, self.quarantine_dir))
        bundle.mkdir()
        try:
            os.rename(path, bundle / path.name)
        except FileNotFoundError:  # taken away meanwhile
            bundle.rmdir()
            return None
        fsync_dir(self.root)
        fsync_dir(bundle)
        log.info("feed_claimed", feed=path.name, bundle=str(bundle))
        return bundle

    def _attempt(self, bundle: Path, ingest: IngestFeed) -> FeedOutcome | None:
        feed = _feed_in(bundle)
        if feed is None:
            self._without_feed(bundle)
            return None
        history = self._history(bundle, feed)
        if history and "outcome" not in history[-1]:
            history[-1]["outcome"] = STOPPED_DURING_ATTEMPT
        if len(history) >= self.max_attempts:
            return self._quarantine(bundle, feed, history)
        attempt = len(history) + 1
        history.append({"attempt": attempt, "started_at": _now()})
        self._save_history(bundle, feed, history)
        log.info("feed_attempt_started", feed=feed, bundle=str(bundle), attempt=attempt, resumed=attempt > 1)
        self.in_hand = bundle / feed
        try:
            self._fault("after_claim")
            result = ingest(bundle / feed)
            self._fault("after_rejects")
            self._write_receipt(bundle, feed, attempt, result)
            self._fault("before_move")
        except Exception as err:
            error = f"{type(err).__name__}: {err}"[:MAX_ERROR_CHARS]
            history[-1]["outcome"] = error
            self._save_history(bundle, feed, history)
            log.warning("feed_failed", feed=feed, bundle=str(bundle), attempt=attempt, error=error)
            if attempt >= self.max_attempts:
                return self._quarantine(bundle, feed, history)
            return FeedOutcome(feed, "retrying", bundle, attempt, error=error)
        except BaseException:
            # Ctrl-C or SIGTERM: not the feed's fault; the next start resumes it.
            history.pop()
            self._save_history(bundle, feed, history)
            log.info("feed_interrupted", feed=feed, bundle=str(bundle), attempt=attempt)
            raise
        finally:
            self.in_hand = None
        done = _move(bundle, self.processed_dir)
        result.path = str(done / feed)
        if result.rejects_file:
            result.rejects_file = str(done / Path(result.rejects_file).name)
        log.info(
            "feed_processed",
            feed=feed,
            bundle=str(done),
            attempt=attempt,
            lines=result.lines_read,
            valid=result.valid,
            rejected=result.rejected,
            duplicates=result.duplicates,
        )
        return FeedOutcome(feed, "processed", done, attempt, result=result)

    def _quarantine(self, bundle: Path, feed: str, history: list[dict[str, Any]]) -> FeedOutcome:
        last = str(history[-1].get("outcome", STOPPED_DURING_ATTEMPT)) if history else ""
        lines = [
            f"{feed} was quarantined at {_now()} after {len(history)} attempt(s) that did not finish:",
            *(f"  attempt {h['attempt']} (started {h['started_at']}): {h.get('outcome', '')}" for h in history),
            "",
            "Lines it had stored stay in the outbox; reading it again stores none of them twice.",
            f"To try again once the cause is fixed, move {feed} back to the top of the inbox.",
        ]
        write_atomically(bundle / f"{feed}.reason.txt", "\n".join(lines) + "\n")
        self._save_history(bundle, feed, history)
        target = _move(bundle, self.quarantine_dir)
        log.error("feed_quarantined", feed=feed, bundle=str(target), attempts=len(history), reason=last)
        return FeedOutcome(feed, "quarantined", target, len(history), error=last)

    def _without_feed(self, bundle: Path) -> None:
        """A bundle without a feed: made by a claim that crashed before its rename (empty, so
        removed), or emptied by hand (put aside in quarantine, to be looked at)."""
        try:
            bundle.rmdir()
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            target = _move(bundle, self.quarantine_dir)
            log.error("feed_quarantined", feed=None, bundle=str(target), attempts=0, reason="no feed in the bundle")

    # ---------------------------------------------------------------- records in the bundle

    def _history(self, bundle: Path, feed: str) -> list[dict[str, Any]]:
        path = bundle / f"{feed}.attempts.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError:
            # Never written half (written atomically), so this is someone's edit: count it as
            # one failed attempt rather than read the feed forever.
            return [{"attempt": 1, "started_at": "?", "outcome": f"unreadable {path.name}"}]
        attempts: list[dict[str, Any]] = record.get("attempts", [])
        return attempts

    def _save_history(self, bundle: Path, feed: str, history: list[dict[str, Any]]) -> None:
        record = {"feed": feed, "max_attempts": self.max_attempts, "attempts": history}
        write_atomically(bundle / f"{feed}.attempts.json", json.dumps(record, indent=2) + "\n")

    def _write_receipt(self, bundle: Path, feed: str, attempt: int, result: IngestResult) -> None:
        receipt = {
            "feed": feed,
            "processed_at": _now(),
            "attempt": attempt,
            "lines_read": result.lines_read,
            "valid": result.valid,
            "rejected": result.rejected,
            "duplicates": result.duplicates,
            "out_of_scope": result.out_of_scope,
            "rejects_file": Path(result.rejects_file).name if result.rejects_file else None,
        }
        write_atomically(bundle / f"{feed}.receipt.json", json.dumps(receipt, indent=2) + "\n")


# -------------------------------------------------------------------- file system steps


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _being_written(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES)


def _feed_in(bundle: Path) -> str | None:
    """The feed's name in its bundle: the one file there that the inbox would read as a feed."""
    names = sorted(p.name for p in bundle.iterdir() if p.is_file() and ignored_reason(p.name) is None)
    return names[0] if names else None


def _free_name(folder: Path, name: str, also_in: tuple[Path, ...] = ()) -> Path:
    """``folder/name``, or ``folder/name~2``, ``~3``... : the first that no folder has yet."""
    candidate, n = name, 2
    while any((f / candidate).exists() for f in (folder, *also_in)):
        candidate, n = f"{name}~{n}", n + 1
    return folder / candidate


def _move(bundle: Path, folder: Path) -> Path:
    """Renames the bundle into ``folder`` (under a free name if an operator made one there)."""
    target, n = folder / bundle.name, 2
    while True:
        try:
            os.rename(bundle, target)
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                raise
            target, n = folder / f"{bundle.name}~{n}", n + 1
            continue
        fsync_dir(bundle.parent)
        fsync_dir(folder)
        return target
