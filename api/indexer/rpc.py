"""A small JSON-RPC client for the indexer: batches, retries on transport errors, no web3."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential


class RpcError(Exception):
    """The node answered with an error, or not at all."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class JsonRpc:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout)
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._client.close()

    @retry(
        retry=retry_if_exception_type(httpx.TransportError),
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    )
    def _post(self, payload: Any) -> Any:
        response = self._client.post(self.url, json=payload)
        response.raise_for_status()
        return response.json()

    def call(self, method: str, *params: Any) -> Any:
        try:
            answer = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        except httpx.HTTPError as err:
            raise RpcError(f"{method}: {err}") from err
        if "error" in answer:
            error = answer["error"]
            raise RpcError(f"{method}: {error.get('message')}", error.get("code"))
        return answer["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params} for i, (method, params) in enumerate(calls)
        ]
        try:
            answers = self._post(payload)
        except httpx.HTTPError as err:
            raise RpcError(f"batch: {err}") from err
        if not isinstance(answers, list):  # some nodes refuse batches: fall back to single calls
            return [self.call(method, *params) for method, params in calls]
        by_id = {a.get("id"): a for a in answers}
        results = []
        for i, (method, _) in enumerate(calls):
            answer = by_id.get(i)
            if answer is None or "error" in answer:
                message = (answer or {}).get("error", {}).get("message", "no answer")
                raise RpcError(f"{method}: {message}")
            results.append(answer["result"])
        return results

    # ------------------------------------------------------------------ typed helpers

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def block(self, number: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.call("eth_getBlockByNumber", hex(number), False)
        return result

    def blocks(self, numbers: list[int]) -> list[dict[str, Any] | None]:
        return self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])

    def logs(self, addresses: list[str], topics: list[str], from_block: int, to_block: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call(
            "eth_getLogs",
            {"address": addresses, "topics": [topics], "fromBlock": hex(from_block), "toBlock": hex(to_block)},
        )
        return result
