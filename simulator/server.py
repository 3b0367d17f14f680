"""The HTTP/1.1 server: parses requests, applies faults, routes, records, and writes responses."""

from __future__ import annotations

import socket
import struct
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from .faults import Context
from .response import Headers, RequestRecord, Response

_FILLER = (b"<p>" + "开化县政府信息公开填充内容。".encode() * 20 + b"</p>\n") * 64


def merged_params(query: str, body: bytes, content_type: str) -> dict:
    """Query-string and form-body parameters merged (first value of each key wins)."""
    params: dict = {}
    pairs = parse_qsl(query, keep_blank_values=True)
    if body and ("x-www-form-urlencoded" in content_type or not content_type):
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    for k, v in pairs:
        params.setdefault(k.strip().lower(), v)
    return params


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "JCMS/4.2"  # the portal's own Server header (PortalSimulator sets it per family)
    sim = None  # the PortalSimulator, set on a subclass per server

    def log_message(self, format, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._handle()

    do_POST = do_HEAD = do_GET

    def _handle(self):
        started = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        sim = self.sim
        headers = Headers(self.headers.items())
        ctx = Context(sim.seed, self.command, self.path, path, headers=headers, port=self.server.server_port)
        resp = sim.faults.apply(ctx)
        if resp is None:
            params = merged_params(query, body, self.headers.get("Content-Type", ""))
            resp = sim.site.route(ctx, params)
        for transform in ctx.transforms:
            resp = transform(resp)
        sim.requests.append(
            RequestRecord(self.command, path, query, headers, body, resp.status, started, tuple(ctx.fired))
        )
        self._send(resp)

    def _send(self, resp: Response):
        if resp.action == "reset":
            # SO_LINGER 0: closing sends a TCP RST instead of an orderly FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        size = resp.stream_size if resp.stream_size is not None else len(resp.body)
        reason = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
        ]
        lines.append("Transfer-Encoding: chunked" if resp.action == "endless" else f"Content-Length: {size}")
        lines += [f"{k}: {v}" for k, v in resp.headers.items()]
        if resp.action == "truncate" or self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command == "HEAD":
            self.wfile.write(head)
        elif resp.stream_size is not None:
            self.wfile.write(head)
            self._stream(resp.stream_size)
        elif resp.action == "truncate":
            self.wfile.write(head + resp.body[: len(resp.body) // 2])
            self.close_connection = True
        elif resp.action == "drip":
            self.wfile.write(head)
            step, pause = resp.drip
            for i in range(0, len(resp.body), step):
                time.sleep(pause)
                self.wfile.write(resp.body[i : i + step])
        elif resp.action == "endless":
            self.wfile.write(head)
            self._endless()
        else:
            self.wfile.write(head + resp.body)

    def _endless(self, limit: int = 2 << 30):
        """Chunks until the client hangs up (or 2 GiB, so a stuck test cannot fill the disk)."""
        sent, chunk = 0, b"%x\r\n%s\r\n" % (len(_FILLER), _FILLER)
        try:
            while sent < limit:
                self.wfile.write(chunk)
                sent += len(_FILLER)
        except OSError:
            pass
        self.close_connection = True

    def _stream(self, size: int):
        left = size
        while left > 0:
            chunk = _FILLER[:left]
            self.wfile.write(chunk)
            left -= len(chunk)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._open: set = set()

    def process_request(self, request, client_address):
        self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up kept-alive connections, so nothing is served after stop()."""
        for sock in list(self._open):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):  # clients hanging up are not errors here
        pass
