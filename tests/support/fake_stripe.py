"""A stand-in for Stripe's API on 127.0.0.1: records what the `stripe` library sends and answers
the way Stripe does. Also signs webhook payloads with Stripe's scheme."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class FakeStripe:
    api_base: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: tuple[int, str] | None = None


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=TIMESTAMP,v1=HMAC-SHA256(secret, 'TIMESTAMP.PAYLOAD')."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _handler(state: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            body: dict[str, Any]
            state.requests.append({"path": self.path, "form": form, "authorization": self.headers.get("Authorization")})
            if state.fail_with:
                status, message = state.fail_with
                body = {"error": {"message": message, "type": "invalid_request_error"}}
            elif self.path == "/v1/checkout/sessions":
                status = 200
                session_id = f"cs_test_{len(state.requests):04d}"
                body = {
                    "id": session_id,
                    "object": "checkout.session",
                    "mode": "payment",
                    "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                    "amount_total": int(form.get("line_items[0][price_data][unit_amount]", 0)),
                    "currency": form.get("line_items[0][price_data][currency]"),
                    "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                }
            else:
                status, body = 404, {"error": {"message": "Unrecognized request URL", "type": "invalid_request_error"}}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    state = FakeStripe(api_base="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.api_base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
