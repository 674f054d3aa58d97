"""The one transport against a fake node: retries, errors, batches and the batch fallback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import Web3

from royalty_chain.client import Chain
from royalty_chain.dev.devnet import free_port
from royalty_chain.manifest import DeployedContract, Manifest
from royalty_chain.transport import RpcError, Transport, wait_for_rpc

Answer = Callable[[Any, int], tuple[int, Any] | None]
"""(request body, request number) -> (HTTP status, JSON answer), or None to drop the connection."""


class FakeNode:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[Any] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                node.requests.append(body)
                reply = node.answer(body, len(node.requests))
                if reply is None:
                    self.close_connection = True
                    self.connection.close()  # no answer at all: the client sees a dropped connection
                    return
                status, payload = reply
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node() -> Iterator[Callable[[Answer], FakeNode]]:
    started: list[FakeNode] = []

    def start(answer: Answer) -> FakeNode:
        started.append(FakeNode(answer))
        return started[-1]

    yield start
    for fake in started:
        fake.close()


def _result(request: dict[str, Any]) -> dict[str, Any]:
    """An answer whose result names the request, so order mistakes show."""
    return {"jsonrpc": "2.0", "id": request["id"], "result": f"{request['method']}:{request['params'][0]}"}


def test_a_node_that_refuses_batches_gets_the_requests_one_by_one(node: Callable[[Answer], FakeNode]) -> None:
    refusal = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch requests are not supported"}}
    fake = node(lambda body, _: (200, refusal) if isinstance(body, list) else (200, _result(body)))
    transport = Transport(fake.url)
    assert transport.batch([("eth_a", [1]), ("eth_b", [2])]) == ["eth_a:1", "eth_b:2"]
    assert [type(r) for r in fake.requests] == [list, dict, dict]


def test_chain_rpc_batch_falls_back_too(node: Callable[[Answer], FakeNode]) -> None:
    """The oracle's raw batches go through the same fallback (they raised ChainError before)."""
    refusal = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}
    fake = node(lambda body, _: (200, refusal) if isinstance(body, list) else (200, _result(body)))
    contracts = {
        name: DeployedContract(address="0x" + f"{i:040x}", abi=[])
        for i, name in enumerate(("LicenceRegistry", "RoyaltyLedger"), start=1)
    }
    manifest = Manifest(chain_id=1, genesis_hash="0x", deploy_block=0, deployer="0x", network="x", contracts=contracts)
    answers = Chain(fake.url, manifest).rpc_batch([("eth_call", ["x"]), ("eth_getLogs", ["y"])])
    assert [a["result"] for a in answers] == ["eth_call:x", "eth_getLogs:y"]


def test_batch_answers_in_any_order_come_back_in_request_order(node: Callable[[Answer], FakeNode]) -> None:
    fake = node(lambda body, _: (200, [_result(r) for r in reversed(body)]))
    assert Transport(fake.url).batch([("eth_a", [1]), ("eth_b", [2]), ("eth_c", [3])]) == [
        "eth_a:1",
        "eth_b:2",
        "eth_c:3",
    ]


def test_error_answers_become_rpc_errors_with_code_and_data(node: Callable[[Answer], FakeNode]) -> None:
    error = {"code": 3, "message": "execution reverted", "data": "0x1234abcd"}

    def answer(body: Any, _: int) -> tuple[int, Any]:
        if isinstance(body, list):
            return 200, [_result(body[0]), {"jsonrpc": "2.0", "id": body[1]["id"], "error": error}]
        return 200, {"jsonrpc": "2.0", "id": body["id"], "error": error}

    transport = Transport(node(answer).url)
    with pytest.raises(RpcError) as refused:
        transport.call("eth_call", {})
    assert (str(refused.value), refused.value.code, refused.value.data) == (
        "eth_call: execution reverted",
        3,
        "0x1234abcd",
    )
    with pytest.raises(RpcError, match=r"^eth_b: execution reverted$"):
        transport.batch([("eth_a", [1]), ("eth_b", [2])])
    raw = transport.batch_answers([("eth_a", [1]), ("eth_b", [2])])
    assert raw[0]["result"] == "eth_a:1" and raw[1]["error"] == error


def test_a_missing_batch_answer_is_an_error(node: Callable[[Answer], FakeNode]) -> None:
    fake = node(lambda body, _: (200, [_result(body[0])]))
    with pytest.raises(RpcError, match="eth_b: the node answered 1 of 2 batched requests"):
        Transport(fake.url).batch([("eth_a", [1]), ("eth_b", [2])])


def test_http_errors_are_not_retried(node: Callable[[Answer], FakeNode]) -> None:
    fake = node(lambda body, _: (503, {"message": "overloaded"}))
    with pytest.raises(RpcError, match="503"):
        Transport(fake.url).call("eth_blockNumber")
    assert len(fake.requests) == 1


def test_dropped_connections_are_retried(node: Callable[[Answer], FakeNode]) -> None:
    fake = node(lambda body, n: None if n < 3 else (200, {"jsonrpc": "2.0", "id": body["id"], "result": "0x10"}))
    assert Transport(fake.url).block_number() == 16
    assert len(fake.requests) == 3


def test_a_node_that_never_answers_is_an_rpc_error_after_the_attempts() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(RpcError, match=r"Connection refused|Max retries"):
        Transport(url, attempts=2).chain_id()
    with pytest.raises(RpcError, match=f"no JSON-RPC answer from {url} within 1s"):
        wait_for_rpc(url, timeout=1)


def test_web3_goes_through_the_transport_and_asks_the_chain_id_once(node: Callable[[Answer], FakeNode]) -> None:
    fake = node(lambda body, _: (200, {"jsonrpc": "2.0", "id": body["id"], "result": "0x7a69"}))
    w3 = Web3(Transport(fake.url).provider())
    assert w3.eth.chain_id == 31337
    assert w3.eth.chain_id == 31337
    assert [r["method"] for r in fake.requests] == ["eth_chainId"]


def test_the_backoff_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight attempts, waiting 0.5 s, then doubling up to 16 s (about 48 s in all)."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RpcError):
        Transport(url).block_number()
    assert waits == [0.5, 1, 2, 4, 8, 16, 16]
