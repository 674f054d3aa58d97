"""Feed files on disk, as the oracle's inbox and the API's uploads both handle them: which names
the inbox reads as feeds, and durable writes (fsync of the file, an atomic rename, fsync of the
folder) so that a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

FEED_SUFFIXES: Final = (".csv", ".jsonl", ".ndjson")


def ignored_reason(name: str) -> str | None:
    """Why a file at the top of the inbox is not read as a feed; None for a feed."""
    lower = name.lower()
    if name.startswith("."):
        return "hidden: rename it into the inbox once it is complete"
    if not lower.endswith(FEED_SUFFIXES):
        return "not a feed: feed names end in .csv, .jsonl or .ndjson"
    if ".rejects." in lower:
        return "named like a rejects file: the oracle's own output is never read as a feed"
    return None


def write_atomically(path: Path, text: str) -> None:
    """Replaces ``path`` with ``text`` durably: written beside it, fsynced, renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Makes a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
