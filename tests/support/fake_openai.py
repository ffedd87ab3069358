"""A small OpenAI-compatible HTTP server on 127.0.0.1 that answers from a script, for driving the
real `openai` SDK in tests: completions, invalid JSON, errors, hangs and (slow) streams."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    error: str = "upstream error"
    hang: float = 0.0
    """Seconds to wait before answering (longer than the client's timeout = a hang)."""
    stream_chunks: list[str] | None = None
    chunk_delay: float = 0.0
    prompt_tokens: int = 40
    completion_tokens: int = 12


@dataclass
class FakeOpenAI:
    base_url: str
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: Reply(content="ok"))
    streams_finished: int = 0
    streams_cut: int = 0

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n".encode()


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_GET(self) -> None:
            if self.path.endswith("/models"):
                self._json(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": "upstream-model", "object": "model", "created": 0, "owned_by": "test"}],
                    },
                )
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            body["_authorization"] = self.headers.get("Authorization")
            state.requests.append(body)
            reply = state.replies.popleft() if state.replies else state.default
            if reply.hang:
                time.sleep(reply.hang)
            if reply.status != 200:
                self._json(reply.status, {"error": {"message": reply.error, "type": "invalid_request_error"}})
                return
            model = body.get("model", "upstream-model")
            if not body.get("stream"):
                self._json(200, _completion(reply, model))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            chunks = reply.stream_chunks or [reply.content]
            try:
                self.wfile.write(_chunk(model, {"role": "assistant", "content": ""}))
                for piece in chunks:
                    time.sleep(reply.chunk_delay)
                    self.wfile.write(_chunk(model, {"content": piece}))
                    self.wfile.flush()
                self.wfile.write(_chunk(model, {}, finish="stop"))
                if (body.get("stream_options") or {}).get("include_usage"):
                    usage = {
                        "prompt_tokens": reply.prompt_tokens,
                        "completion_tokens": len(chunks),
                        "total_tokens": reply.prompt_tokens + len(chunks),
                    }
                    self.wfile.write(_chunk(model, {}, usage=usage))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                state.streams_finished += 1
            except (BrokenPipeError, ConnectionResetError):
                state.streams_cut += 1
            self.close_connection = True

    return Handler


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    """Start the server on a free port; `state.base_url` ends in /v1 as the SDK expects."""
    state = FakeOpenAI(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
