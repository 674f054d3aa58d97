"""The rejects file the oracle writes beside each feed (intake.rejects)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from intake.feed import Rejection
from intake.rejects import RejectsFile, rejects_path


def write_rejects(input_path: Path, rejections: Iterable[Rejection]) -> Path:
    """All of ``rejections``, sorted by line, in ``<input>.rejects.csv``, as the oracle's
    ingest writes them one by one."""
    out = RejectsFile(input_path)
    try:
        for r in sorted(rejections, key=lambda r: r.line_number):
            out.add(r)
    except BaseException:
        out.discard()
        raise
    return out.close()


def test_write_rejects_puts_a_csv_beside_the_input(tmp_path: Path) -> None:
    feed = tmp_path / "acme.csv"
    out = write_rejects(
        feed,
        [
            Rejection(7, "gross", "0.0000001", "has 7 decimals; at most 6 allowed"),
            Rejection(3, "territory", "us", "is not an ISO 3166-1 alpha-2 code"),
        ],
    )

    assert out == rejects_path(feed) == tmp_path / "acme.csv.rejects.csv"
    assert out.read_text(encoding="utf-8") == (
        "line_number,field,value,reason\n"
        "3,territory,us,is not an ISO 3166-1 alpha-2 code\n"
        "7,gross,0.0000001,has 7 decimals; at most 6 allowed\n"
    )


def test_write_rejects_writes_a_header_only_file_when_nothing_was_rejected(tmp_path: Path) -> None:
    out = write_rejects(tmp_path / "clean.jsonl", [])

    assert out.read_text(encoding="utf-8") == "line_number,field,value,reason\n"


def test_rejects_out_of_line_order_are_refused_and_discard_leaves_no_file(tmp_path: Path) -> None:
    out = RejectsFile(tmp_path / "feed.csv")
    out.add(Rejection(5, "units", "-1", "is negative"))
    with pytest.raises(ValueError, match="rejections out of line order: 4 after 5"):
        out.add(Rejection(4, "units", "-1", "is negative"))
    out.discard()

    assert sorted(p.name for p in tmp_path.iterdir()) == []
