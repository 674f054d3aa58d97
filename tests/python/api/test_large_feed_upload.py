"""A feed above the single-request limit goes to the oracle's inbox in resumable chunks: a
10^6-line feed sent over HTTP, broken off mid-chunk, resumed from the offset the API reports,
completed with its SHA-256, arrives in the inbox byte for byte, with exact line and reject counts.
Bad chunks, a wrong hash and an oversized feed change nothing."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from apikit import OPERATOR_TOKEN, chain_time, register, served, synced, terms_json
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.services import Services, build_services
from api.settings import ApiSettings
from oracle.inbox import FeedInbox
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY

AUTH = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
LINES = 1_000_000
CHUNK = 8 << 20


@pytest.fixture(scope="module")
def licence_and_start(client: TestClient, chain: Chain) -> tuple[int, int]:
    start = chain_time(chain) - 40 * DAY
    return register(client, terms_json(chain, start)), start


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inbox")
    return folder


@pytest.fixture(scope="module")
def upload_services(
    chain: Chain, inbox: Path, tmp_path_factory: pytest.TempPathFactory, licence_and_start: tuple[int, int]
) -> Iterator[Services]:
    tmp = tmp_path_factory.mktemp("api-uploads")
    manifest = tmp / "deployment.json"
    chain.manifest.save(manifest)
    settings = ApiSettings(
        rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        manifest=manifest,
        database_url=str(tmp / "index.sqlite"),
        operator_token=SecretStr(OPERATOR_TOKEN),
        data_dir=tmp,
        oracle_inbox=inbox,
        max_feed_bytes=10_000,
        run_indexer=False,
    )
    built = build_services(settings)
    synced(built)
    yield built
    built.close()


@pytest.fixture(scope="module")
def server(upload_services: Services) -> Iterator[str]:
    with served(upload_services) as url:
        yield url


def _feed(licence_id: int, start: int, lines: int) -> bytes:
    """Per 1,000 lines: line 250 out of scope (FR, valid), 500 of an unknown licence and 999 with
    an unreadable gross (both rejected); the rest plain sales."""
    days = [datetime.fromtimestamp(start + d * DAY, UTC).date().isoformat() for d in range(1, 31)]
    out = [HEADER]
    for i in range(lines):
        k = i % 1000
        licence = 999_999 if k == 500 else licence_id
        territory = "FR" if k == 250 else ("US", "GB")[i & 1]
        gross = "abc" if k == 999 else f"{i % 997 + 1}.{i % 100:02d}"
        out.append(f"L{i:07d},{licence},{days[i % 30]},{territory},apparel,retail,{i % 9 + 1},{gross},0,USD\n")
    return "".join(out).encode()


def _put(http: httpx.Client, upload_id: str, data: bytes, start: int, total: int | None) -> httpx.Response:
    end = start + len(data) - 1
    headers = {**AUTH, "content-range": f"bytes {start}-{end}/{total if total is not None else '*'}"}
    return http.put(f"/feeds/uploads/{upload_id}", content=data, headers=headers)


def _break_off(url: str, upload_id: str, data: bytes, start: int, total: int, sent: int) -> None:
    """Announce a chunk of ``len(data)`` bytes, send ``sent`` of them and drop the connection."""
    host, port = url.removeprefix("http://").split(":")
    head = (
        f"PUT /feeds/uploads/{upload_id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {OPERATOR_TOKEN}\r\n"
        f"Content-Range: bytes {start}-{start + len(data) - 1}/{total}\r\nContent-Length: {len(data)}\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head + data[:sent])
        time.sleep(0.2)


def _settled_offset(http: httpx.Client, upload_id: str) -> int:
    """The offset once the broken-off chunk is no longer being written (it keeps what arrived)."""
    deadline = time.monotonic() + 15
    last = -1
    while time.monotonic() < deadline:
        offset = int(http.get(f"/feeds/uploads/{upload_id}", headers=AUTH).json()["offset"])
        probe = _put(http, upload_id, b"x", offset + 1, None)  # always the wrong offset: 409 says why
        if offset == last and "is busy" not in probe.text:
            return offset
        last = offset
        time.sleep(0.2)
    raise AssertionError("the broken-off chunk was still being written after 15 s")


def test_a_million_line_feed_resumes_after_a_broken_chunk(
    server: str, inbox: Path, chain: Chain, licence_and_start: tuple[int, int], tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.sqlite"
    licence_id, start = licence_and_start
    feed = _feed(licence_id, start, LINES)
    total, digest = len(feed), hashlib.sha256(feed).hexdigest()
    assert total > 50_000_000  # above the default single-request limit (API_MAX_FEED_BYTES)
    with httpx.Client(base_url=server, timeout=120) as http:
        created = http.post("/feeds/uploads", json={"filename": "big.csv", "size": total}, headers=AUTH)
        assert created.status_code == 201, created.text
        upload_id = created.json()["id"]
        assert created.headers["location"] == f"/feeds/uploads/{upload_id}"
        for n in range(3):
            answer = _put(http, upload_id, feed[n * CHUNK : (n + 1) * CHUNK], n * CHUNK, total)
            assert answer.status_code == 200, answer.text
            assert answer.json()["offset"] == (n + 1) * CHUNK == int(answer.headers["upload-offset"])

    # The fourth chunk breaks off after 3 MiB: what arrived stays (up to what the server read).
    _break_off(server, upload_id, feed[3 * CHUNK : 4 * CHUNK], 3 * CHUNK, total, sent=3 << 20)

    with httpx.Client(base_url=server, timeout=120) as http:  # a new client resumes
        offset = _settled_offset(http, upload_id)
        assert 3 * CHUNK <= offset <= 3 * CHUNK + (3 << 20)
        stale = _put(http, upload_id, feed[:CHUNK], 0, total)  # a chunk sent again from the start
        assert stale.status_code == 409 and stale.json()["expected_offset"] == offset
        early = http.post(f"/feeds/uploads/{upload_id}/complete", json={"sha256": digest}, headers=AUTH)
        assert early.status_code == 422 and early.json()["errors"][0]["field"] == "sha256"
        assert not any(p.is_file() for p in inbox.iterdir())
        while offset < total:
            answer = _put(http, upload_id, feed[offset : offset + CHUNK], offset, total)
            assert answer.status_code == 200, answer.text
            offset = answer.json()["offset"]
        assert offset == total
        done = http.post(f"/feeds/uploads/{upload_id}/complete", json={"sha256": digest}, headers=AUTH)
        assert done.status_code == 200, done.text
        result = done.json()
        again = http.post(f"/feeds/uploads/{upload_id}/complete", json={"sha256": digest}, headers=AUTH)
        assert again.json() == result  # a lost answer is asked again safely
        rejects = http.get(f"/feeds/uploads/{upload_id}/rejects", headers=AUTH)
        status = http.get(f"/feeds/uploads/{upload_id}", headers=AUTH).json()

    assert (result["lines"], result["valid"], result["rejected"], result["out_of_scope"]) == (
        LINES, LINES - 2_000, 2_000, 1_000,
    )  # fmt: skip
    assert result["rejected_by_field"] == {"licence_id": 1_000, "gross": 1_000}
    assert [(r["line_number"], r["field"]) for r in result["rejections"][:3]] == [
        (502, "licence_id"), (1001, "gross"), (1502, "licence_id"),
    ]  # fmt: skip
    assert len(result["rejections"]) == 100
    assert rejects.status_code == 200 and rejects.text.count("\n") == 1 + 2_000
    assert status["state"] == "completed" and status["offset"] == total
    handed = inbox / result["inbox_file"]
    assert result["inbox_file"] == f"{upload_id}-big.csv"
    assert [p.name for p in inbox.iterdir() if p.is_file()] == [handed.name]
    assert result["sha256"] == digest == hashlib.sha256(handed.read_bytes()).hexdigest()
    assert handed.stat().st_size == result["bytes"] == total

    # The oracle's watcher takes it from there (its staging folder is never read as a feed) and
    # counts what the API counted: every line valid or rejected, none lost.
    service = OracleService(
        chain, Outbox(outbox), [role("oracle1"), role("oracle2"), role("oracle3")], role("oracle_sender"),
        nil_reports=False,
    )  # fmt: skip
    try:
        outcomes = service.ingest_inbox(FeedInbox(inbox))
    finally:
        service.outbox.close()
    assert [(o.feed, o.state) for o in outcomes] == [(handed.name, "processed")]
    ingested = outcomes[0].result
    assert ingested is not None
    assert (ingested.lines_read, ingested.valid, ingested.rejected, ingested.duplicates, ingested.out_of_scope) == (
        result["lines"], result["valid"], result["rejected"], 0, result["out_of_scope"],
    )  # fmt: skip
    assert ingested.rejects_file is not None
    assert Path(ingested.rejects_file).read_text() == rejects.text


def _small(licence_and_start: tuple[int, int]) -> bytes:
    licence_id, start = licence_and_start
    return _feed(licence_id, start, 10)


def _inbox_files(inbox: Path) -> set[str]:
    return {p.name for p in inbox.iterdir() if p.is_file()}


def test_a_chunk_at_the_wrong_offset_is_refused_with_the_expected_one(
    server: str, licence_and_start: tuple[int, int]
) -> None:
    feed = _small(licence_and_start)
    with httpx.Client(base_url=server, timeout=30) as http:
        upload_id = http.post("/feeds/uploads", json={"filename": "small.csv"}, headers=AUTH).json()["id"]
        assert _put(http, upload_id, feed[:100], 0, None).status_code == 200
        for start in (0, 50, 101):
            answer = _put(http, upload_id, feed[start : start + 20], start, None)
            assert answer.status_code == 409, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["expected_offset"] == 100 and "resend from 100" in answer.json()["detail"]
        short = http.put(
            f"/feeds/uploads/{upload_id}", content=feed[100:110], headers={**AUTH, "content-range": "bytes 100-119/*"}
        )
        assert short.status_code == 400 and "10 bytes" in short.json()["detail"]
        bad = http.put(f"/feeds/uploads/{upload_id}", content=b"x", headers={**AUTH, "content-range": "100-"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "header.content-range"
        reversed_range = http.put(
            f"/feeds/uploads/{upload_id}", content=b"x", headers={**AUTH, "content-range": "bytes 101-100/*"}
        )
        assert reversed_range.status_code == 400 and "before the first" in reversed_range.json()["detail"]
        assert http.get(f"/feeds/uploads/{upload_id}", headers=AUTH).json()["offset"] == 100
        sized = http.post("/feeds/uploads", json={"filename": "s.csv", "size": len(feed)}, headers=AUTH).json()["id"]
        other_total = _put(http, sized, feed[:10], 0, len(feed) + 1)
        assert other_total.status_code == 400 and f"announced as {len(feed)} bytes" in other_total.json()["detail"]


def test_a_hash_mismatch_hands_nothing_to_the_inbox(
    server: str, inbox: Path, licence_and_start: tuple[int, int]
) -> None:
    feed = _small(licence_and_start)
    before = _inbox_files(inbox)
    with httpx.Client(base_url=server, timeout=30) as http:
        upload_id = http.post("/feeds/uploads", json={"filename": "small.csv"}, headers=AUTH).json()["id"]
        assert _put(http, upload_id, feed, 0, len(feed)).status_code == 200
        wrong = hashlib.sha256(feed + b"\n").hexdigest()
        answer = http.post(f"/feeds/uploads/{upload_id}/complete", json={"sha256": wrong}, headers=AUTH)
        assert answer.status_code == 422, answer.text
        body: dict[str, Any] = answer.json()
        assert body["received_sha256"] == hashlib.sha256(feed).hexdigest()
        assert wrong in body["detail"] and "nothing was handed to the inbox" in body["detail"]
        assert http.get(f"/feeds/uploads/{upload_id}", headers=AUTH).json()["state"] == "receiving"
        assert http.get(f"/feeds/uploads/{upload_id}/rejects", headers=AUTH).status_code == 404
    assert _inbox_files(inbox) == before


def test_a_feed_over_the_limit_is_refused_naming_it(
    server: str, inbox: Path, upload_services: Services, licence_and_start: tuple[int, int]
) -> None:
    feed = _small(licence_and_start)
    settings = upload_services.settings
    limit, settings.max_upload_bytes = settings.max_upload_bytes, 500
    try:
        with httpx.Client(base_url=server, timeout=30) as http:
            answer = http.post("/feeds/uploads", json={"filename": "big.csv", "size": 501}, headers=AUTH)
            assert answer.status_code == 413 and "500 bytes of API_MAX_UPLOAD_BYTES" in answer.json()["detail"]
            upload_id = http.post("/feeds/uploads", json={"filename": "big.csv"}, headers=AUTH).json()["id"]
            assert _put(http, upload_id, feed[:400], 0, None).status_code == 200
            over = _put(http, upload_id, feed[400:600], 400, None)
            assert over.status_code == 413 and "API_MAX_UPLOAD_BYTES" in over.json()["detail"]
            assert _put(http, upload_id, feed[400:450], 400, len(feed)).status_code == 413  # the total says so
            assert http.get(f"/feeds/uploads/{upload_id}", headers=AUTH).json()["offset"] == 400
            # The single-request upload keeps its limit and points to the streamed path.
            single = http.post("/feeds", content=feed * 40, headers={**AUTH, "content-type": "text/csv"})
            assert single.status_code == 413 and single.json()["upload_path"] == "/feeds/uploads"
            assert "API_MAX_FEED_BYTES" in single.json()["detail"]
    finally:
        settings.max_upload_bytes = limit
    assert not any(p.name.startswith(upload_id) for p in inbox.iterdir())


def _age(folder: Path, seconds: float) -> None:
    """Make every file of an upload's staging folder last touched ``seconds`` ago."""
    then = time.time() - seconds
    for item in folder.iterdir():
        os.utime(item, (then, then))


def test_an_abandoned_upload_expires_its_bytes_and_later_requests_are_told_so(
    server: str, inbox: Path, upload_services: Services, licence_and_start: tuple[int, int]
) -> None:
    """API_UPLOAD_EXPIRY_SECONDS (an hour here): an upload idle longer is swept when another
    upload is created (or found on its next access): its bytes are removed, a status request or
    a late chunk gets 410 naming the expiry, and the tombstone goes after a second span. An upload
    in use is left alone, and nothing expired reaches the inbox."""
    feed = _small(licence_and_start)
    staging = inbox / ".uploads"
    settings = upload_services.settings
    expiry, settings.upload_expiry_seconds = settings.upload_expiry_seconds, 3_600.0
    before = _inbox_files(inbox)
    try:
        with httpx.Client(base_url=server, timeout=30) as http:
            abandoned = http.post("/feeds/uploads", json={"filename": "left.csv"}, headers=AUTH).json()["id"]
            assert _put(http, abandoned, feed[:100], 0, None).status_code == 200
            touched = http.post("/feeds/uploads", json={"filename": "touched.csv"}, headers=AUTH).json()["id"]
            assert _put(http, touched, feed[:100], 0, None).status_code == 200
            _age(staging / abandoned, 3_601)
            _age(staging / touched, 3_599)

            fresh = http.post("/feeds/uploads", json={"filename": "fresh.csv"}, headers=AUTH)  # sweeps
            assert fresh.status_code == 201, fresh.text
            assert sorted(p.name for p in (staging / abandoned).iterdir()) == ["expired.json"]
            status = http.get(f"/feeds/uploads/{abandoned}", headers=AUTH)
            assert status.status_code == 410, status.text
            assert status.headers["content-type"] == "application/problem+json"
            detail = status.json()["detail"]
            assert f"upload {abandoned} expired at " in detail
            assert (
                "idle for more than 3600.0 s (API_UPLOAD_EXPIRY_SECONDS)" in detail and "start a new upload" in detail
            )
            late = _put(http, abandoned, feed[100:200], 100, None)
            assert late.status_code == 410 and late.json()["detail"] == detail
            assert http.get(f"/feeds/uploads/{touched}", headers=AUTH).json()["offset"] == 100  # 1 s short: kept

            # Found on access with no sweep between: the touched one, now past the expiry.
            _age(staging / touched, 3_601)
            assert _put(http, touched, feed[100:200], 100, None).status_code == 410
            assert not (staging / touched / "feed.part").exists()

            # A tombstone older than a second span is removed: then the id is simply unknown.
            _age(staging / abandoned, 3_601)
            assert http.post("/feeds/uploads", json={"filename": "again.csv"}, headers=AUTH).status_code == 201
            assert not (staging / abandoned).exists()
            assert http.get(f"/feeds/uploads/{abandoned}", headers=AUTH).status_code == 404
    finally:
        settings.upload_expiry_seconds = expiry
    assert _inbox_files(inbox) == before


def test_names_and_headers_the_inbox_cannot_read_are_refused(server: str, inbox: Path) -> None:
    before = _inbox_files(inbox)
    with httpx.Client(base_url=server, timeout=30) as http:
        for name in ("feed.txt", "../x.csv", "x.rejects.csv", ".hidden.csv", "a b.csv"):
            answer = http.post("/feeds/uploads", json={"filename": name}, headers=AUTH)
            assert answer.status_code == 422, (name, answer.text)
            assert answer.json()["errors"][0]["field"] == "body.filename"
        upload_id = http.post("/feeds/uploads", json={"filename": "h.csv"}, headers=AUTH).json()["id"]
        body = b"line_id,licence\nA,1\n"
        assert _put(http, upload_id, body, 0, len(body)).status_code == 200
        digest = hashlib.sha256(body).hexdigest()
        answer = http.post(f"/feeds/uploads/{upload_id}/complete", json={"sha256": digest}, headers=AUTH)
        assert answer.status_code == 422 and "CSV header" in answer.json()["detail"]
        assert http.get("/feeds/uploads/" + "0" * 32, headers=AUTH).status_code == 404
        assert http.get(f"/feeds/uploads/{upload_id}").status_code == 401
        assert http.delete(f"/feeds/uploads/{upload_id}", headers=AUTH).status_code == 204
        assert http.get(f"/feeds/uploads/{upload_id}", headers=AUTH).status_code == 404
    assert _inbox_files(inbox) == before


def test_without_an_inbox_the_streamed_path_says_which_setting(client: TestClient) -> None:
    answer = client.post("/feeds/uploads", json={"filename": "big.csv"}, headers=AUTH)
    assert answer.status_code == 503 and "API_ORACLE_INBOX" in answer.json()["detail"]
