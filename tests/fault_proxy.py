"""A TCP fault proxy for database outages: the product talks to the real PostgreSQL through it.

`outage(seconds)` drops every connection and refuses new ones (the port is closed) for that long,
then accepts again (or at `end_outage()`): a server restart or failover, without touching the server. `outage_on(pattern,
seconds, nth)` does it when a client sends `pattern` (SQL text, e.g. b"UPDATE leases") the nth time;
that message never reaches the server.
"""

from __future__ import annotations

import socket
import threading
import time


class FaultProxy:
    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)):
        self.target = target
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        self.down_until = 0.0
        self.trigger: tuple[bytes, float, int] | None = None
        self.outages: list[tuple[float, float]] = []  # (start, end) in time.time()
        self.listener = self._listen(0)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """`url` (a PostgreSQL URL on the target) pointed at the proxy instead."""
        return url.replace(f"{self.target[0]}:{self.target[1]}", f"127.0.0.1:{self.port}")

    def outage_on(self, pattern: bytes, seconds: float, nth: int = 1) -> None:
        self.trigger = (pattern, seconds, nth)

    def outage(self, seconds: float) -> None:
        with self.lock:
            self.down_until = time.monotonic() + seconds
            self.outages.append((time.time(), time.time() + seconds))
            _kill(self.listener)  # new connections: refused
            for c in self.conns:
                _kill(c)
            self.conns.clear()

    def end_outage(self) -> None:
        """The outage under way ends now (for one held until the test has seen what it needs)."""
        with self.lock:
            self.down_until = time.monotonic()
            if self.outages:
                self.outages[-1] = (self.outages[-1][0], time.time())

    @property
    def fired(self) -> bool:
        return bool(self.outages)

    def close(self) -> None:
        self.closed = True
        self.outage(0)

    def _listen(self, port: int) -> socket.socket:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        return s

    def _accept(self) -> None:
        while not self.closed:
            with self.lock:
                listener = None
                if time.monotonic() >= self.down_until:
                    if self.listener.fileno() == -1:
                        self.listener = self._listen(self.port)
                    listener = self.listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                listener.settimeout(0.2)
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                continue
            for sock in (client, upstream):  # forward each message at once: with Nagle's algorithm against the
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # peer's delayed ACK, ~40 ms a round trip
            with self.lock:
                if time.monotonic() < self.down_until:  # an outage began meanwhile
                    _kill(client)
                    _kill(upstream)
                    continue
                self.conns |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_client and self._fires(data):
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _kill(s)

    def _fires(self, data: bytes) -> bool:
        with self.lock:
            trig = self.trigger
            if trig is None or trig[0] not in data:
                return False
            pattern, seconds, nth = trig
            self.trigger = (pattern, seconds, nth - 1) if nth > 1 else None
        if nth > 1:
            return False
        self.outage(seconds)
        return True


def _kill(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
