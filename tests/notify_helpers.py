"""Real receivers for the watch tests: a webhook (HTTP server) and an SMTP server (aiosmtpd), on 127.0.0.1."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

LINE = re.compile(r"^\[(new|changed v\d+|withdrawn)\] 索引号 (.+)$", re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def documents_named(body: str) -> list[tuple[str, str]]:
    """(kind, 索引号) of each document a message names."""
    return [(kind.split()[0], index_no) for kind, index_no in LINE.findall(body)]


class Webhook:
    """A webhook receiver. `modes` are the answers to the next requests in turn ("ok", "500", "hang"),
    then "ok". Every request is recorded with its Idempotency-Key, body and the answer it got."""

    def __init__(self, port: int = 0):
        self.port = port or free_port()
        self.modes: list[str] = []
        self.hang_seconds = 3.0
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = None

    def start(self) -> Webhook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.lock:
                    mode = hook.modes.pop(0) if hook.modes else "ok"
                    hook.requests.append(
                        {
                            "key": self.headers.get("Idempotency-Key"),
                            "mode": mode,
                            "json": json.loads(body or b"{}"),
                            "at": time.monotonic(),
                        }
                    )
                if mode == "hang":
                    time.sleep(hook.hang_seconds)
                    return  # no answer: the connection just closes
                self.send_response(500 if mode == "500" else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[dict]:
        """The messages answered 200, each key once at most (a receiver that dedupes by key)."""
        with self.lock:
            return [r for r in self.requests if r["mode"] == "ok"]


class Mailbox:
    """An SMTP server; `messages` holds each email received (as email.message.Message)."""

    class _Handler:
        def __init__(self, box):
            self.box = box

        async def handle_DATA(self, server, session, envelope):
            self.box.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    def __init__(self):
        self.messages = []
        self.port = free_port()
        self.controller = Controller(self._Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=xxgk@example.org&to=watcher@example.org&mode=insecure"

    @staticmethod
    def subject(msg) -> str:
        return str(make_header(decode_header(msg["Subject"])))

    @staticmethod
    def text(msg) -> str:
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")
        return ""
