"""The rejects file of a feed: ``<input>.rejects.csv`` beside it, one row per rejected line.

File output is the oracle's: the intake package only decides which lines are rejected and why.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Final

from intake.feed import Rejection

REJECTS_COLUMNS: Final = ("line_number", "field", "value", "reason")


def rejects_path(input_path: str | os.PathLike[str]) -> Path:
    """Where the rejects of ``input_path`` go: ``<input>.rejects.csv`` beside it."""
    path = Path(input_path)
    return path.with_name(path.name + ".rejects.csv")


class RejectsFile:
    """``<input>.rejects.csv`` written as rejections arrive, so a file of many bad lines costs
    no memory; it replaces the previous rejects file only when closed, so a reader never sees
    half of one (a crash leaves the old file and a ``.tmp``).

    Rejections must come in line order (the parser and the validator produce them that way).
    """

    def __init__(self, input_path: str | os.PathLike[str]) -> None:
        self.path = rejects_path(input_path)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._file = open(self._tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(REJECTS_COLUMNS)
        self._last = 0
        self.count = 0

    def add(self, r: Rejection) -> None:
        if r.line_number < self._last:
            raise ValueError(f"rejections out of line order: {r.line_number} after {self._last}")
        self._last = r.line_number
        self._writer.writerow((r.line_number, r.field, r.value, r.reason))
        self.count += 1

    def close(self) -> Path:
        self._file.close()
        os.replace(self._tmp, self.path)
        return self.path

    def discard(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)
