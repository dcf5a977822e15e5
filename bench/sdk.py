"""In-process SDK benchmark: what does ``guard.wrap(client)`` cost per call and per chunk?

Method
------
One process, no network: the openai SDK client's own ``httpx2`` client has a
``MockTransport`` that answers every request at once with the same recorded
Chat Completions stream (``--chunks`` chunks of 4-char prose tokens, a finish
chunk, ``[DONE]``), so what is timed is the SDK, tidegate's transport and the
guard, not a network. Three clients consume the stream with
``for chunk in client.chat.completions.create(..., stream=True)``:

* **plain** -- the client as is;
* **wrapped, no policies** -- ``Guard({"policies": []}).wrap(client)``: the
  transport, the exchange and the stream pump with nothing to scan;
* **wrapped, default policies** -- ``Guard().wrap(client)``: redact PII and
  block secrets on the prompt and on every chunk.

Each measurement is the median over ``--requests`` calls (after a warm-up),
interleaved plain/wrapped so that machine noise hits all three alike.
"Added" is the wrapped median minus the plain median; per chunk it is that
divided by ``--chunks``.

Run: ``.venv/bin/python bench/sdk.py [--requests N] [--chunks K]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

import httpx2
import openai

import tidegate

WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "rain")


def recorded_stream(chunks: int) -> bytes:
    """A Chat Completions SSE body with ``chunks`` content chunks."""
    events = []
    for k in range(chunks):
        delta: dict[str, Any] = {"content": WORDS[k % len(WORDS)] + " "}
        if k == 0:
            delta["role"] = "assistant"
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        events.append({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                       "choices": [choice]})  # fmt: skip
    finish = {"index": 0, "delta": {}, "finish_reason": "stop"}
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [finish]})  # fmt: skip
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return body + b"data: [DONE]\n\n"


def plain_client(body: bytes) -> openai.OpenAI:
    """An openai client whose every request is answered with ``body``."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(base_url="http://bench/v1", api_key="k", http_client=http)


def one_call(client: openai.OpenAI) -> float:
    """Seconds for one streamed call, consumed to the end."""
    start = time.perf_counter()
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Tell me a story."}], stream=True
    )
    for _ in stream:
        pass
    return time.perf_counter() - start


def measure(requests: int, chunks: int) -> dict[str, float]:
    """Median seconds per call for each client."""
    body = recorded_stream(chunks)
    clients = {
        "plain": plain_client(body),
        "wrapped, no policies": tidegate.Guard({"policies": []}).wrap(plain_client(body)),
        "wrapped, default policies": tidegate.Guard().wrap(plain_client(body)),
    }
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(10):  # warm-up
        for client in clients.values():
            one_call(client)
    for _ in range(requests):
        for name, client in clients.items():
            times[name].append(one_call(client))
    return {name: statistics.median(values) for name, values in times.items()}


def render(medians: dict[str, float], chunks: int) -> str:
    """The results as a Markdown table."""
    plain = medians["plain"]
    lines = [
        "| client | median per call | added per call | added per chunk |",
        "| --- | --- | --- | --- |",
    ]
    for name, value in medians.items():
        added = value - plain
        lines.append(
            f"| {name} | {value * 1e3:.2f} ms | {added * 1e3:+.2f} ms | "
            f"{added / chunks * 1e6:+.1f} µs |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=200)
    args = parser.parse_args(argv)
    print(render(measure(args.requests, args.chunks), args.chunks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
